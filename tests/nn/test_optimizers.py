"""Each optimizer against its update formula, on a small case computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.errors import InvalidArgumentError
from scratchnet.nn.optimizers import Adam, GradientDescent, Momentum, get_optimizer

W0 = [1.0, -2.0]
G1 = [0.5, 0.25]
G2 = [-0.5, 0.25]


def run(optimizer, gradients, lr=0.1, dtype=np.float64):
    params = np.array(W0, dtype=dtype)
    state = optimizer.init(params)
    for gradient in gradients:
        coefficients = optimizer.advance(state, lr)
        optimizer.update_span_(params, np.array(gradient, dtype=dtype), state, coefficients,
                               slice(None))  # fmt: skip
    return params, state


def test_gradient_descent_steps_against_the_gradient():
    params, _ = run(GradientDescent(), [G1])
    # w - lr g = [1 - 0.05, -2 - 0.025]
    np.testing.assert_allclose(params, [0.95, -2.025], rtol=1e-15)


def test_momentum_accumulates_velocity():
    params, state = run(Momentum(momentum=0.9), [G1, G1])
    # v1 = g = [0.5, 0.25], w1 = [0.95, -2.025]; v2 = 0.9 v1 + g = [0.95, 0.475]
    # w2 = w1 - 0.1 v2 = [0.855, -2.0725]
    np.testing.assert_allclose(state["velocity"], [0.95, 0.475], rtol=1e-15)
    np.testing.assert_allclose(params, [0.855, -2.0725], rtol=1e-15)


def test_nesterov_looks_ahead_along_the_velocity():
    params, _ = run(Momentum(momentum=0.9, nesterov=True), [G1, G1])
    # step 1: v = [0.5, 0.25], w -= 0.1 (g + 0.9 v) = 0.1 [0.95, 0.475] -> [0.905, -2.0475]
    # step 2: v = [0.95, 0.475], w -= 0.1 (g + 0.9 v) = 0.1 [1.355, 0.6775] -> [0.7695, -2.11525]
    np.testing.assert_allclose(params, [0.7695, -2.11525], rtol=1e-14)


def moments(state):
    """Adam's m and v from the scaled state it keeps: M = m / (1 - b1), V = v / (1 - b2)."""
    return state["M"] * (1 - 0.9), state["V"] * (1 - 0.999)


def test_adam_first_step_moves_each_weight_by_about_the_learning_rate():
    params, state = run(Adam(), [G1])
    # m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2: w -= 0.1 g / (|g| + 1e-8)
    expected = [1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 - 0.1 * 0.25 / (0.25 + 1e-8)]
    np.testing.assert_allclose(params, expected, rtol=1e-15)
    np.testing.assert_allclose(moments(state), ([0.05, 0.025], [0.00025, 0.0000625]), rtol=1e-15)
    assert state["step"] == 1


def test_adam_second_step_applies_bias_correction():
    params, state = run(Adam(), [G1, G2])
    # m = 0.9 [0.05, 0.025] + 0.1 [-0.5, 0.25] = [-0.005, 0.0475]
    # v = 0.999 [0.00025, 0.0000625] + 0.001 [0.25, 0.0625] = [0.00049975, 0.0001249375]
    # m_hat = m / 0.19;  v_hat = v / 0.001999 = [0.25, 0.0625]  ->  sqrt = [0.5, 0.25]
    first = np.array([1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 - 0.1 * 0.25 / (0.25 + 1e-8)])
    step = 0.1 * np.array([-0.005 / 0.19 / (0.5 + 1e-8), 0.0475 / 0.19 / (0.25 + 1e-8)])
    m, v = moments(state)
    np.testing.assert_allclose(m, [-0.005, 0.0475], rtol=1e-14)
    np.testing.assert_allclose(v, [0.00049975, 0.0001249375], rtol=1e-14)
    np.testing.assert_allclose(params, first - step, rtol=1e-13)


@pytest.mark.parametrize("name", ["gd", "sgd", "momentum", "nesterov", "adam"])
def test_every_optimizer_keeps_float32(name):
    params, state = run(get_optimizer(name), [G1, G2], dtype=np.float32)
    assert params.dtype == np.float32
    assert all(value.dtype == np.float32 for value in state.values() if hasattr(value, "dtype"))


@pytest.mark.parametrize("name", ["momentum", "nesterov", "adam"])
def test_state_is_created_from_the_shape_and_kept_apart(name):
    optimizer = get_optimizer(name)
    params = np.zeros(5)
    state = optimizer.init(params)
    arrays = [value for value in state.values() if isinstance(value, np.ndarray)]
    assert arrays and all(a.shape == (5,) and not np.shares_memory(a, params) for a in arrays)


def test_optimizer_names():
    assert get_optimizer("gd").name == "gd" and get_optimizer("sgd").name == "gd"
    assert get_optimizer("nesterov").name == "nesterov"
    adam = Adam(beta1=0.8)
    assert get_optimizer(adam) is adam


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: get_optimizer("rmsprop"), "unknown optimizer 'rmsprop'; choose from gd, sgd"),
        (lambda: Momentum(momentum=1.0), r"momentum must be a number in \[0, 1\), got 1.0"),
        (lambda: Momentum("0.9"), r"momentum must be a number in \[0, 1\), got '0.9'"),
        (lambda: Momentum(nesterov="yes"), "nesterov must be True or False, got 'yes'"),
        (lambda: Adam(beta1=-0.1), r"beta1 must be a number in \[0, 1\)"),
        (lambda: Adam(beta1="a"), r"beta1 must be a number in \[0, 1\), got 'a'"),
        (lambda: Adam(beta2=1.0), r"beta2 must be a number in \[0, 1\)"),
        (lambda: Adam(beta2=float("nan")), r"beta2 must be a number in \[0, 1\), got nan"),
        (lambda: Adam(eps=0.0), r"eps must be a number in \(0, inf\)"),
        (lambda: Adam(eps=float("inf")), r"eps must be a number in \(0, inf\), got inf"),
        (lambda: Adam(eps=True), r"eps must be a number in \(0, inf\), got True"),
        (lambda: Adam(eps=10**400), r"eps must be a number in \(0, inf\), got 1000"),  # no float
    ],
)
def test_bad_optimizer_settings_are_rejected(make, message):
    with pytest.raises(InvalidArgumentError, match=message):
        make()
