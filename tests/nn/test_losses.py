"""Output losses computed from logits: values, gradients, stability."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.nn.losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    binary_cross_entropy,
    output_layer,
    softplus,
)


def test_binary_cross_entropy_matches_the_probability_formula():
    z = np.linspace(-8, 8, 33)
    p = 1 / (1 + np.exp(-z))
    for t in (0.0, 1.0):
        expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
        np.testing.assert_allclose(binary_cross_entropy(z, t), expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_is_finite_with_correct_limits_for_huge_logits(dtype):
    z = np.array([-1e4, 1e4], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        right = binary_cross_entropy(z, np.array([0.0, 1.0], dtype=dtype))
        wrong = binary_cross_entropy(z, np.array([1.0, 0.0], dtype=dtype))
    assert right.tolist() == [0.0, 0.0]
    assert wrong.tolist() == [1e4, 1e4]


def test_softplus_never_overflows():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = softplus(np.array([-1e4, 0.0, 1e4]))
    assert values[0] == 0.0 and values[1] == np.log(2) and values[2] == 1e4


def test_categorical_cross_entropy_matches_log_softmax():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 4))
    t = np.array([0, 1, 2, 3, 0, 2])
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(6), t].sum()
    assert CategoricalCrossEntropy.loss_sum(z, t) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_cross_entropy_is_finite_for_huge_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    t = np.array([0, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = CategoricalCrossEntropy.loss_sum(z, t)
        delta = z.copy()
        CategoricalCrossEntropy.loss_and_delta_(delta, t, 1.0)
    assert loss == pytest.approx(0.0 + (1e4 + np.log(2) + 1e4), rel=1e-6)
    assert np.all(np.isfinite(delta))
    np.testing.assert_allclose(delta, [[0, 0, 0], [-1, 0.5, 0.5]], atol=1e-7)


@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy()])
def test_the_delta_is_the_gradient_of_the_loss_it_returns(loss):
    rng = np.random.default_rng(3)
    k = 1 if isinstance(loss, BinaryCrossEntropy) else 4
    z = rng.normal(size=(5, k))
    t = loss.encode(rng.integers(0, max(k, 2), size=5), np.dtype(np.float64))
    analytic = z.copy()
    returned = loss.loss_and_delta_(analytic, t, 1.0)
    numeric = np.zeros_like(z)
    h = 1e-6
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (loss.loss_sum(up, t) - loss.loss_sum(down, t)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)
    assert returned == pytest.approx(loss.loss_sum(z, t), rel=1e-13)


def test_probabilities_sum_to_one_and_follow_the_logits():
    z = np.array([[2.0], [-1.0]])
    p = BinaryCrossEntropy.probabilities(z)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-z[:, 0])), rtol=1e-15)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    q = CategoricalCrossEntropy.probabilities(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(q, [np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum()], rtol=1e-15)


def test_one_output_unit_means_sigmoid_and_more_mean_softmax():
    assert isinstance(output_layer(1), BinaryCrossEntropy)
    assert isinstance(output_layer(3), CategoricalCrossEntropy)
