"""The backward pass against central finite differences of the objective.

J(theta) = mean loss over the batch + (lambda / 2) * sum of squared weights, with the
network's forward pass (and, for dropout, a fixed mask); with row weights w the loss
term is (1/m) sum_i w_i L_i. Every parameter is perturbed.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from scratchnet.nn import parallel
from scratchnet.nn.activations import ACTIVATIONS, get_activation
from scratchnet.nn.column_groups import grouped, plan_groups
from scratchnet.nn.losses import output_layer
from scratchnet.nn.parallel import (
    MIN_PART_ROWS,
    MIN_PART_WORK,
    PARTS,
    Team,
    fewest_part_rows,
    parts_of,
)
from scratchnet.nn.parameters import Parameters
from scratchnet.nn.propagation import (
    Columns,
    Model,
    Propagation,
    Workspace,
    active_inputs,
    add_parts,
    add_weight_decay_,
    forward,
    multiply_adds_per_row,
    nonzero_columns,
)

SHAPES = [(4, 3, 1), (6, 5, 4, 1), (5, 4, 3), (3, 7, 6, 4)]
STEP = 1e-6


def make_problem(widths, seed=0, m=9, zero_columns=(0, -1), regression=False):
    """Random float64 parameters, a batch whose first and last columns are zero, targets
    (class labels, or real values for regression)."""
    rng = np.random.default_rng(seed)
    params = Parameters(widths, np.dtype(np.float64))
    params.flat[:] = rng.normal(scale=0.7, size=params.count)
    x = rng.normal(size=(m, widths[0]))
    x[:, list(zero_columns)] = 0.0
    output = output_layer(widths[-1], regression)
    n_classes = 2 if widths[-1] == 1 else widths[-1]
    labels = rng.normal(size=(m, widths[-1])) if regression else rng.integers(0, n_classes, m)
    return params, x, output, output.encode(labels, x.dtype)


def objective(params, activation, output, x, t, masks=None, decay=0.0, weights=None):
    workspace = Workspace(params.widths, len(x), x.dtype, dropout=masks is not None)
    z = forward(params.layers, params.layers[0].weight, activation, x, workspace, masks)
    loss = output.loss_sum(z, t) if weights is None else output.row_losses(z, t) @ weights
    return loss / len(x) + decay / 2 * np.sum(params.weights**2)


def analytic_gradient(
    params, activation, output, x, t, masks=None, decay=0.0, weights=None, team=None,
    columns=None, inputs=None,
):  # fmt: skip
    """The gradient as training computes it: the active columns only (``inputs``, the
    rows as stored for ``columns``, else a copy of those columns of x), the chunk cut
    into its parts (run by ``team``, one thread unless given), the parts added."""
    columns = columns or Columns(active_inputs(x))
    model = Model(params, activation, output)
    with mock.patch.object(parallel, "MIN_PART_WORK", 0):  # a chunk of 64 rows or more is cut
        propagation = Propagation(model, columns, len(x), team or Team(1),
                                  dropout=masks is not None, training=True)  # fmt: skip
    grads = params.zeros_like()
    grads.flat[:] = np.nan  # every entry must be written
    compact = x[:, columns.selection] if inputs is None else inputs
    propagation.gradient(compact, t, columns.weight(params.layers[0].weight), 1.0 / len(x),
                         masks, weights=weights)  # fmt: skip
    add_parts(propagation.finish(), grads.flat)
    if decay:
        add_weight_decay_(grads, params, decay)
    return grads.flat.copy()


def numeric_gradient(params, *args, **kwargs):
    numeric = np.empty(params.count)
    for index in range(params.count):
        saved = params.flat[index]
        params.flat[index] = saved + STEP
        up = objective(params, *args, **kwargs)
        params.flat[index] = saved - STEP
        down = objective(params, *args, **kwargs)
        params.flat[index] = saved
        numeric[index] = (up - down) / (2 * STEP)
    return numeric


def relative_error(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


@pytest.mark.parametrize("widths", SHAPES, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_matches_finite_differences(widths, name):
    params, x, output, t = make_problem(widths)
    activation = get_activation(name)
    analytic = analytic_gradient(params, activation, output, x, t)
    numeric = numeric_gradient(params, activation, output, x, t)
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("widths", SHAPES, ids=str)
def test_backward_with_weight_decay_matches_finite_differences(widths):
    params, x, output, t = make_problem(widths, seed=1)
    activation = get_activation("tanh")
    analytic = analytic_gradient(params, activation, output, x, t, decay=0.3)
    numeric = numeric_gradient(params, activation, output, x, t, decay=0.3)
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("widths", [(4, 5, 1), (5, 6, 4, 3)], ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_with_a_fixed_dropout_mask_matches_finite_differences(widths, name):
    params, x, output, t = make_problem(widths, seed=2)
    rng = np.random.default_rng(5)
    rate = 0.4
    masks = [(rng.random((len(x), w)) >= rate) / (1 - rate) for w in widths[1:-1]]
    activation = get_activation(name)
    analytic = analytic_gradient(params, activation, output, x, t, masks)
    numeric = numeric_gradient(params, activation, output, x, t, masks)
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("widths", [(4, 3, 1), (6, 5, 4, 3)], ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_of_squared_error_matches_finite_differences(widths, name):
    params, x, output, t = make_problem(widths, seed=3, regression=True)
    activation = get_activation(name)
    analytic = analytic_gradient(params, activation, output, x, t)
    numeric = numeric_gradient(params, activation, output, x, t)
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("regression", [False, True], ids=["classification", "regression"])
@pytest.mark.parametrize("widths", [(4, 3, 1), (5, 6, 4, 3)], ids=str)
def test_backward_with_row_weights_matches_finite_differences(widths, regression):
    params, x, output, t = make_problem(widths, seed=4, regression=regression)
    weights = np.random.default_rng(6).uniform(0, 2, size=len(x))
    weights[2] = 0.0
    activation = get_activation("tanh")
    analytic = analytic_gradient(params, activation, output, x, t, weights=weights)
    numeric = numeric_gradient(params, activation, output, x, t, weights=weights)
    assert relative_error(analytic, numeric) < 1e-6


def test_weighted_loss_and_count_are_sums_over_the_weights_of_the_rows():
    params, x, output, t = make_problem((4, 5, 3), seed=5, m=6)
    weights = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0])
    workspace = Workspace(params.widths, len(x), x.dtype)
    model, weight = Model(params, get_activation("relu"), output), params.layers[0].weight
    z = forward(params.layers, weight, model.activation, x, workspace).copy()
    propagation = Propagation(model, Columns(slice(0, 4)), len(x), Team(1), training=True)
    loss, correct = propagation.measure(x, t, weight, weights)
    assert loss == pytest.approx(output.row_losses(z, t) @ weights, rel=1e-13)
    assert correct == weights[z.argmax(axis=1) == t].sum()
    trained = propagation.gradient(x, t, weight, 1.0, weights=weights)
    assert trained == pytest.approx((loss, correct), rel=1e-13)


def test_skipped_input_columns_get_exactly_zero_weight_gradient():
    params, x, output, t = make_problem((6, 4, 1), zero_columns=(0, 1, 5))
    grads = analytic_gradient(params, get_activation("sigmoid"), output, x, t)
    weight_grad = grads[: 6 * 4].reshape(6, 4)
    assert active_inputs(x) == slice(2, 5)
    assert np.all(weight_grad[[0, 1, 5]] == 0) and np.all(weight_grad[2:5] != 0)


def test_a_compacted_copy_of_scattered_zero_columns_gives_the_same_gradient():
    """Columns 1 and 4 are zero inside the range 0..6: a compacted copy skips them too."""
    params, x, output, t = make_problem((7, 5, 3), m=80, zero_columns=(1, 4))
    activation = get_activation("tanh")
    nonzero = nonzero_columns(x)
    assert nonzero.tolist() == [0, 2, 3, 5, 6]
    compacted = analytic_gradient(params, activation, output, x, t, columns=Columns(nonzero))
    ranged = analytic_gradient(params, activation, output, x, t)
    np.testing.assert_allclose(compacted, ranged, rtol=1e-13, atol=1e-16)
    weight_grad = compacted[: 7 * 5].reshape(7, 5)
    assert np.all(weight_grad[[1, 4]] == 0)


def test_rows_stored_by_column_groups_give_the_same_gradient():
    """Rare columns (rows 3 and 10 use columns 16 to 31; 32 is blank) go to a later
    group holding just those rows; the chunk's second part (rows 40 to 79) has none."""
    params, x, output, t = make_problem((33, 5, 3), m=80, zero_columns=())
    x[:, 16:] = 0.0
    x[[3, 10], 16:32] = 1.5
    plan = plan_groups(x)
    assert plan.bounds == (0, 16, 32)
    activation = get_activation("sigmoid")
    stored = analytic_gradient(params, activation, output, x, t, columns=Columns(plan.order),
                               inputs=grouped(x, plan))  # fmt: skip
    ranged = analytic_gradient(params, activation, output, x, t)
    np.testing.assert_allclose(stored, ranged, rtol=1e-13, atol=1e-16)
    assert np.all(stored[: 33 * 5].reshape(33, 5)[32] == 0)


