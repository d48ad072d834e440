"""Forward and backward passes over a batch of samples, in preallocated buffers.

Shapes are batch-first: a batch ``x`` is (m, n_inputs), layer l computes
``z_l = a_{l-1} @ W_l + b_l`` (m, width_l) and, for hidden layers, ``a_l = f(z_l)``.
Backpropagation starts from ``delta_L = dJ/dz_L`` (the loss writes it over the logits):

    dJ/dW_l = a_{l-1}.T @ delta_l        dJ/db_l = sum over rows of delta_l
    delta_{l-1} = (delta_l @ W_l.T) * f'(z_{l-1})

Input columns that are zero in every row add nothing to ``x @ W_1`` and give the
matching rows of ``dJ/dW_1`` exactly zero, so the products use only the active columns
(``Columns``): a range of them (the rows are views) or any set (the rows are a copy of
those columns, stored by ``column_groups``), with the matching rows of W_1 as the first
layer's weight.

``Propagation.gradient`` is the one place that orders a training step's work on a chunk
of rows: forward, count the correct predictions, turn the logits into dJ/dz_L, backward.
A chunk is cut into fixed parts of rows (``parallel.parts_of``) when each part has enough
multiply-adds to pay for a second thread (``multiply_adds_per_row``); the parts work in
their own rows of the buffers, each with its own gradient, run side by side by a
``Team``, and ``add_parts`` adds their gradients in a fixed order. With row weights w
(sample weights, normalised by the caller) the chunk's loss and count are sums of
w_i L_i and of the w_i of the rows predicted right, and row i's dJ/dz_L is scaled by w_i.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .activations import Activation
from .column_groups import GroupedColumns
from .losses import (
    OutputLayer,
    weighted_correct,
    weighted_loss_and_delta_,
    weighted_loss_sum,
)
from .parallel import Team, fewest_part_rows, parts_of
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


@dataclass(frozen=True)
class Columns:
    """The input columns the products use: ``selection`` a range (``x`` holds those
    columns as a view of the data) or an array of column indices (``x`` is a copy of
    them in that order, a ``GroupedColumns``)."""

    selection: slice | np.ndarray

    @property
    def count(self) -> int:
        if isinstance(self.selection, slice):
            return self.selection.stop - self.selection.start
        return len(self.selection)

    def weight(self, weight: np.ndarray, buffer: np.ndarray | None = None) -> np.ndarray:
        """W_1's rows for these columns: a view for a range, else gathered into buffer."""
        if isinstance(self.selection, slice):
            return weight[self.selection]
        return np.take(weight, self.selection, axis=0, out=buffer)


def active_inputs(x: np.ndarray) -> slice:
    """The narrowest column range outside which every row of ``x`` is zero."""
    nonzero = nonzero_columns(x)
    if nonzero.size == 0:
        return slice(0, 0)
    return slice(int(nonzero[0]), int(nonzero[-1]) + 1)


def multiply_adds_per_row(widths: Sequence[int], training: bool) -> int:
    """The multiply-adds of one row's pass through layers of ``widths`` (inputs first):
    sum_l w_{l-1} w_l forward; training adds the weight gradients (as many again) and the
    deltas carried below every layer but the first."""
    products = [fan_in * fan_out for fan_in, fan_out in pairwise(widths)]
    return 3 * sum(products) - products[0] if training else sum(products)


def nonzero_columns(x: np.ndarray) -> np.ndarray:
    """The indices of the columns where some row of ``x`` is not zero."""
    any_nonzero = np.zeros(x.shape[1], dtype=bool)
    for start in range(0, len(x), ROWS_PER_CHUNK):  # small temporaries, not one of x's size
        any_nonzero |= x[start : start + ROWS_PER_CHUNK].any(axis=0)
    return np.flatnonzero(any_nonzero)


class Workspace:
    """Buffers for batches of at most ``rows`` samples through layers of ``widths``.

    ``outputs[l]`` holds z_l, then a_l in place; ``dropped[l]`` holds a_l * mask_l when
    dropout is on; with ``deltas``, two flat buffers the backward pass alternates between
    (one, with one hidden layer). ``rows_of(span)`` is the workspace of rows ``span``
    alone, a view: the parts of a chunk work in disjoint rows of one workspace, so it
    holds a chunk's rows however the chunk is cut.
    """

    def __init__(
        self,
        widths: Sequence[int],
        rows: int,
        dtype: np.dtype,
        dropout: bool = False,
        deltas: bool = False,
    ):
        hidden = list(widths[1:-1])
        self.widest = max(hidden, default=0)
        self.outputs = [np.empty((rows, width), dtype) for width in widths[1:]]
        self.dropped = [np.empty((rows, width), dtype) for width in hidden] if dropout else []
        count = min(len(hidden), 2) if deltas else 0
        self.deltas = [np.empty(rows * self.widest, dtype) for _ in range(count)]

    def rows_of(self, span: slice) -> Workspace:
        part = object.__new__(Workspace)
        part.widest = self.widest
        part.outputs = [output[span] for output in self.outputs]
        part.dropped = [dropped[span] for dropped in self.dropped]
        flat = slice(span.start * self.widest, span.stop * self.widest)
        part.deltas = [delta[flat] for delta in self.deltas]
        return part

    def delta(self, which: int, m: int, width: int) -> np.ndarray:
        """Delta buffer ``which`` (alternating) for m rows of ``width``, contiguous."""
        return self.deltas[which % len(self.deltas)][: m * width].reshape(m, width)


