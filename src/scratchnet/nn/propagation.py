"""Forward and backward passes over a batch of samples, in preallocated buffers.

Shapes are batch-first: a batch ``x`` is (m, n_inputs), layer l computes
``z_l = a_{l-1} @ W_l + b_l`` (m, width_l) and, for hidden layers, ``a_l = f(z_l)``.
Backpropagation starts from ``delta_L = dJ/dz_L`` (the loss writes it over the logits):

    dJ/dW_l = a_{l-1}.T @ delta_l        dJ/db_l = sum over rows of delta_l
    delta_{l-1} = (delta_l @ W_l.T) * f'(z_{l-1})

Input columns that are zero in every row add nothing to ``x @ W_1`` and give the
matching rows of ``dJ/dW_1`` exactly zero, so callers pass ``x`` restricted to a column
range ``active_inputs`` outside which the data is all zero, and the products skip the rest.

``gradient`` is the one place that orders a training step's work on a chunk of rows:
forward, count the correct predictions, turn the logits into dJ/dz_L, backward. With
row weights w (sample weights, normalised by the caller) the chunk's loss and count are
sums of w_i L_i and of the w_i of the rows predicted right, and row i's dJ/dz_L is
scaled by w_i; without them the unweighted code runs as it always has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .activations import Activation
from .losses import (
    OutputLayer,
    weighted_correct,
    weighted_loss_and_delta_,
    weighted_loss_sum,
)
from .parameters import Dense, Parameters

ROWS_PER_CHUNK = 1024  # rows per pass: buffers stay small and cache-resident


@dataclass(frozen=True)
class Model:
    """What a network computes: its parameters, hidden activation and output layer, and
    the dropout rate of its hidden units while training."""

    parameters: Parameters
    activation: Activation
    output: OutputLayer
    dropout: float = 0.0


def active_inputs(x: np.ndarray) -> slice:
    """The narrowest column range outside which every row of ``x`` is zero."""
    any_nonzero = np.zeros(x.shape[1], dtype=bool)
    for start in range(0, len(x), ROWS_PER_CHUNK):  # small temporaries, not one of x's size
        any_nonzero |= x[start : start + ROWS_PER_CHUNK].any(axis=0)
    nonzero = np.flatnonzero(any_nonzero)
    if nonzero.size == 0:
        return slice(0, 0)
    return slice(int(nonzero[0]), int(nonzero[-1]) + 1)


class Workspace:
    """Buffers for batches of at most ``rows`` samples through layers of ``widths``.

    ``outputs[l]`` holds z_l, then a_l in place; ``dropped[l]`` holds a_l * mask_l when
    dropout is on; ``deltas`` are two buffers the backward pass alternates between.
    """

    def __init__(self, widths: Sequence[int], rows: int, dtype: np.dtype, dropout: bool = False):
        self.hidden = list(widths[1:-1])
        self.rows = rows
        self.outputs = [np.empty((rows, width), dtype) for width in widths[1:]]
        self.dropped = [np.empty((rows, width), dtype) for width in self.hidden] if dropout else []
        self.deltas: list[np.ndarray] = []  # allocated by the first backward pass

    def delta(self, which: int, m: int, width: int) -> np.ndarray:
        if not self.deltas:
            size, dtype = self.rows * max(self.hidden), self.outputs[0].dtype
            self.deltas = [np.empty(size, dtype), np.empty(size, dtype)]
        return self.deltas[which % 2][: m * width].reshape(m, width)


def gradient(
    model: Model,
    grads: Parameters,
    x: np.ndarray,
    t: np.ndarray,
    active: slice,
    workspace: Workspace,
    scale: float,
    masks: Sequence[np.ndarray] | None = None,
    accumulate: bool = False,
    weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """Write (or add) ``scale * dJ/dparams`` of the chunk ``x`` (m, columns ``active``)
    with targets ``t`` (and row ``weights`` (m,), if any) into ``grads``; return the
    chunk's summed loss and its number of correct predictions (both weighted, with
    weights), measured on the forward pass that the gradient uses.

    The order is fixed here because the buffers are shared: the count must read the
    logits before the loss overwrites them with dJ/dz_L = scale * (p - t).
    """
    layers = model.parameters.layers
    z = forward(layers, model.activation, x, active, workspace, masks)
    if weights is None:
        correct = model.output.n_correct(z, t)
        loss_sum = model.output.loss_and_delta_(z, t, scale)
    else:
        loss_sum, correct = weighted_loss_and_delta_(model.output, z, t, weights, scale)
    backward(layers, grads, model.activation, x, active, workspace, z, masks, accumulate)
    return loss_sum, correct


def measure(
    model: Model,
    x: np.ndarray,
    t: np.ndarray,
    active: slice,
    workspace: Workspace,
    weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """The chunk's summed loss and number of correct predictions (no dropout), both
    weighted by the row ``weights`` if given."""
    z = forward(model.parameters.layers, model.activation, x, active, workspace)
    if weights is None:
        return model.output.loss_sum(z, t), model.output.n_correct(z, t)
    return (
        weighted_loss_sum(model.output, z, t, weights),
        weighted_correct(model.output, z, t, weights),
    )


def add_weight_decay_(grads: Parameters, parameters: Parameters, rate: float) -> None:
    """Add the gradient of the L2 penalty (rate / 2) sum W^2, i.e. rate W, to the weights'
    gradients (biases are not penalised)."""
    grads.weights += rate * parameters.weights


def forward(
    layers: Sequence[Dense],
    activation: Activation,
    x: np.ndarray,
    active: slice,
    workspace: Workspace,
    masks: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Run ``x`` (m, columns ``active`` of the input) through the network; return z_L.

    With ``masks`` (one per hidden layer, 0 or 1/(1 - rate)), each hidden output is
    multiplied by its mask before it feeds the next layer (inverted dropout).
    """
    m = len(x)
    a = x
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        z = workspace.outputs[i][:m]
        np.matmul(a, layer.weight[active] if i == 0 else layer.weight, out=z)  # (m, width_i)
        z += layer.bias
        if i < last:
            activation.forward_(z)
            if masks is not None:
                z = np.multiply(z, masks[i][:m], out=workspace.dropped[i][:m])
        a = z
    return a


