"""Output layers and their losses, computed from the logits ``z`` of the last layer.

Working from logits keeps the loss finite for any ``z`` (no log(0)) and gives the
output gradient ``dL/dz = p - t`` directly (no division by ``a (1 - a)``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .activations import Sigmoid, sigmoid


class OutputLayer(Protocol):
    """The last layer of a network: how targets are encoded, the loss it minimises and
    how its logits ``z`` (m, n_outputs) become predictions."""

    name: str

    def encode(self, indices: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Class indices (n,) -> the targets ``t`` this layer's loss compares with."""
        ...

    def loss_sum(self, z: np.ndarray, t: np.ndarray) -> float:
        """The loss summed over the rows; ``z`` is left as it is."""
        ...

    def loss_and_delta_(self, z: np.ndarray, t: np.ndarray, scale: float) -> float:
        """The summed loss; ``z`` is overwritten with ``scale * dL/dz``."""
        ...

    def n_correct(self, z: np.ndarray, t: np.ndarray) -> int:
        """How many rows are predicted right."""
        ...

    def predicted_indices(self, z: np.ndarray) -> np.ndarray:
        """The most probable class index of each row (m,)."""
        ...

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """Class probabilities (m, n_classes)."""
        ...


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|), finite for any z."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Element-wise -[t log sigma(z) + (1 - t) log(1 - sigma(z))] = softplus(z) - t z."""
    return softplus(z) - t * z


class BinaryCrossEntropy:
    """One sigmoid output unit, two classes; targets are a float column t in {0, 1}.

    L(z, t) = -[t log sigma(z) + (1 - t) log(1 - sigma(z))] = softplus(z) - t z
    dL/dz = sigma(z) - t
    """

    name = "sigmoid"

    @staticmethod
    def encode(indices: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Class indices (n,) in {0, 1} -> targets (n, 1) of ``dtype``."""
        return indices.astype(dtype).reshape(-1, 1)

    @staticmethod
    def loss_sum(z: np.ndarray, t: np.ndarray) -> float:
        return float(np.add.reduce(binary_cross_entropy(z, t), axis=None))

    @staticmethod
    def n_correct(z: np.ndarray, t: np.ndarray) -> int:
        return int(np.count_nonzero((z > 0) == (t > 0.5)))

    @staticmethod
    def predicted_indices(z: np.ndarray) -> np.ndarray:
        return (z[:, 0] > 0).astype(np.int64)

    @staticmethod
    def probabilities(z: np.ndarray) -> np.ndarray:
        """(m, 1) logits -> (m, 2) probabilities [1 - p, p]."""
        p = sigmoid(z)
        return np.hstack([1 - p, p])

    @staticmethod
    def loss_and_delta_(z: np.ndarray, t: np.ndarray, scale: float) -> float:
        """Return the summed loss; overwrite the logits with ``scale * (sigma(z) - t)``."""
        loss = BinaryCrossEntropy.loss_sum(z, t)
        Sigmoid().forward_(z)
        z -= t
        z *= scale
        return loss


class CategoricalCrossEntropy:
    """A softmax output layer over k classes; targets are class indices (n,).

    L(z, t) = logsumexp(z) - z_t, with logsumexp(z) = max(z) + log sum exp(z - max(z))
    dL/dz = softmax(z) - onehot(t)
    """

    name = "softmax"

    @staticmethod
    def encode(indices: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return np.asarray(indices, dtype=np.int64)

    @staticmethod
    def loss_sum(z: np.ndarray, t: np.ndarray) -> float:
        return CategoricalCrossEntropy.loss_and_delta_(z.copy(), t, 1.0)

    @staticmethod
    def n_correct(z: np.ndarray, t: np.ndarray) -> int:
        return int(np.count_nonzero(z.argmax(axis=1) == t))

    @staticmethod
    def predicted_indices(z: np.ndarray) -> np.ndarray:
        return z.argmax(axis=1)

    @staticmethod
    def probabilities(z: np.ndarray) -> np.ndarray:
        p = np.array(z, copy=True)
        _softmax_(p)
        return p

    @staticmethod
    def loss_and_delta_(z: np.ndarray, t: np.ndarray, scale: float) -> float:
        """Return the summed loss; overwrite the logits with ``scale * (softmax(z) - onehot(t))``.

        Both share the shifted logits z - max(z) and their exponentials.
        """
        rows = np.arange(len(t))
        z -= z.max(axis=1, keepdims=True)
        target = z[rows, t]  # z_t - max(z)
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)  # logsumexp(z) - max(z) = log(total)
        loss = float(np.add.reduce(np.log(total), axis=None) - np.add.reduce(target))
        z /= total
        z[rows, t] -= 1
        z *= scale
        return loss


def _softmax_(z: np.ndarray) -> None:
    """Overwrite each row of ``z`` with softmax(z) = exp(z - max z) / sum exp(z - max z)."""
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)


def output_layer(n_outputs: int) -> OutputLayer:
    """The output layer of ``n_outputs`` units: one unit is a sigmoid with binary
    cross-entropy (two classes), k > 1 units a softmax with categorical cross-entropy."""
    return BinaryCrossEntropy() if n_outputs == 1 else CategoricalCrossEntropy()


def output_units(n_classes: int) -> int:
    """Units an output layer needs for ``n_classes`` classes: 1 for two (a sigmoid),
    else one per class (a softmax)."""
    return 1 if n_classes == 2 else n_classes


def classes_of(n_outputs: int) -> int:
    """Classes an output layer of ``n_outputs`` units tells apart."""
    return 2 if n_outputs == 1 else n_outputs
