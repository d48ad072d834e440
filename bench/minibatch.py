"""Mini-batch training speed: seconds per epoch over all 60,000 training images, batch
128, Adam, ReLU, float32, in scratchnet, PyTorch and scikit-learn, and the floors: the
essential matrix products of one epoch done bare in NumPy, on BLAS's threads or in
scratchnet's fixed parts, with or without the Adam updates."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext

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


def _floor(X, y, X_test, y_test, hidden, epochs, threads, parts=False, update=False):
    """Per epoch, the essential work of ``bare_epoch``: the products on BLAS's own threads
    over whole batches, or (``parts``) in scratchnet's fixed row parts side by side on one
    BLAS thread each, and with ``update`` the Adam update after every batch."""
    from scratchnet.nn.parallel import Team
    from scratchnet.training.threads import one_blas_thread

    team = Team(threads)
    epoch = bare_epoch(X, hidden, BATCH, team, parts=parts, update=update)
    times = []
    with one_blas_thread() if parts else nullcontext():
        for _ in range(epochs):
            start = time.perf_counter()
            epoch()
            times.append(time.perf_counter() - start)
    team.close()
    return times


def bare_epoch(
    X, hidden, batch_size: int, team, parts=False, products=True, update=False
) -> Callable[[], None]:
    """A function that does one epoch's essential work over the rows of ``X`` in batches
    of ``batch_size`` (the last one smaller), bare in NumPy on random weights: for every
    batch, each layer's forward product, its weight-gradient product and (above the first
    layer) the product that carries the gradient down.

    With ``parts`` each batch is cut into row parts as scratchnet cuts it (``parts_of``,
    with this network's fewest rows per part), run side by side by ``team``, each with
    its own buffers and gradient. With ``update`` each
    batch ends with what training then does: the parts' gradients added (with parts) and
    scratchnet's Adam update, over flat halves side by side. Without ``products`` only the
    updates run."""
    from scratchnet.nn.parallel import fewest_part_rows, parts_of
    from scratchnet.nn.parameters import Parameters
    from scratchnet.nn.propagation import multiply_adds_per_row

    widths = [X.shape[1], *hidden, 10]
    rng = np.random.default_rng(0)
    params = Parameters(widths, X.dtype)
    params.flat[:] = rng.standard_normal(params.count) * 0.05
    fewest = fewest_part_rows(multiply_adds_per_row(widths, training=True))
    cut = (lambda rows: parts_of(rows, fewest)) if parts else (lambda rows: [slice(0, rows)])
    buffers = [_Products(widths, batch_size, X.dtype, rng) for _ in cut(batch_size)]
    grads = [params.zeros_like() for _ in buffers]
    adam = _adam_step(params.flat, team) if update else None
    batch = np.ascontiguousarray(X[:batch_size])
    full, rest = divmod(len(X), batch_size)
    sizes = [batch_size] * full + ([rest] if rest else [])

    def part(k: int, span: slice) -> None:
        buffers[k].run(batch[span], params, grads[k])

    def epoch() -> None:
        for m in sizes:
            spans = cut(m)
            if products and parts:
                team.map(part, list(enumerate(spans)))
            elif products:
                part(0, spans[0])
            if adam:
                adam([grad.flat for grad in grads[: len(spans)]])

    return epoch


class _Products:
    """Buffers for the products of batches of at most ``rows`` rows; random deltas."""

    def __init__(self, widths, rows: int, dtype, rng):
        self.outs = [np.empty((rows, b), dtype) for b in widths[1:]]
        self.deltas = [rng.standard_normal((rows, b)).astype(dtype) for b in widths[1:]]
        self.downs = [np.empty((rows, a), dtype) for a in widths[:-1]]

    def run(self, x: np.ndarray, params, grads) -> None:
        """Forward through ``params``, then write each dJ/dW_l into ``grads``."""
        m, inputs = len(x), x
        for layer, out in zip(params.layers, self.outs, strict=True):
            np.matmul(inputs, layer.weight, out=out[:m])
            inputs = out[:m]
        for index in range(len(params.layers) - 1, -1, -1):
            below = x if index == 0 else self.outs[index - 1][:m]
            delta = self.deltas[index][:m]
            np.matmul(below.T, delta, out=grads.layers[index].weight)
            if index:
                np.matmul(delta, params.layers[index].weight.T, out=self.downs[index][:m])


def _adam_step(flat: np.ndarray, team) -> Callable[[list[np.ndarray]], None]:
    """A function that does one step of scratchnet's Adam on ``flat`` from the sum of
    the given flat gradients, over flat halves side by side, as training does."""
    from scratchnet.nn.optimizers import Adam
    from scratchnet.nn.parallel import halves
    from scratchnet.nn.propagation import add_parts

    optimizer, spans = Adam(), halves(flat.size)
    state = optimizer.init(flat)
    total = np.zeros_like(flat)

    def step(gradients: list[np.ndarray]) -> None:
        coefficients = optimizer.advance(state, LEARNING_RATE)
        summed = gradients[0] if len(gradients) == 1 else total  # one is used as it is

        def update_span(span: slice) -> None:
            if len(gradients) > 1:
                add_parts([gradient[span] for gradient in gradients], total[span])
            optimizer.update_span_(flat, summed, state, coefficients, span)

        team.map(update_span, [(span,) for span in spans])

    return step


def _parts_floor(X, y, X_test, y_test, hidden, epochs, threads):
    return _floor(X, y, X_test, y_test, hidden, epochs, threads, parts=True)


def _parts_update_floor(X, y, X_test, y_test, hidden, epochs, threads):
    return _floor(X, y, X_test, y_test, hidden, epochs, threads, parts=True, update=True)


RUNNERS = {
    "scratchnet": _scratchnet,
    "torch": _torch,
    "sklearn": _sklearn,
    "floor": _floor,
    "parts_floor": _parts_floor,
    "parts_update_floor": _parts_update_floor,
}

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
