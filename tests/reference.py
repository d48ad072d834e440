"""An independent reference: a fitted network's function written plainly in NumPy from
its weights, in float64, to check what scratchnet computes, prints and records."""

from __future__ import annotations

import numpy as np

HIDDEN = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
}


def hidden_activations(net, X: np.ndarray) -> list[np.ndarray]:
    """a_l = f(a_{l-1} W_l + b_l) of every hidden layer l, a_0 = X, in float64."""
    a = np.asarray(X, dtype=np.float64)
    hidden = []
    for layer in net.layers[:-1]:
        a = HIDDEN[net.activation](
            a @ layer.weight.astype(np.float64) + layer.bias.astype(np.float64)
        )
        hidden.append(a)
    return hidden


def logits(net, X: np.ndarray) -> np.ndarray:
    """z_L = f(... f(X W_1 + b_1) ...) W_L + b_L, in float64."""
    hidden = hidden_activations(net, X)
    a = hidden[-1] if hidden else np.asarray(X, dtype=np.float64)
    last = net.layers[-1]
    return a @ last.weight.astype(np.float64) + last.bias.astype(np.float64)


def probabilities(net, X: np.ndarray) -> np.ndarray:
    """Class probabilities (n, k): [1 - p, p] for one sigmoid unit, else a softmax."""
    z = logits(net, X)
    if z.shape[1] == 1:
        p = 1 / (1 + np.exp(-z[:, 0]))
        return np.column_stack([1 - p, p])
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def predictions(net, X: np.ndarray) -> np.ndarray:
    """The label of the most probable class of each row."""
    return np.asarray(net.classes)[probabilities(net, X).argmax(axis=1)]


def accuracy(net, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predictions(net, X) == np.asarray(y)))


def cross_entropy(net, X: np.ndarray, y: np.ndarray) -> float:
    """-mean log p(y | x)."""
    columns = np.searchsorted(np.asarray(net.classes), y, sorter=np.argsort(net.classes))
    columns = np.argsort(net.classes)[columns]
    p = probabilities(net, X)[np.arange(len(y)), columns]
    return float(-np.mean(np.log(p)))


def expected_calibration_error(probability: np.ndarray, outcome: np.ndarray, n_bins=10) -> float:
    """sum over bins (n_b / n) |mean(outcome) - mean(probability)|, with a loop over the
    bins (low, high] of equal width (0 in the first), the textbook way."""
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for b in range(n_bins):
        inside = (probability > edges[b]) & (probability <= edges[b + 1])
        if b == 0:
            inside |= probability == 0
        if inside.any():
            gap = abs(outcome[inside].mean() - probability[inside].mean())
            ece += inside.mean() * gap
    return ece
