"""Weights and biases of every layer, stored as views into one flat array.

The flat layout (all weight matrices in layer order, then all biases) lets an optimizer
update every parameter with a handful of whole-array operations, lets weight decay touch
the weight block alone, and makes copying the best weights a single ``copyto``.
Gradients use the very same structure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np


def parameter_count(widths: Sequence[int]) -> int:
    """Weights and biases of a network with layer ``widths`` (input first):
    sum_l (w_{l-1} w_l + w_l)."""
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in pairwise(widths))


@dataclass(frozen=True)
class Dense:
    """A fully connected layer: ``z = a @ weight + bias``."""

    weight: np.ndarray  # (fan_in, fan_out)
    bias: np.ndarray  # (fan_out,)


class Parameters:
    """One Dense per layer, all backed by ``flat``.

    ``widths`` lists every layer width including the input: (784, 196, 1) gives
    W1 (784, 196), W2 (196, 1), b1 (196,), b2 (1,).
    """

    def __init__(self, widths: Sequence[int], dtype: np.dtype):
        self.widths = tuple(int(w) for w in widths)
        shapes = list(pairwise(self.widths))
        n_weights = sum(fan_in * fan_out for fan_in, fan_out in shapes)
        self.flat = np.zeros(n_weights + sum(self.widths[1:]), dtype=dtype)
        self.weights = self.flat[:n_weights]
        self.layers = _carve(self.flat, shapes, n_weights)

    def zeros_like(self) -> Parameters:
        return Parameters(self.widths, self.flat.dtype)

    def copy(self) -> Parameters:
        twin = self.zeros_like()
        twin.flat[:] = self.flat
        return twin

    @property
    def count(self) -> int:
        return self.flat.size

    def __getstate__(self) -> dict:
        """Pickle the widths and the flat array only: the views are rebuilt on loading
        (pickled one by one, they would become copies that training no longer reaches)."""
        return {"widths": self.widths, "flat": self.flat}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["widths"], state["flat"].dtype)
        self.flat[:] = state["flat"]


def _carve(flat: np.ndarray, shapes: list[tuple[int, int]], n_weights: int) -> list[Dense]:
    """Cut ``flat`` into per-layer weight and bias views."""
    layers = []
    weight_at, bias_at = 0, n_weights
    for fan_in, fan_out in shapes:
        weight = flat[weight_at : weight_at + fan_in * fan_out].reshape(fan_in, fan_out)
        bias = flat[bias_at : bias_at + fan_out]
        layers.append(Dense(weight, bias))
        weight_at += fan_in * fan_out
        bias_at += fan_out
    return layers
