"""Every figure, drawn headless (no display, no pyplot state) and saved as PNG."""

from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..atomic import atomic_write
from ..nn.activations import sigmoid, sigmoid_derivative
from ..nn.losses import binary_cross_entropy
from ..training.history import History

DPI = 110


def plot_cost(
    x: list[int], history: History, path: str | os.PathLike, x_label: str, val_label: str
) -> None:
    """Training cost (and the monitored set's, when measured) against iteration or epoch."""
    _plot_curves(x, history, "loss", path, x_label, val_label,
                 y_label="cost (cross-entropy)", title="Cost during training")  # fmt: skip


def plot_accuracy(
    x: list[int], history: History, path: str | os.PathLike, x_label: str, val_label: str
) -> None:
    """Training accuracy (and the monitored set's) against iteration or epoch."""
    _plot_curves(x, history, "accuracy", path, x_label, val_label,
                 y_label="accuracy", title=f"Training and {val_label} accuracy")  # fmt: skip


def _plot_curves(x, history: History, key: str, path, x_label, val_label, y_label, title):
    """The training curve of ``key`` and, when it was measured, its ``val_`` twin."""
    figure, axes = _figure()
    axes.plot(x, history.column(key), marker="o", markersize=3, label="training")
    if history.records and history.records[0][f"val_{key}"] is not None:
        axes.plot(x, history.column(f"val_{key}"), marker="o", markersize=3, label=val_label)
    axes.set(xlabel=x_label, ylabel=y_label, title=title)
    axes.legend()
    _save(figure, path)


def plot_sigmoid(path: str | os.PathLike) -> None:
    """sigma(z) = 1 / (1 + e^-z) and its derivative sigma(z) (1 - sigma(z))."""
    figure, axes = _figure()
    z = np.linspace(-10, 10, 401)
    axes.plot(z, sigmoid(z), label=r"$\sigma(z) = 1 / (1 + e^{-z})$")
    axes.plot(z, sigmoid_derivative(z), label=r"$\sigma'(z) = \sigma(z)(1 - \sigma(z))$")
    axes.axhline(0.5, color="grey", linewidth=0.5, linestyle="--")
    axes.set(xlabel="z", ylabel="value", title="Sigmoid activation and its derivative")
    axes.legend()
    _save(figure, path)


def plot_cross_entropy(path: str | os.PathLike) -> None:
    """Binary cross-entropy as a function of the predicted probability p, for y = 1 and 0."""
    figure, axes = _figure()
    p = np.linspace(0.001, 0.999, 999)
    z = np.log(p) - np.log1p(-p)  # the logit whose sigmoid is p
    axes.plot(p, binary_cross_entropy(z, 1.0), label=r"$y = 1$: $-\log p$")
    axes.plot(p, binary_cross_entropy(z, 0.0), label=r"$y = 0$: $-\log(1 - p)$")
    axes.set(
        xlabel="predicted probability p of class 1",
        ylabel="loss",
        title="Binary cross-entropy loss",
        ylim=(0, 7),
    )
    axes.legend()
    _save(figure, path)


def _figure() -> tuple[Figure, object]:
    figure = Figure(figsize=(6.4, 4.2), layout="tight")
    axes = figure.add_subplot()
    axes.grid(alpha=0.3)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return figure, axes


def _save(figure: Figure, path: str | os.PathLike) -> None:
    with atomic_write(path) as file:
        figure.savefig(file, format="png", dpi=DPI)
