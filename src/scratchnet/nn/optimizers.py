"""Optimizers: each updates a flat parameter array in place from its gradient.

State (velocities, moment estimates, the step count) is created by ``init`` from the
parameters' shape and kept apart from the parameters: a dict of arrays and integers,
which is everything a checkpoint needs to continue the optimizer exactly. A step is
``advance`` (once, with the step's learning rate) then ``update_span_`` over spans of the
flat arrays; the gradient array is used as scratch space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError
from .settings import check_setting, named


class Optimizer:
    """Interface: ``state = init(params)``, then for each step
    ``coefficients = advance(state, lr)``, which moves the counters once, and
    ``update_span_(params, grads, state, coefficients, span)`` over spans of the flat
    arrays, which applies the element-wise update; spans are independent, so they may
    run side by side.
    """

    name: str

    def init(self, params: np.ndarray) -> dict:
        return {}

    def advance(self, state: dict, lr: float):
        """Count the step; the coefficients its element-wise update uses."""
        return lr

    def update_span_(self, params, grads, state: dict, coefficients, span: slice) -> None:
        """Update params[span] from grads[span] (and the state's arrays there)."""
        raise NotImplementedError


@dataclass(frozen=True)
class GradientDescent(Optimizer):
    """w <- w - lr g  (the tutorial's update; with mini-batches, plain SGD)."""

    name = "gd"

    def update_span_(self, params, grads, state, lr, span):
        g = grads[span]
        g *= lr
        params[span] -= g


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Heavy-ball momentum, as PyTorch's SGD writes it.

    v <- mu v + g;  w <- w - lr v,  or with Nesterov  w <- w - lr (g + mu v).
    """

    momentum: float = 0.9
    nesterov: bool = False

    @property
    def name(self) -> str:
        return "nesterov" if self.nesterov else "momentum"

    def __post_init__(self):
        check_setting(self.momentum, "momentum", lambda mu: 0 <= mu < 1, "[0, 1)")
        if not isinstance(self.nesterov, bool):
            raise InvalidArgumentError(f"nesterov must be True or False, got {self.nesterov!r}")

    def init(self, params):
        return {"velocity": np.zeros_like(params)}

    def update_span_(self, params, grads, state, lr, span):
        velocity, g = state["velocity"][span], grads[span]
        velocity *= self.momentum
        velocity += g
        if self.nesterov:
            g += self.momentum * velocity
            g *= lr
        else:
            np.multiply(velocity, lr, out=g)
        params[span] -= g


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction, at step t = 1, 2, ...

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    w <- w - lr m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)

    The state keeps M = m / (1 - b1) and V = v / (1 - b2), which obey M <- b1 M + g and
    V <- b2 V + g^2 (two array passes fewer per step); the update is the same expression,
    w <- w - [lr (1 - b1) / ((1 - b1^t) c)] M / (sqrt(V) + eps / c),
    with c = sqrt((1 - b2) / (1 - b2^t)).
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    name = "adam"

    def __post_init__(self):
        for label, beta in (("beta1", self.beta1), ("beta2", self.beta2)):
            check_setting(beta, label, lambda b: 0 <= b < 1, "[0, 1)")
        check_setting(self.eps, "eps", lambda eps: 0 < eps < math.inf, "(0, inf)")

    def init(self, params):
        return {"step": 0, "M": np.zeros_like(params), "V": np.zeros_like(params)}

    def advance(self, state, lr):
        """The step t and, as Python floats (NumPy float64 scalars would turn float32
        arrays into float64 and back), c and the step size."""
        state["step"] += 1
        t = state["step"]
        c = math.sqrt((1 - self.beta2) / (1 - self.beta2**t))
        return c, lr * (1 - self.beta1) / ((1 - self.beta1**t) * c)

    def update_span_(self, params, grads, state, coefficients, span):
        c, step = coefficients
        M, V, g = state["M"][span], state["V"][span], grads[span]
        M *= self.beta1
        M += g
        g *= g  # g^2, in place: g is not needed any more
        V *= self.beta2
        V += g
        scratch = np.sqrt(V, out=g)  # the gradient's buffer serves as scratch
        scratch += self.eps / c
        np.divide(M, scratch, out=scratch)
        scratch *= step
        params[span] -= scratch


OPTIMIZERS = {
    "gd": GradientDescent,
    "sgd": GradientDescent,
    "momentum": Momentum,
    "nesterov": lambda: Momentum(nesterov=True),
    "adam": Adam,
}


def get_optimizer(spec: str | Optimizer) -> Optimizer:
    """An Optimizer instance, or the one called ``spec`` with its default settings."""
    if isinstance(spec, Optimizer):
        return spec
    return named(spec, OPTIMIZERS, "optimizer")()
