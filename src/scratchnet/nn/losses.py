"""Output layers and their losses, computed from the logits ``z`` of the last layer.

Working from logits keeps the loss finite for any ``z`` (no log(0)) and gives the
output gradient ``dL/dz = p - t`` directly (no division by ``a (1 - a)``). Two layers
classify (sigmoid, softmax); the identity layer with squared error does regression.

With sample weights w_i (normalised by the caller), a batch's loss is sum_i w_i L_i and
row i's gradient is scaled by w_i (``weighted_loss_and_delta_``); without them every
row counts once and the layers' own fused ``loss_and_delta_`` runs unchanged.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .activations import Sigmoid, sigmoid


class OutputLayer(Protocol):
    """The last layer of a network: how targets are encoded, the loss it minimises and
    whether its predictions can be right or wrong (``classifies``)."""

    name: str
    classifies: bool

    def encode(self, labels: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Class indices (n,), or real target values for regression -> the targets
        ``t`` this layer's loss compares with."""
        ...

    def loss_sum(self, z: np.ndarray, t: np.ndarray) -> float:
        """The loss summed over the rows; ``z`` is left as it is."""
        ...

    def row_losses(self, z: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The loss of each row (m,); ``z`` is left as it is."""
        ...

    def loss_and_delta_(self, z: np.ndarray, t: np.ndarray, scale: float) -> float:
        """The summed loss; ``z`` is overwritten with ``scale * dL/dz``."""
        ...

    def n_correct(self, z: np.ndarray, t: np.ndarray) -> int:
        """How many rows are predicted right (0 for a layer that does not classify)."""
        ...

    def constant_loss(self, t: np.ndarray, weights: np.ndarray | None) -> float:
        """The mean loss, over rows weighted by ``weights`` (None: equally), of the best
        prediction that ignores the inputs: the cost a network that learned nothing can
        reach."""
        ...

    def correct_rows(self, z: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Whether each row is predicted right (m,) bool."""
        ...


class ClassifierOutput(OutputLayer, Protocol):
    """An output layer whose logits are class scores."""

    def predicted_indices(self, z: np.ndarray) -> np.ndarray:
        """The most probable class index of each row (m,)."""
        ...

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """Class probabilities (m, n_classes)."""
        ...

    def log_probabilities(self, z: np.ndarray) -> np.ndarray:
        """Their logarithms (m, n_classes), computed from the logits: finite where a
        probability rounds to 0."""
        ...


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|), finite for any z."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def entropy(p: np.ndarray) -> float:
    """-sum_c p_c log p_c of a probability vector, with 0 log 0 = 0."""
    p = p[p > 0]
    return float(-(p @ np.log(p)))


def binary_cross_entropy(z, t) -> np.ndarray:
    """Element-wise -[t log sigma(z) + (1 - t) log(1 - sigma(z))] = softplus(z) - t z,
    for logits z and targets t (arrays, or anything np.asarray takes)."""
    z, t = np.asarray(z), np.asarray(t)
    return softplus(z) - t * z


class _Classifying:
    """What the two classifying layers share: the count drawn from ``correct_rows``."""

    classifies = True

    @classmethod
    def n_correct(cls, z: np.ndarray, t: np.ndarray) -> int:
        return int(np.count_nonzero(cls.correct_rows(z, t)))


