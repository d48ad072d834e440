"""Helpers shared by the benchmark jobs: data, timing, memory."""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from functools import cache
from itertools import pairwise

import numpy as np

import scratchnet as sn


@cache
def tutorial_data(dtype: str = "float64"):
    """The tutorial's data, in its order: X_train, y_train, X_test, y_test."""
    data = sn.shuffle_like_tutorial(sn.load_mnist((1, 2)), seed=42)
    return (
        sn.preprocess(data.x_train, dtype),
        data.y_train,
        sn.preprocess(data.x_test, dtype),
        data.y_test,
    )


@cache
def mnist_data(digits: tuple[int, ...], dtype: str = "float32"):
    """All training and test images of ``digits``, class-index labels."""
    data = sn.load_mnist(digits)
    return (
        sn.preprocess(data.x_train, dtype),
        data.y_train,
        sn.preprocess(data.x_test, dtype),
        data.y_test,
    )


def seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def repeated(function: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        function()
    return [seconds(function) for _ in range(repeats)]


def median(values: list[float]) -> float:
    return statistics.median(values)


# What the tutorial run uses of scratchnet. ``import scratchnet`` imports its modules when a
# name is first used (since 53b2812); when the memory budget was set it imported them all.
TUTORIAL_RUN_NAMES = ("NeuralNet", "load_mnist", "preprocess", "shuffle_like_tutorial",
                      "tutorial_random_state")  # fmt: skip


def baseline_rss(threads: int) -> dict:
    """Peak memory of the interpreter with NumPy alone (``bare``), then with the modules
    of scratchnet the tutorial run uses imported, and the libraries they import
    (``peak_rss_mb``): nothing loaded."""
    bare = peak_rss_mb()
    for name in TUTORIAL_RUN_NAMES:
        getattr(sn, name)
    return {"bare_peak_rss_mb": bare, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB: Linux's VmHWM, which starts
    afresh when the worker's program is loaded (getrusage's ru_maxrss does not: a worker
    started by a larger parent reported the parent's peak, 41 to 47 MiB for a worker that
    used 26), else ru_maxrss (KiB on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def initial_weights(widths: tuple[int, ...], dtype: str, seed: int = 0) -> list[np.ndarray]:
    """LeCun-normal weights (fan_in, fan_out) shared by every implementation of a job."""
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(dtype)
        for fan_in, fan_out in pairwise(widths)
    ]
