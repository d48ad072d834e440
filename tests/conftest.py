"""Shared fixtures.

Property-based fuzz tests (marked ``fuzz``) run a bounded number of examples, the same
ones every run; ``HYPOTHESIS_PROFILE=fuzz pytest -m fuzz`` runs them long with fresh ones.

Tests that need the real MNIST files find them the way scratchnet does: the folder given
with ``pytest --mnist-dir DIR``, then $SCRATCHNET_DATA_DIR, then the cache folder that
``scratchnet train`` fills on its first run (~/.cache/scratchnet). The header of every
test session says which folder is used. Without the files those tests are skipped with
that reason; in CI (the CI environment variable is set) they fail instead.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from scratchnet.data.mnist import ENV_DATA_DIR, MNIST_FILES, cache_dir
from scratchnet.nn import parallel

USER_CACHE = cache_dir()  # read before any test isolates the cache

# Fuzz tests run 100 examples each in the suite; HYPOTHESIS_PROFILE=fuzz runs 20,000.
settings.register_profile("ci", max_examples=100, derandomize=True)
settings.register_profile("fuzz", max_examples=20_000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--mnist-dir", help="folder holding the four MNIST files")


def mnist_candidates(config) -> list[tuple[str, Path]]:
    """(where it came from, folder) in scratchnet's lookup order."""
    candidates = []
    if config.getoption("--mnist-dir"):
        candidates.append(("--mnist-dir", Path(config.getoption("--mnist-dir"))))
    if os.environ.get(ENV_DATA_DIR):
        candidates.append((f"${ENV_DATA_DIR}", Path(os.environ[ENV_DATA_DIR])))
    candidates.append(("the cache", USER_CACHE))
    return candidates


def holds_mnist(folder: Path) -> bool:
    return all((folder / f.gz_name).is_file() or (folder / f.name).is_file() for f in MNIST_FILES)


def find_mnist(config) -> tuple[str, Path] | None:
    return next(((how, f) for how, f in mnist_candidates(config) if holds_mnist(f)), None)


def pytest_report_header(config):
    found = find_mnist(config)
    if found:
        return f"MNIST: {found[1]} (from {found[0]})"
    searched = ", ".join(f"{how} {folder}" for how, folder in mnist_candidates(config))
    return f"MNIST: not found ({searched}); the tests that need it will be skipped"


@pytest.fixture(scope="session")
def mnist_dir(pytestconfig) -> Path:
    """The folder holding the four official MNIST files."""
    found = find_mnist(pytestconfig)
    if found is None:
        searched = ", ".join(f"{how} {folder}" for how, folder in mnist_candidates(pytestconfig))
        reason = (
            f"MNIST files not found (searched {searched}): run `scratchnet train` once, set "
            f"${ENV_DATA_DIR}, or pass --mnist-dir"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide them")
        pytest.skip(reason)
    return found[1]


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the independent reference for training updates. It is not in the test
    extra (its default build is several GB); CI installs its CPU build. Without it these
    tests are skipped, except in CI, where they fail."""
    try:
        import torch
    except ImportError:
        reason = "PyTorch is not installed (its CPU build: see the README's Set up)"
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


@pytest.fixture
def small_chunks_cut(monkeypatch):
    """Cut every chunk of at least 2 x MIN_PART_ROWS rows in two, however little work its
    parts do: the small networks of a test then take the two-part path that large
    networks take (``nn/parallel.py``)."""
    monkeypatch.setattr(parallel, "MIN_PART_WORK", 0)


@pytest.fixture
def fails_instead_of_hanging():
    """A test that could block forever on a regression (opening a FIFO waits for a
    writer) fails after 10 s instead, with TimeoutError."""

    def give_up(signum, frame):
        raise TimeoutError("blocked for 10 s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
