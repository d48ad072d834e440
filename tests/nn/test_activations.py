"""Activations: values, derivatives, stability for extreme inputs, in-place contracts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from scratchnet.errors import InvalidArgumentError, InvalidTypeError
from scratchnet.nn.activations import (
    ACTIVATIONS,
    LeakyReLU,
    get_activation,
    sigmoid,
    sigmoid_derivative,
)

EXTREME = np.array([-1e4, -745.0, -50.0, -1.0, 0.0, 1.0, 50.0, 745.0, 1e4])

REFERENCE = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
}


def apply(name: str, z: np.ndarray) -> np.ndarray:
    out = np.array(z, dtype=np.float64)
    get_activation(name).forward_(out)
    return out


def derivative(name: str, z: np.ndarray) -> np.ndarray:
    a = apply(name, z)
    grad = np.ones_like(a)
    get_activation(name).backward_(grad, a)
    return grad


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_matches_the_textbook_formula(name):
    z = np.linspace(-6, 6, 121)
    np.testing.assert_allclose(apply(name, z), REFERENCE[name](z), rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivative_from_output_matches_central_differences(name):
    z = np.linspace(-4, 4, 81) + 0.013  # keeps away from the kink at 0
    h = 1e-6
    numeric = (REFERENCE[name](z + h) - REFERENCE[name](z - h)) / (2 * h)
    np.testing.assert_allclose(derivative(name, z), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_stay_finite_without_warnings(name, dtype):
    z = EXTREME.astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = z.copy()
        get_activation(name).forward_(a)
        grad = np.ones_like(a)
        get_activation(name).backward_(grad, a.copy())
    assert a.dtype == dtype and np.all(np.isfinite(a)) and np.all(np.isfinite(grad))


def test_sigmoid_reaches_its_limits_exactly():
    assert sigmoid(np.array([-1e4]))[0] == 0.0
    assert sigmoid(np.array([1e4]))[0] == 1.0
    assert sigmoid(np.array([0.0]))[0] == 0.5
    assert sigmoid_derivative(np.array([0.0]))[0] == 0.25
    assert sigmoid_derivative(np.array([-1e4, 1e4])).tolist() == [0.0, 0.0]


def test_sigmoid_keeps_float32():
    assert sigmoid(np.zeros(3, np.float32)).dtype == np.float32


def test_pure_sigmoid_does_not_modify_its_argument():
    z = np.array([-2.0, 0.0, 2.0])
    sigmoid(z)
    sigmoid_derivative(z)
    assert z.tolist() == [-2.0, 0.0, 2.0]


def test_leaky_relu_slope_is_configurable():
    z = np.array([-2.0, 3.0])
    LeakyReLU(alpha=0.2).forward_(z)
    assert z.tolist() == [-0.4, 3.0]


@pytest.mark.parametrize("alpha", [-0.1, 1.0, 2.0, float("nan"), "0.1", True])
def test_leaky_relu_refuses_a_slope_its_rules_do_not_hold_for(alpha):
    """Below 0, a no longer has z's sign; from 1, max(z, alpha z) picks alpha z for z > 0."""
    with pytest.raises(InvalidArgumentError, match=r"alpha must be a number in \[0, 1\)"):
        LeakyReLU(alpha=alpha)


def test_unknown_activation_names_the_choices():
    with pytest.raises(
        InvalidArgumentError, match=r"unknown activation 'swish'.*sigmoid, tanh, relu"
    ):
        get_activation("swish")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_precise_relative_to_its_value_far_below_one_half(dtype):
    """Within a few units in the last place of SciPy's expit in float64 (an exponential,
    a sum and a quotient each round once); 1 - sigma(40) or the tanh form is 0."""
    rtol = 4 * np.finfo(dtype).eps
    z = np.linspace(-80, 80, 3201).astype(dtype)
    reference = expit(z.astype(np.float64))
    np.testing.assert_allclose(sigmoid(z), reference, rtol=rtol, atol=0)
    np.testing.assert_allclose(
        sigmoid_derivative(z), reference * expit(-z.astype(np.float64)), rtol=2 * rtol, atol=0
    )
    assert sigmoid(z).dtype == dtype and sigmoid_derivative(z).dtype == dtype


@pytest.mark.parametrize("function", [sigmoid, sigmoid_derivative])
def test_sigmoid_refuses_complex_numbers(function):
    """Their |z| would be taken for their size: sigmoid(1 + 2j) gave a real 0.9."""
    with pytest.raises(InvalidTypeError, match=rf"^{function.__name__} takes real numbers, got"):
        function(np.array([1 + 2j]))
