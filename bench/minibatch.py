"""Mini-batch training speed: seconds per epoch over all 60,000 training images, batch
128, Adam, ReLU, float32, in scratchnet, PyTorch and scikit-learn, and the floor of the
essential matrix products of one epoch done bare in NumPy."""

from __future__ import annotations

import math
import time
import warnings
from itertools import pairwise

import numpy as np

import scratchnet as sn

from . import torch_mlp
from .common import mnist_data, peak_rss_mb

BATCH = 128
LEARNING_RATE = 1e-3


class EpochTimer(sn.Callback):
    def on_train_begin(self, epochs, steps_per_epoch):
        self.times = [time.perf_counter()]

    def on_epoch_end(self, epoch, record):
        self.times.append(time.perf_counter())

    @property
    def seconds(self) -> list[float]:
        return list(np.diff(self.times))


def epoch_seconds(
    impl: str, hidden: list[int], epochs: int, threads: int, samples: int = 60_000
) -> dict:
    """Median seconds per epoch over ``epochs`` epochs after a one-epoch warm-up."""
    X, y, X_test, y_test = mnist_data(tuple(range(10)), "float32")
    X, y = X[:samples], y[:samples]
    seconds = RUNNERS[impl](X, y, X_test, y_test, hidden, epochs + 1, threads)[1:]
    return {
        "seconds_per_epoch": float(np.median(seconds)),
        "runs": seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def _scratchnet(X, y, X_test, y_test, hidden, epochs, threads):
    timer = EpochTimer()
    net = sn.NeuralNet([*hidden, 10], activation="relu", init="he", random_state=0)
    net.fit(X, y, epochs=epochs, batch_size=BATCH, optimizer="adam",
            learning_rate=LEARNING_RATE, log_every=epochs, callbacks=[timer])  # fmt: skip
    return timer.seconds


def _torch(X, y, X_test, y_test, hidden, epochs, threads):
    result = torch_mlp.train(
        X, y, X_test, y_test, hidden=hidden, epochs=epochs, batch_size=BATCH,
        learning_rate=LEARNING_RATE, threads=threads,
    )  # fmt: skip
    return result["epoch_seconds"]


def _sklearn(X, y, X_test, y_test, hidden, epochs, threads):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=hidden, activation="relu", solver="adam", batch_size=BATCH,
        learning_rate_init=LEARNING_RATE, max_iter=epochs, tol=0.0,
        n_iter_no_change=epochs + 1, alpha=0.0, random_state=0,
    )  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return [(time.perf_counter() - start) / epochs] * epochs  # no per-epoch clock inside


def _floor(X, y, X_test, y_test, hidden, epochs, threads):
    """Per epoch: for every batch, each layer's forward product, its weight-gradient
    product and (above the first layer) the product that carries the gradient down."""
    widths = [X.shape[1], *hidden, 10]
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((a, b)).astype(X.dtype) for a, b in pairwise(widths)]
    outs = [np.empty((BATCH, b), X.dtype) for b in widths[1:]]
    deltas = [rng.standard_normal((BATCH, b)).astype(X.dtype) for b in widths[1:]]
    grads = [np.empty_like(w) for w in weights]
    downs = [np.empty((BATCH, a), X.dtype) for a in widths[:-1]]
    batch = np.ascontiguousarray(X[:BATCH])
    steps = math.ceil(len(X) / BATCH)

    def epoch():
        for _ in range(steps):
            inputs = batch
            for weight, out in zip(weights, outs, strict=True):
                np.matmul(inputs, weight, out=out)
                inputs = out
            for index in range(len(weights) - 1, -1, -1):
                below = batch if index == 0 else outs[index - 1]
                np.matmul(below.T, deltas[index], out=grads[index])
                if index:
                    np.matmul(deltas[index], weights[index].T, out=downs[index])

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return times


RUNNERS = {"scratchnet": _scratchnet, "torch": _torch, "sklearn": _sklearn, "floor": _floor}

SCALING_SAMPLES = (1_000, 3_000, 10_000, 30_000, 60_000)
SCALING_WIDTHS = (64, 128, 256, 512, 1024, 2048)


def scaling(impl: str, epochs: int, threads: int) -> dict:
    """Seconds per epoch of 784-h-10 over a grid: samples at h = 256, widths at 60,000."""
    X, y, X_test, y_test = mnist_data(tuple(range(10)), "float32")
    grid = [(n, 256) for n in SCALING_SAMPLES] + [(60_000, w) for w in SCALING_WIDTHS if w != 256]
    cells = []
    for samples, width in grid:
        times = RUNNERS[impl](
            X[:samples], y[:samples], X_test, y_test, [width], epochs + 1, threads
        )
        cells.append({"samples": samples, "width": width, "seconds": float(np.median(times[1:]))})
    return {"cells": cells, "peak_rss_mb": peak_rss_mb()}
