"""Hidden-layer activations, applied in place on preallocated buffers.

Each activation overwrites pre-activations ``z`` with ``a = f(z)`` and, in the
backward pass, multiplies an incoming gradient by ``f'(z)`` computed from ``a`` alone,
so the network keeps one buffer per layer instead of both ``z`` and ``a``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidTypeError
from .settings import check_setting, named


class Activation:
    """Interface: ``forward_`` and ``backward_`` work in place and return nothing."""

    name: str

    def forward_(self, z: np.ndarray) -> None:
        """Overwrite ``z`` with ``f(z)``."""
        raise NotImplementedError

    def backward_(self, grad: np.ndarray, a: np.ndarray) -> None:
        """``grad *= f'(z)`` where ``a = f(z)``; ``a`` may be overwritten."""
        raise NotImplementedError


class Sigmoid(Activation):
    """sigma(z) = 1 / (1 + e^-z) = (1 + tanh(z/2)) / 2;  sigma'(z) = a (1 - a).

    The tanh form never overflows: it is finite and exact in its limits for any z.
    """

    name = "sigmoid"

    def forward_(self, z):
        z *= 0.5
        np.tanh(z, out=z)
        z *= 0.5
        z += 0.5

    def backward_(self, grad, a):
        grad *= a
        np.subtract(1, a, out=a)
        grad *= a


class Tanh(Activation):
    """tanh(z);  tanh'(z) = 1 - a^2."""

    name = "tanh"

    def forward_(self, z):
        np.tanh(z, out=z)

    def backward_(self, grad, a):
        np.multiply(a, a, out=a)
        np.subtract(1, a, out=a)
        grad *= a


class ReLU(Activation):
    """relu(z) = max(z, 0);  relu'(z) = 1 if z > 0 else 0, i.e. [a > 0]."""

    name = "relu"

    def forward_(self, z):
        np.maximum(z, 0, out=z)

    def backward_(self, grad, a):
        grad *= a > 0


class LeakyReLU(Activation):
    """leaky(z) = z if z > 0 else alpha z = max(z, alpha z);  leaky'(z) = 1 if a > 0 else
    alpha. Both forms need 0 <= alpha < 1: a has z's sign, and max picks the right one."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        check_setting(alpha, "alpha", lambda slope: 0 <= slope < 1, "[0, 1)")
        self.alpha = alpha

    def forward_(self, z):
        np.maximum(z, self.alpha * z, out=z)

    def backward_(self, grad, a):
        grad *= np.where(a > 0, 1, self.alpha).astype(grad.dtype, copy=False)


ACTIVATIONS = {cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU)}


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (one of ACTIVATIONS)."""
    return named(name, ACTIVATIONS, "activation")()


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) for any array-like, as a new float array, to the dtype's relative
    precision: with e = e^-|z| (never overflowing), sigma(z) = 1 / (1 + e) for z >= 0
    and e / (1 + e) for z < 0, so sigma(-40) is 4.2e-18, not the 0 of 1 - sigma(40) or of
    the tanh form the hidden layers use (exact to the dtype's absolute precision, all a
    hidden unit needs). Its limits are exact: sigma(-1e4) = 0, sigma(1e4) = 1."""
    z = _real(z, "sigmoid")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_derivative(z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) sigma(-z) = e / (1 + e)^2 with e = e^-|z| (sigma' is even), as
    a new float array to the dtype's relative precision (the 0 of 1 - sigma(z) would
    end it at |z| = 37 in float64)."""
    z = _real(z, "sigmoid_derivative")
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2


def _real(z, name: str) -> np.ndarray:
    """``z`` as a float array (float32 or wider); InvalidTypeError for anything else
    (complex numbers, whose |z| would be taken for their size)."""
    z = np.asarray(z)
    if z.dtype.kind not in "biuf":
        raise InvalidTypeError(f"{name} takes real numbers, got dtype {z.dtype}")
    return z.astype(np.result_type(z, np.float32), copy=False)