class Propagation:
    """Forward and backward passes of ``model`` over chunks of at most ``rows`` rows using
    the input ``columns``, each chunk cut into fixed parts run by ``team``, of at least
    ``parallel.MIN_PART_WORK`` multiply-adds each (a chunk too small for two is one part).

    Every part works in its own rows of the chunk's workspace and, when ``training``,
    has its own gradient, shaped like the parameters (the rows of W_1 for inactive
    inputs stay zero). For compacted columns the part's W_1 gradient gathers in a
    compact buffer first and is scattered into its rows by ``finish``.
    """

    def __init__(
        self,
        model: Model,
        columns: Columns,
        rows: int,
        team: Team,
        dropout: bool = False,
        training: bool = False,
    ):
        params = model.parameters
        widths = (columns.count, *params.widths[1:])
        dtype = params.flat.dtype
        self.model, self.team, self.columns = model, team, columns
        self.min_part_rows = fewest_part_rows(multiply_adds_per_row(widths, training))
        count = len(self.parts_of(rows))
        self.workspace = Workspace(widths, rows, dtype, dropout, deltas=training)
        self.part_workspaces: dict[tuple[int, int], Workspace] = {}
        self.grads = [params.zeros_like() for _ in range(count)] if training else []
        compact = training and not isinstance(columns.selection, slice)
        self.compact = [np.zeros(widths[:2], dtype) for _ in range(count)] if compact else []
        self.parts_in_batch = count

    def parts_of(self, rows: int) -> list[slice]:
        """The fixed row ranges a chunk of ``rows`` rows is cut into."""
        return parts_of(rows, self.min_part_rows)

    def _workspace(self, rows: slice) -> Workspace:
        """The workspace of a part: its rows of the chunk's workspace."""
        key = (rows.start, rows.stop)
        if key not in self.part_workspaces:
            self.part_workspaces[key] = self.workspace.rows_of(rows)
        return self.part_workspaces[key]

    # -- training -----------------------------------------------------------------------------

    def gradient(
        self,
        x: np.ndarray | GroupedColumns,
        t: np.ndarray,
        first_weight: np.ndarray,
        scale: float,
        masks: Sequence[np.ndarray] | None = None,
        accumulate: bool = False,
        weights: np.ndarray | None = None,
    ) -> tuple[float, float]:
        """Write (or add) ``scale * dJ/dparams`` of the chunk ``x`` (m, active columns)
        with targets ``t`` (and row ``weights``, if any) into the parts' gradients;
        return the chunk's summed loss and number of correct predictions (weighted, with
        weights), measured on the forward pass that the gradient uses."""

        def part(k: int, rows: slice):
            return self._gradient_of_part(
                k, self._workspace(rows), x[rows], t[rows], first_weight, scale,
                None if masks is None else [mask[rows] for mask in masks], accumulate,
                None if weights is None else weights[rows],
            )  # fmt: skip

        parts = self.parts_of(len(x))
        if not accumulate:  # a batch's first chunk is its largest: it uses the most parts
            self.parts_in_batch = len(parts)
        return _sums(self.team.map(part, list(enumerate(parts))))

    def finish(self) -> list[np.ndarray]:
        """After a batch's chunks: the flat gradients of the parts it used, each shaped
        like the parameters; their sum, in this order, is the batch's gradient."""
        parts = self.grads[: self.parts_in_batch]
        for part, compact in zip(parts, self.compact, strict=False):
            part.layers[0].weight[self.columns.selection] = compact
        return [part.flat for part in parts]

    def _first_gradient(self, k: int) -> np.ndarray:
        """Where part k's backward pass writes dJ/dW_1 of the active inputs."""
        if self.compact:
            return self.compact[k]
        return self.grads[k].layers[0].weight[self.columns.selection]

    def _gradient_of_part(
        self, k, workspace, x, t, first_weight, scale, masks, accumulate, weights
    ):  # fmt: skip
        """Forward, count, dJ/dz_L, backward: the order is fixed here because the buffers
        are shared: the count must read the logits before the loss overwrites them."""
        layers = self.model.parameters.layers
        z = forward(layers, first_weight, self.model.activation, x, workspace, masks)
        output = self.model.output
        if weights is None:
            correct = output.n_correct(z, t)
            loss_sum = output.loss_and_delta_(z, t, scale)
        else:
            loss_sum, correct = weighted_loss_and_delta_(output, z, t, weights, scale)
        backward(layers, self.grads[k], self._first_gradient(k), self.model.activation, x,
                 workspace, z, masks, accumulate)  # fmt: skip
        return loss_sum, correct

    # -- measuring and predicting -----------------------------------------------------------

    def measure(
        self,
        x: np.ndarray | GroupedColumns,
        t: np.ndarray,
        first_weight: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> tuple[float, float]:
        """The chunk's summed loss and number of correct predictions (no dropout), both
        weighted by the row ``weights`` if given."""
        output = self.model.output

        def part(rows: slice):
            z = forward(self.model.parameters.layers, first_weight, self.model.activation,
                        x[rows], self._workspace(rows))  # fmt: skip
            targets = t[rows]
            if weights is None:
                return output.loss_sum(z, targets), output.n_correct(z, targets)
            w = weights[rows]
            return weighted_loss_sum(output, z, targets, w), weighted_correct(output, z, targets, w)

        return _sums(self.team.map(part, [(rows,) for rows in self.parts_of(len(x))]))

    def logits(self, x: np.ndarray, first_weight: np.ndarray, out: np.ndarray) -> None:
        """Write z_L of every row of the chunk ``x`` into ``out`` (m, n_outputs)."""

        def part(rows: slice) -> None:
            out[rows] = forward(self.model.parameters.layers, first_weight,
                                self.model.activation, x[rows], self._workspace(rows))  # fmt: skip

        self.team.map(part, [(rows,) for rows in self.parts_of(len(x))])


def add_weight_decay_(
    grads: Parameters, parameters: Parameters, rate: float, span: slice = slice(None)
) -> None:
    """Add the gradient of the L2 penalty (rate / 2) sum W^2, i.e. rate W, to the weights'
    gradients (biases are not penalised), within ``span`` of the flat arrays."""
    start, stop, _ = span.indices(parameters.count)
    stop = min(stop, parameters.weights.size)  # the weights come first, then the biases
    if start < stop:
        grads.flat[start:stop] += rate * parameters.flat[start:stop]


def forward(
    layers: Sequence[Dense],
    first_weight: np.ndarray,
    activation: Activation,
    x: np.ndarray | GroupedColumns,
    workspace: Workspace,
    masks: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Run ``x`` (m, active columns) through the network, ``first_weight`` being W_1's
    rows for those columns; return z_L.

    With ``masks`` (one per hidden layer, 0 or 1/(1 - rate)), each hidden output is
    multiplied by its mask before it feeds the next layer (inverted dropout).
    """
    m = len(x)
    a = x
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        z = workspace.outputs[i][:m]
        if isinstance(a, GroupedColumns):
            a.matmul_into(first_weight, out=z)
        else:
            np.matmul(a, first_weight if i == 0 else layer.weight, out=z)  # (m, width_i)
        z += layer.bias
        if i < last:
            activation.forward_(z)
            if masks is not None:
                z = np.multiply(z, masks[i], out=workspace.dropped[i][:m])
        a = z
    return a


def backward(
    layers: Sequence[Dense],
    grads: Parameters,
    first_gradient: np.ndarray,
    activation: Activation,
    x: np.ndarray | GroupedColumns,
    workspace: Workspace,
    delta: np.ndarray,
    masks: Sequence[np.ndarray] | None = None,
    accumulate: bool = False,
) -> None:
    """Write (or, with ``accumulate``, add) dJ/dW and dJ/db for every layer into ``grads``,
    except dJ/dW_1 of the active inputs (one row per column of ``x``), which goes into
    ``first_gradient``.

    ``delta`` is dJ/dz_L for the batch of the last ``forward`` call. The hidden buffers of
    the workspace are consumed: each a_l is overwritten while computing f'(z_l).
    """
    m = len(x)
    for i in range(len(layers) - 1, -1, -1):
        a_prev = x if i == 0 else _layer_input(workspace, masks, i - 1, m)
        weight_gradient = first_gradient if i == 0 else grads.layers[i].weight
        if isinstance(a_prev, GroupedColumns):
            a_prev.transposed_matmul_into(delta, weight_gradient, accumulate)
        else:
            _product_into(a_prev.T, delta, weight_gradient, accumulate)  # (w_{i-1}, w_i)
        _row_sum_into(delta, grads.layers[i].bias, accumulate)
        if i == 0:
            break
        previous = workspace.delta(i, m, layers[i].weight.shape[0])
        np.matmul(delta, layers[i].weight.T, out=previous)  # dJ/da_{i-1}, (m, width_{i-1})
        if masks is not None:
            previous *= masks[i - 1]
        activation.backward_(previous, workspace.outputs[i - 1][:m])
        delta = previous


def _layer_input(workspace: Workspace, masks, i: int, m: int) -> np.ndarray:
    """What hidden layer i fed forward: a_i, or a_i * mask_i under dropout."""
    return workspace.outputs[i][:m] if masks is None else workspace.dropped[i][:m]


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


def add_parts(parts: Sequence[np.ndarray], out: np.ndarray) -> None:
    """out = parts[0] + parts[1] + ..., added in this order."""
    if len(parts) == 1:
        out[...] = parts[0]
        return
    np.add(parts[0], parts[1], out=out)
    for part in parts[2:]:
        out += part


def _sums(results: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The parts' (loss, count) pairs added in their fixed order."""
    loss, correct = results[0]
    for part_loss, part_correct in results[1:]:
        loss += part_loss
        correct += part_correct
    return loss, correct
