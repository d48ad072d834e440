"""Shared fixtures.

Tests that need the real MNIST files read them from the folder named by
SCRATCHNET_DATA_DIR. In CI (the CI environment variable is set) a missing folder is a
failure; elsewhere those tests are skipped with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from scratchnet.data.mnist import ENV_DATA_DIR, MNIST_FILES


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the four official MNIST files."""
    folder = os.environ.get(ENV_DATA_DIR)
    present = folder and all(
        (Path(folder) / f.gz_name).is_file() or (Path(folder) / f.name).is_file()
        for f in MNIST_FILES
    )
    if not present:
        reason = f"the MNIST files are not in ${ENV_DATA_DIR} ({folder!r})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide them")
        pytest.skip(reason)
    return Path(folder)


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the independent reference for training updates. The test extra installs
    it; without it these tests are skipped, except in CI, where they fail."""
    try:
        import torch
    except ImportError:
        reason = "PyTorch is not installed (pip install '.[test]' installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the PyTorch comparisons")
        pytest.skip(reason)
    torch.set_num_threads(1)  # tiny problems: threads would only wait on each other
    return torch


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def blobs():
    """A small, separable two-class problem: (X float64 (120, 6), y in {0, 1})."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, size=120)
    X = rng.normal(size=(120, 6)) + 1.5 * y[:, None]
    return X, y


@pytest.fixture
def three_blobs():
    """A small three-class problem: (X float64 (150, 5), y in {3, 5, 8})."""
    rng = np.random.default_rng(11)
    labels = np.array([3, 5, 8])
    index = rng.integers(0, 3, size=150)
    centers = rng.normal(scale=3.0, size=(3, 5))
    return centers[index] + rng.normal(size=(150, 5)), labels[index]


@pytest.fixture
def waves():
    """A small smooth regression problem: (X float64 (150, 4), Y float64 (150, 3)),
    Y[:, 0] = sin(2 x0) + x1 x2 / 2 - x3 plus a little noise, the other columns other
    functions of X."""
    rng = np.random.default_rng(13)
    X = rng.uniform(-1.5, 1.5, size=(150, 4))
    Y = np.column_stack(
        [
            np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] / 2 - X[:, 3],
            np.cos(X[:, 1]) * 3 + 10,
            X[:, 0] ** 2 - X[:, 2],
        ]
    )
    return X, Y + rng.normal(scale=0.05, size=Y.shape)