class BinaryCrossEntropy(_Classifying):
    """One sigmoid output unit, two classes; targets are a float column t in {0, 1}.

    L(z, t) = -[t log sigma(z) + (1 - t) log(1 - sigma(z))] = softplus(z) - t z
    dL/dz = sigma(z) - t
    """

    name = "sigmoid"

    @staticmethod
    def encode(labels: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Class indices (n,) in {0, 1} -> targets (n, 1) of ``dtype``."""
        return labels.astype(dtype).reshape(-1, 1)

    @staticmethod
    def loss_sum(z: np.ndarray, t: np.ndarray) -> float:
        return float(np.add.reduce(binary_cross_entropy(z, t), axis=None))

    @staticmethod
    def row_losses(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        return binary_cross_entropy(z, t)[:, 0]

    @staticmethod
    def constant_loss(t: np.ndarray, weights: np.ndarray | None) -> float:
        """sigma(z) = p, the (weighted) share of class 1, is the best constant prediction;
        its mean loss is the entropy -[p log p + (1 - p) log(1 - p)]."""
        p = float(np.average(t[:, 0].astype(np.float64), weights=weights))
        return entropy(np.array([p, 1 - p]))

    @staticmethod
    def correct_rows(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        return ((z > 0) == (t > 0.5))[:, 0]

    @staticmethod
    def predicted_indices(z: np.ndarray) -> np.ndarray:
        """The argmax of ``probabilities``: class 1 where p > 1 - p, which near 0, where
        tanh(z/2) = z/2 and p = 1/2 + z/4, is where z exceeds the dtype's eps (1.2e-7 in
        float32, 2.2e-16 in float64): below it p rounds to 1/2, a tie that goes to class
        0. The ONNX graph's label is z > eps itself. Only the tanh form is needed:
        beyond |z| = 1, where ``probabilities`` switches, both forms agree on the sign."""
        p = _near_half(z)
        return (p[:, 1] > p[:, 0]).astype(np.int64)

    @staticmethod
    def probabilities(z: np.ndarray) -> np.ndarray:
        """(m, 1) logits -> (m, 2) probabilities [1 - p, p], p = sigma(z), for |z| < 1:
        there 1 - p loses nothing (both lie in (0.26, 0.74)), and its ties with p fall
        where ``predicted_indices`` says; beyond, [sigma(-z), sigma(z)], each to the
        dtype's relative precision (1 - p would be 0 from z = 37 in float64, 17 in
        float32)."""
        return np.where(np.abs(z) < 1, _near_half(z), sigmoid(np.hstack([-z, z])))

    @staticmethod
    def log_probabilities(z: np.ndarray) -> np.ndarray:
        """(m, 1) logits -> (m, 2): [log(1 - p), log p], the logarithms of
        ``probabilities`` for |z| < 1 (so their ties fall alike), beyond that
        [-softplus(z), -softplus(-z)], finite where a probability rounds to 0."""
        with np.errstate(divide="ignore"):  # log 0 of a row of the other branch
            near = np.log(_near_half(z))
        return np.where(np.abs(z) < 1, near, -np.hstack([softplus(z), softplus(-z)]))

    @staticmethod
    def loss_and_delta_(z: np.ndarray, t: np.ndarray, scale: float) -> float:
        """Return the summed loss; overwrite the logits with ``scale * (sigma(z) - t)``."""
        loss = BinaryCrossEntropy.loss_sum(z, t)
        Sigmoid().forward_(z)
        z -= t
        z *= scale
        return loss


class CategoricalCrossEntropy(_Classifying):
    """A softmax output layer over k classes; targets are class indices (n,).

    L(z, t) = logsumexp(z) - z_t, with logsumexp(z) = max(z) + log sum exp(z - max(z))
    dL/dz = softmax(z) - onehot(t)
    """

    name = "softmax"

    @staticmethod
    def encode(labels: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return np.asarray(labels, dtype=np.int64)

    @staticmethod
    def loss_sum(z: np.ndarray, t: np.ndarray) -> float:
        return CategoricalCrossEntropy.loss_and_delta_(z.copy(), t, 1.0)

    @staticmethod
    def row_losses(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        """logsumexp(z) - z_t of each row."""
        return -CategoricalCrossEntropy.log_probabilities(z)[np.arange(len(t)), t]

    @staticmethod
    def constant_loss(t: np.ndarray, weights: np.ndarray | None) -> float:
        """softmax(z) = p, the (weighted) share of each class, is the best constant
        prediction; its mean loss is the entropy -sum_c p_c log p_c."""
        counts = np.bincount(t, weights=weights)
        return entropy(counts / counts.sum())

    @staticmethod
    def correct_rows(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        return z.argmax(axis=1) == t

    @staticmethod
    def predicted_indices(z: np.ndarray) -> np.ndarray:
        return z.argmax(axis=1)

    @staticmethod
    def probabilities(z: np.ndarray) -> np.ndarray:
        p = np.array(z, copy=True)
        _softmax_(p)
        return p

    @staticmethod
    def log_probabilities(z: np.ndarray) -> np.ndarray:
        """log softmax(z) = z - max(z) - log sum exp(z - max(z))."""
        shifted = z - z.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

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


class MeanSquaredError:
    """An identity output of k real values, with half the squared error averaged over
    the outputs (scikit-learn's MLPRegressor convention, so a mean over rows is half the
    mean squared error over every target value); targets are a float array (n, k).

    L(z, t) = 1 / (2k) sum_j (z_j - t_j)^2
    dL/dz = (z - t) / k
    """

    name = "identity"
    classifies = False

    @staticmethod
    def encode(labels: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Target values (n,) or (n, k) -> targets (n, k) of ``dtype`` (a value too large
        for it becomes infinite, which the caller refuses)."""
        with np.errstate(over="ignore"):
            return np.asarray(labels, dtype=dtype).reshape(len(labels), -1)

    @staticmethod
    def loss_sum(z: np.ndarray, t: np.ndarray) -> float:
        return float(np.add.reduce(np.square(z - t), axis=None)) / (2 * z.shape[1])

    @staticmethod
    def row_losses(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.add.reduce(np.square(z - t), axis=1) / (2 * z.shape[1])

    @staticmethod
    def constant_loss(t: np.ndarray, weights: np.ndarray | None) -> float:
        """z = the (weighted) mean target m is the best constant prediction; its mean
        loss is 1 / (2k) sum_j of the (weighted) variance of target j."""
        t = t.astype(np.float64)
        mean = np.average(t, axis=0, weights=weights)
        return float(np.average(MeanSquaredError.row_losses(mean[None, :], t), weights=weights))

    @staticmethod
    def correct_rows(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Regression has no right or wrong: no row counts as correct."""
        return np.zeros(len(z), dtype=bool)

    @staticmethod
    def n_correct(z: np.ndarray, t: np.ndarray) -> int:
        return 0

    @staticmethod
    def loss_and_delta_(z: np.ndarray, t: np.ndarray, scale: float) -> float:
        """Return the summed loss; overwrite the outputs with ``scale * (z - t) / k``."""
        loss = MeanSquaredError.loss_sum(z, t)
        z -= t
        z *= scale / z.shape[1]
        return loss


def weighted_loss_and_delta_(
    output: OutputLayer, z: np.ndarray, t: np.ndarray, weights: np.ndarray, scale: float
) -> tuple[float, float]:
    """With row weights w (m,): return (sum_i w_i L_i, sum of w_i over the rows
    predicted right), and overwrite ``z`` with ``scale * w_i * dL_i/dz_i``."""
    correct = weighted_correct(output, z, t, weights)
    loss = weighted_loss_sum(output, z, t, weights)
    output.loss_and_delta_(z, t, scale)
    z *= weights[:, None]
    return loss, correct


def weighted_loss_sum(output: OutputLayer, z: np.ndarray, t: np.ndarray, weights) -> float:
    """sum_i w_i L_i; ``z`` is left as it is."""
    return float(output.row_losses(z, t) @ weights)


def weighted_correct(output: OutputLayer, z: np.ndarray, t: np.ndarray, weights) -> float:
    """The sum of the weights of the rows predicted right."""
    return float(output.correct_rows(z, t) @ weights)


def _near_half(z: np.ndarray) -> np.ndarray:
    """[1 - p, p] with the network's p = sigma(z) (the tanh form), exact complements for
    p near 1/2."""
    p = np.array(z, copy=True)
    Sigmoid().forward_(p)
    return np.hstack([1 - p, p])


def _softmax_(z: np.ndarray) -> None:
    """Overwrite each row of ``z`` with softmax(z) = exp(z - max z) / sum exp(z - max z).
    A shift past the dtype's range (logits of both signs near its limit) is -inf, whose
    exponential is the right 0."""
    with np.errstate(over="ignore"):
        z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)


OUTPUTS = {
    layer.name: layer for layer in (BinaryCrossEntropy, CategoricalCrossEntropy, MeanSquaredError)
}


def output_layer(n_outputs: int, regression: bool = False) -> OutputLayer:
    """The output layer of ``n_outputs`` units: for regression an identity with squared
    error; otherwise one unit is a sigmoid with binary cross-entropy (two classes), k > 1
    units a softmax with categorical cross-entropy."""
    if regression:
        return MeanSquaredError()
    return BinaryCrossEntropy() if n_outputs == 1 else CategoricalCrossEntropy()


def output_units(n_classes: int) -> int:
    """Units an output layer needs for ``n_classes`` classes: 1 for two (a sigmoid),
    else one per class (a softmax)."""
    return 1 if n_classes == 2 else n_classes


def classes_of(n_outputs: int) -> int:
    """Classes an output layer of ``n_outputs`` units tells apart."""
    return 2 if n_outputs == 1 else n_outputs
