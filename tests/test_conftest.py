"""The tests find MNIST the way scratchnet does, and say where, or why they skip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scratchnet.data.mnist import MNIST_FILES

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")
NEEDS_MNIST = """
def test_needs_mnist(mnist_dir):
    assert (mnist_dir / "t10k-labels-idx1-ubyte.gz").is_file()
"""


@pytest.fixture
def session(pytester, monkeypatch):
    """A pytest session over one test that needs MNIST, with our conftest, no
    $SCRATCHNET_DATA_DIR, no CI variable and an empty cache."""
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_it=NEEDS_MNIST)
    monkeypatch.delenv("SCRATCHNET_DATA_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(pytester.path / "cache"))
    return pytester


def fill(folder: Path, mnist_dir: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for file in MNIST_FILES:
        shutil.copyfile(mnist_dir / file.gz_name, folder / file.gz_name)
    return folder


def test_the_cache_that_scratchnet_train_fills_is_found(session, mnist_dir):
    cache = fill(session.path / "cache" / "scratchnet", mnist_dir)
    result = session.runpytest_subprocess("-ra")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"MNIST: {cache} (from the cache)"])


def test_the_environment_variable_and_the_option_come_first(session, mnist_dir, monkeypatch):
    folder = fill(session.path / "elsewhere", mnist_dir)
    monkeypatch.setenv("SCRATCHNET_DATA_DIR", str(folder))
    result = session.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"MNIST: {folder} (from $SCRATCHNET_DATA_DIR)"])
    result = session.runpytest_subprocess("--mnist-dir", str(folder))
    result.stdout.fnmatch_lines([f"MNIST: {folder} (from --mnist-dir)"])


def test_without_the_files_the_tests_say_why_they_skip(session):
    result = session.runpytest_subprocess("-ra")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["MNIST: not found (*); the tests that need it will be skipped", "*MNIST files not found*"]
    )


def test_in_ci_missing_files_fail(session, monkeypatch):
    monkeypatch.setenv("CI", "1")
    result = session.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CI must provide them*"])