def test_chunks_are_cut_into_fixed_parts_by_their_size_and_fewest_rows():
    assert parts_of(63) == [slice(0, 63)]  # too few rows to be worth cutting
    assert len(parts_of(64)) == PARTS == 2
    assert parts_of(1024) == [slice(0, 512), slice(512, 1024)]
    assert parts_of(129) == [slice(0, 64), slice(64, 129)]
    assert parts_of(1024, min_rows=513) == [slice(0, 1024)]
    assert parts_of(1024, min_rows=512) == [slice(0, 512), slice(512, 1024)]


def test_multiply_adds_per_row_counted_by_hand():
    # 4-3-2: forward 4*3 + 3*2 = 18; weight gradients 18 more; the delta carried below
    # the second layer 3*2 = 6 (none below the first): 42 in training
    assert multiply_adds_per_row((4, 3, 2), training=False) == 18
    assert multiply_adds_per_row((4, 3, 2), training=True) == 42
    assert MIN_PART_WORK == 1 << 24
    assert fewest_part_rows(1000) == 16778  # ceil(16777216 / 1000)
    assert fewest_part_rows(10**9) == MIN_PART_ROWS


def test_only_chunks_with_enough_work_are_cut():
    """A small network's chunk stays whole (a second thread costs more than it saves);
    784-256-10's batch of 128 is cut in two."""

    def parts(widths, rows):
        model = Model(Parameters(widths, np.dtype(np.float32)), get_activation("relu"),
                      output_layer(widths[-1]))  # fmt: skip
        propagation = Propagation(model, Columns(slice(0, widths[0])), 1024, Team(2),
                                  training=True)  # fmt: skip
        return len(propagation.parts_of(rows))

    assert parts((64, 100, 10), 1024) == 1
    assert parts((784, 256, 10), 128) == PARTS


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_the_parts_of_a_chunk_add_up_to_its_gradient(name):
    """A chunk of 100 rows in two parts: finite differences of the whole, and the same
    bits whether one thread or two runs the parts."""
    params, x, output, t = make_problem((6, 5, 3), seed=7, m=100)
    activation = get_activation(name)
    one = analytic_gradient(params, activation, output, x, t, team=Team(1))
    two = analytic_gradient(params, activation, output, x, t, team=Team(2))
    np.testing.assert_array_equal(one, two)
    numeric = numeric_gradient(params, activation, output, x, t)
    assert relative_error(one, numeric) < 1e-6


def test_accumulating_chunks_equals_one_pass_over_the_batch():
    params, x, output, t = make_problem((5, 4, 3), m=150)
    activation = get_activation("relu")
    columns = Columns(slice(0, 5))
    whole = analytic_gradient(params, activation, output, x, t, columns=columns)
    model = Model(params, activation, output)
    with mock.patch.object(parallel, "MIN_PART_WORK", 0):
        propagation = Propagation(model, columns, 70, Team(2), training=True)
    for index, rows in enumerate([slice(0, 70), slice(70, 140), slice(140, 150)]):
        propagation.gradient(x[rows], t[rows], params.layers[0].weight, 1.0 / len(x),
                             accumulate=index > 0)  # fmt: skip
    grads = params.zeros_like()
    add_parts(propagation.finish(), grads.flat)
    np.testing.assert_allclose(grads.flat, whole, rtol=1e-13, atol=1e-15)


def test_active_inputs_of_all_zero_data_is_empty():
    assert active_inputs(np.zeros((3, 4))) == slice(0, 0)
    assert nonzero_columns(np.zeros((3, 4))).tolist() == []
