"""The backward pass against central finite differences of the objective.

J(theta) = mean loss over the batch + (lambda / 2) * sum of squared weights, with the
network's forward pass (and, for dropout, a fixed mask). Every parameter is perturbed.
"""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.nn.activations import ACTIVATIONS, get_activation
from scratchnet.nn.losses import output_layer
from scratchnet.nn.parameters import Parameters
from scratchnet.nn.propagation import Workspace, active_inputs, add_weight_decay_, backward, forward

SHAPES = [(4, 3, 1), (6, 5, 4, 1), (5, 4, 3), (3, 7, 6, 4)]
STEP = 1e-6


def make_problem(widths, seed=0, m=9, zero_columns=(0, -1)):
    """Random float64 parameters, a batch whose first and last columns are zero, targets."""
    rng = np.random.default_rng(seed)
    params = Parameters(widths, np.dtype(np.float64))
    params.flat[:] = rng.normal(scale=0.7, size=params.count)
    x = rng.normal(size=(m, widths[0]))
    x[:, list(zero_columns)] = 0.0
    output = output_layer(widths[-1])
    n_classes = 2 if widths[-1] == 1 else widths[-1]
    t = output.encode(rng.integers(0, n_classes, size=m), x.dtype)
    return params, x, output, t


def objective(params, activation, output, x, t, masks=None, decay=0.0):
    workspace = Workspace(params.widths, len(x), x.dtype, dropout=masks is not None)
    inputs = slice(0, x.shape[1])
    z = forward(params.layers, activation, x, inputs, workspace, masks)
    return output.loss_sum(z, t) / len(x) + decay / 2 * np.sum(params.weights**2)


def analytic_gradient(params, activation, output, x, t, masks=None, decay=0.0):
    workspace = Workspace(params.widths, len(x), x.dtype, dropout=masks is not None)
    inputs = active_inputs(x)
    grads = params.zeros_like()
    grads.flat[:] = np.nan  # every entry must be written
    z = forward(params.layers, activation, x[:, inputs], inputs, workspace, masks)
    output.loss_and_delta_(z, t, 1.0 / len(x))
    backward(params.layers, grads, activation, x[:, inputs], inputs, workspace, z, masks)
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


def test_skipped_input_columns_get_exactly_zero_weight_gradient():
    params, x, output, t = make_problem((6, 4, 1), zero_columns=(0, 1, 5))
    grads = analytic_gradient(params, get_activation("sigmoid"), output, x, t)
    weight_grad = grads[: 6 * 4].reshape(6, 4)
    assert active_inputs(x) == slice(2, 5)
    assert np.all(weight_grad[[0, 1, 5]] == 0) and np.all(weight_grad[2:5] != 0)


def test_accumulating_chunks_equals_one_pass_over_the_batch():
    params, x, output, t = make_problem((5, 4, 3), m=10)
    activation = get_activation("relu")
    inputs = slice(0, 5)
    whole = analytic_gradient(params, activation, output, x, t)
    grads = params.zeros_like()
    workspace = Workspace(params.widths, 4, x.dtype)
    for index, rows in enumerate([slice(0, 4), slice(4, 8), slice(8, 10)]):
        z = forward(params.layers, activation, x[rows], inputs, workspace)
        output.loss_and_delta_(z, t[rows], 1.0 / len(x))
        backward(params.layers, grads, activation, x[rows], inputs, workspace, z,
                 accumulate=index > 0)  # fmt: skip
    np.testing.assert_allclose(grads.flat, whole, rtol=1e-13, atol=1e-15)


def test_active_inputs_of_all_zero_data_is_empty():
    assert active_inputs(np.zeros((3, 4))) == slice(0, 0)
