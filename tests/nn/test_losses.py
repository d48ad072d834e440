"""Output losses computed from logits: values, gradients, stability."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.nn.losses import (
    OUTPUTS,
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    MeanSquaredError,
    binary_cross_entropy,
    output_layer,
    softplus,
    weighted_loss_and_delta_,
)

LAYERS = [BinaryCrossEntropy(), CategoricalCrossEntropy(), MeanSquaredError()]


def random_problem(loss, seed=3, m=5):
    """Logits (m, k) and targets of the layer's kind: classes for the classifiers, real
    values for regression (k = 3)."""
    rng = np.random.default_rng(seed)
    k = 1 if isinstance(loss, BinaryCrossEntropy) else 4 if loss.classifies else 3
    z = rng.normal(size=(m, k))
    labels = rng.integers(0, max(k, 2), size=m) if loss.classifies else rng.normal(size=(m, k))
    return z, loss.encode(labels, np.dtype(np.float64))


def numeric_gradient(function, z, h=1e-6):
    """Central finite differences of a scalar function of z."""
    numeric = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (function(up) - function(down)) / (2 * h)
    return numeric


def test_binary_cross_entropy_matches_the_probability_formula():
    z = np.linspace(-8, 8, 33)
    p = 1 / (1 + np.exp(-z))
    for t in (0.0, 1.0):
        expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
        np.testing.assert_allclose(binary_cross_entropy(z, t), expected, rtol=1e-12)


def test_binary_cross_entropy_takes_lists_as_sigmoid_does():
    np.testing.assert_allclose(binary_cross_entropy([0.0, 2.0], [0, 1]),
                               [np.log(2), np.log1p(np.exp(-2.0))], rtol=1e-14)  # fmt: skip


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


@pytest.mark.parametrize("loss", LAYERS, ids=lambda loss: loss.name)
def test_the_delta_is_the_gradient_of_the_loss_it_returns(loss):
    z, t = random_problem(loss)
    analytic = z.copy()
    returned = loss.loss_and_delta_(analytic, t, 1.0)
    numeric = numeric_gradient(lambda v: loss.loss_sum(v, t), z)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)
    assert returned == pytest.approx(loss.loss_sum(z, t), rel=1e-13)


@pytest.mark.parametrize("loss", LAYERS, ids=lambda loss: loss.name)
def test_row_losses_add_up_to_the_loss_and_correct_rows_to_the_count(loss):
    z, t = random_problem(loss, m=7)
    assert loss.row_losses(z, t).shape == (7,)
    assert loss.row_losses(z, t).sum() == pytest.approx(loss.loss_sum(z, t), rel=1e-13)
    assert np.count_nonzero(loss.correct_rows(z, t)) == loss.n_correct(z, t)
    assert type(loss).n_correct(z, t) == loss.n_correct(z, t)  # on the class, as before


@pytest.mark.parametrize("loss", LAYERS, ids=lambda loss: loss.name)
def test_weighted_delta_is_the_gradient_of_the_weighted_loss(loss):
    """sum_i w_i L_i, with a zero weight among them; the returned count is the weight
    of the rows predicted right."""
    z, t = random_problem(loss, seed=4, m=6)
    weights = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25])
    analytic = z.copy()
    returned, correct = weighted_loss_and_delta_(loss, analytic, t, weights, 0.5)
    numeric = numeric_gradient(lambda v: 0.5 * loss.row_losses(v, t) @ weights, z)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)
    assert returned == pytest.approx(loss.row_losses(z, t) @ weights, rel=1e-13)
    assert correct == weights[loss.correct_rows(z, t)].sum()


def test_squared_error_is_half_the_mean_over_outputs_of_the_squared_differences():
    """L = 1/(2k) sum_j (z_j - t_j)^2 per row: summed over rows and divided by m, half
    the mean squared error over all m k values (scikit-learn's squared_loss)."""
    z = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 4.0]])
    t = np.array([[0.0, 2.0, 1.0], [1.5, -1.0, 4.0]])
    expected_rows = [(1 + 0 + 4) / 6, (1 + 1 + 0) / 6]
    np.testing.assert_allclose(MeanSquaredError.row_losses(z, t), expected_rows, rtol=1e-15)
    assert MeanSquaredError.loss_sum(z, t) / 2 == pytest.approx(0.5 * np.mean((z - t) ** 2))
    delta = z.copy()
    MeanSquaredError.loss_and_delta_(delta, t, 0.5)
    np.testing.assert_allclose(delta, 0.5 * (z - t) / 3, rtol=1e-15)
    assert MeanSquaredError.n_correct(z, t) == 0 and not MeanSquaredError.classifies