def backward(
    layers: Sequence[Dense],
    grads: Parameters,
    activation: Activation,
    x: np.ndarray,
    active: slice,
    workspace: Workspace,
    delta: np.ndarray,
    masks: Sequence[np.ndarray] | None = None,
    accumulate: bool = False,
) -> None:
    """Write (or, with ``accumulate``, add) dJ/dW and dJ/db for every layer into ``grads``.

    ``delta`` is dJ/dz_L for the batch of the last ``forward`` call. The hidden buffers of
    the workspace are consumed: each a_l is overwritten while computing f'(z_l).
    """
    m = len(x)
    for i in range(len(layers) - 1, -1, -1):
        a_prev = x if i == 0 else _layer_input(workspace, masks, i - 1, m)
        weight_grad = grads.layers[i].weight
        if i == 0:
            _zero_outside(weight_grad, active, accumulate)
            weight_grad = weight_grad[active]
        _product_into(a_prev.T, delta, weight_grad, accumulate)  # (width_{i-1}, width_i)
        _row_sum_into(delta, grads.layers[i].bias, accumulate)
        if i == 0:
            break
        previous = workspace.delta(i, m, layers[i].weight.shape[0])
        np.matmul(delta, layers[i].weight.T, out=previous)  # dJ/da_{i-1}, (m, width_{i-1})
        if masks is not None:
            previous *= masks[i - 1][:m]
        activation.backward_(previous, workspace.outputs[i - 1][:m])
        delta = previous


def _layer_input(workspace: Workspace, masks, i: int, m: int) -> np.ndarray:
    """What hidden layer i fed forward: a_i, or a_i * mask_i under dropout."""
    return workspace.outputs[i][:m] if masks is None else workspace.dropped[i][:m]


def _zero_outside(weight_grad: np.ndarray, active: slice, accumulate: bool) -> None:
    """Rows of dJ/dW_1 for inputs that are zero in every sample are exactly zero."""
    if not accumulate:
        weight_grad[: active.start] = 0
        weight_grad[active.stop :] = 0


def _product_into(left: np.ndarray, right: np.ndarray, out: np.ndarray, accumulate: bool) -> None:
    if accumulate:
        out += left @ right
    else:
        np.matmul(left, right, out=out)


def _row_sum_into(delta: np.ndarray, out: np.ndarray, accumulate: bool) -> None:
    if accumulate:
        out += np.add.reduce(delta, axis=0)
    else:
        np.add.reduce(delta, axis=0, out=out)  # np.sum's Python wrapper costs more here
