"""Every figure, drawn headless (no display, no pyplot state) and saved as PNG."""

from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .activations import sigmoid, sigmoid_derivative
from .atomic import atomic_write
from .losses import binary_cross_entropy
from .training import History

DPI = 110


def plot_cost(
    x: list[int], history: History, path: str | os.PathLike, x_label: str, val_label: str
) -> None:
    """Training cost (and validation cost, when measured) against iteration or epoch."""
    figure, axes = _figure()
    axes.plot(x, history.column("loss"), marker="o", markersize=3, label="training")
    if history.records and history.records[0]["val_loss"] is not None:
        axes.plot(x, history.column("val_loss"), marker="o", markersize=3, label=val_label)
        axes.legend()
    axes.set(xlabel=x_label, ylabel="cost (cross-entropy)", title="Cost during training")
    _save(figure, path)


def plot_accuracy(
    x: list[int], history: History, path: str | os.PathLike, x_label: str, val_label: str
) -> None:
    """Training and validation accuracy against iteration or epoch."""
    figure, axes = _figure()
    axes.plot(x, history.column("accuracy"), marker="o", markersize=3, label="training")
    if history.records and history.records[0]["val_accuracy"] is not None:
        axes.plot(x, history.column("val_accuracy"), marker="o", markersize=3, label=val_label)
    axes.set(xlabel=x_label, ylabel="accuracy", title=f"Training and {val_label} accuracy")
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