def test_squared_error_targets_keep_their_columns_in_the_networks_dtype():
    one = MeanSquaredError.encode(np.array([1, 2, 3]), np.dtype(np.float32))
    many = MeanSquaredError.encode(np.arange(6.0).reshape(3, 2), np.dtype(np.float64))
    assert (one.shape, one.dtype, many.shape) == ((3, 1), np.float32, (3, 2))


@pytest.mark.parametrize("loss", LAYERS[:2], ids=lambda loss: loss.name)
def test_log_probabilities_are_the_log_of_the_probabilities(loss):
    z, _ = random_problem(loss)
    np.testing.assert_allclose(loss.log_probabilities(z), np.log(loss.probabilities(z)), rtol=1e-12)


def test_log_probabilities_stay_finite_where_probabilities_round_to_zero():
    """log(1 - sigma(1e4)) = -1e4 and log softmax([1e4, -1e4])[1] = -2e4, exactly."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        binary = BinaryCrossEntropy.log_probabilities(np.array([[1e4]]))
        softmax = CategoricalCrossEntropy.log_probabilities(np.array([[1e4, -1e4]]))
    assert binary.tolist() == [[-1e4, 0.0]]
    assert softmax.tolist() == [[0.0, -2e4]]


def test_one_output_unit_means_sigmoid_and_more_mean_softmax():
    assert isinstance(output_layer(1), BinaryCrossEntropy)
    assert isinstance(output_layer(3), CategoricalCrossEntropy)


def test_regression_means_an_identity_output_of_any_size():
    assert isinstance(output_layer(1, regression=True), MeanSquaredError)
    assert isinstance(output_layer(4, regression=True), MeanSquaredError)
    assert sorted(OUTPUTS) == ["identity", "sigmoid", "softmax"]


def test_softmax_of_logits_near_the_limits_of_float32_is_exact_and_quiet(recwarn):
    """3e38 - (-3e38) overflows to inf: the shifted logit is -inf, whose exponential is
    exactly the 0 that exp(-6e38) is; no warning reaches the user."""
    z = np.array([[3e38, -3e38, 0.0]], np.float32)
    assert CategoricalCrossEntropy.probabilities(z).tolist() == [[1.0, 0.0, 0.0]]
    assert [str(warning.message) for warning in recwarn] == []


@pytest.mark.parametrize("weighted", [False, True])
def test_the_constant_loss_is_scikit_learns_loss_of_the_class_shares(weighted):
    """log_loss of predicting every row the (weighted) share of each class."""
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, size=60)
    weights = rng.random(60) * 2 if weighted else None
    shares = np.bincount(labels, weights=weights) / (weights.sum() if weighted else 60)
    constant = np.tile(shares, (60, 1))
    expected = log_loss(labels, constant, sample_weight=weights)
    softmax = CategoricalCrossEntropy.constant_loss(labels, weights)
    assert softmax == pytest.approx(expected, rel=1e-12)
    two = labels % 2
    p = np.average(two, weights=weights)
    expected = log_loss(two, np.column_stack([np.full(60, 1 - p), np.full(60, p)]),
                        sample_weight=weights)  # fmt: skip
    binary = BinaryCrossEntropy.constant_loss(BinaryCrossEntropy.encode(two, np.float32), weights)
    assert binary == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_constant_loss_of_regression_is_half_the_error_of_the_mean(weighted):
    """Half scikit-learn's mean squared error of predicting the (weighted) mean."""
    from sklearn.metrics import mean_squared_error

    rng = np.random.default_rng(6)
    t = rng.normal(size=(50, 3)) * [1.0, 10.0, 0.1] + 4
    weights = rng.random(50) * 2 if weighted else None
    mean = np.average(t, axis=0, weights=weights)
    expected = mean_squared_error(t, np.tile(mean, (50, 1)), sample_weight=weights) / 2
    assert MeanSquaredError.constant_loss(t, weights) == pytest.approx(expected, rel=1e-12)


def test_a_single_class_or_a_constant_target_costs_nothing_to_predict():
    assert CategoricalCrossEntropy.constant_loss(np.full(5, 2), None) == 0
    assert BinaryCrossEntropy.constant_loss(np.ones((5, 1)), None) == 0
    assert MeanSquaredError.constant_loss(np.full((5, 2), 3.0), None) == 0
