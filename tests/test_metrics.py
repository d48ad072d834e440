"""Classification metrics against scikit-learn and hand computation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import precision_recall_fscore_support

from scratchnet import InvalidArgumentError, InvalidTypeError
from scratchnet.metrics import calibration, class_scores, confusion_matrix, reliability

from . import reference

DIGITS = np.array([7, 0, 3, 9])  # class order is not sorted order


def random_predictions(seed: int, n: int = 500, labels=DIGITS):
    """Labels and predictions that agree about 70% of the time."""
    rng = np.random.default_rng(seed)
    y_true = rng.choice(labels, size=n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.choice(labels, size=n))
    return y_true, y_pred


def random_probabilities(seed: int, n: int = 800, k: int = 4):
    """Softmax rows of random logits, and labels drawn from them (so roughly calibrated)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, k))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    drawn = (rng.random((n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    return p, drawn


# -- confusion matrix and per-class scores --------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_confusion_matrix_is_scikit_learns(seed):
    y_true, y_pred = random_predictions(seed)
    expected = sk_confusion_matrix(y_true, y_pred, labels=DIGITS)
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, DIGITS), expected)


def test_confusion_matrix_by_hand():
    """Rows are true labels, columns predicted, in the order of ``labels``."""
    y_true = [2, 2, 1, 1, 1, 2]
    y_pred = [2, 1, 1, 1, 2, 2]
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, [1, 2]), [[2, 1], [1, 2]])
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, [2, 1]), [[2, 1], [1, 2]])
    np.testing.assert_array_equal(confusion_matrix([1, 1], [2, 2], [1, 2]), [[0, 2], [0, 0]])


@pytest.mark.parametrize("seed", range(5))
def test_class_scores_are_scikit_learns(seed):
    y_true, y_pred = random_predictions(seed)
    scores = class_scores(confusion_matrix(y_true, y_pred, DIGITS), DIGITS)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=DIGITS, zero_division=np.nan
    )
    np.testing.assert_allclose(scores.precision, precision, rtol=1e-15)
    np.testing.assert_allclose(scores.recall, recall, rtol=1e-15)
    np.testing.assert_allclose(scores.f1, f1, rtol=1e-15)
    np.testing.assert_array_equal(scores.support, support)
    np.testing.assert_array_equal(scores.labels, DIGITS)


def test_class_scores_by_hand_with_undefined_ratios():
    """Class 5 is never predicted (precision 0/0), class 6 never occurs (recall 0/0),
    class 4 is neither right nor predicted (F1 0/(0 + 2) = 0)."""
    y_true = [4, 4, 5, 5, 5]
    y_pred = [5, 5, 6, 6, 5]
    scores = class_scores(confusion_matrix(y_true, y_pred, [4, 5, 6]), [4, 5, 6])
    np.testing.assert_array_equal(scores.support, [2, 3, 0])
    np.testing.assert_array_equal(scores.predicted, [0, 3, 2])
    np.testing.assert_array_equal(scores.correct, [0, 1, 0])
    np.testing.assert_array_equal(scores.precision, [np.nan, 1 / 3, 0.0])
    np.testing.assert_array_equal(scores.recall, [0.0, 1 / 3, np.nan])
    np.testing.assert_array_equal(scores.f1, [0.0, 2 / 6, 0.0])
    sk = precision_recall_fscore_support(y_true, y_pred, labels=[4, 5, 6], zero_division=np.nan)
    for ours, theirs in zip((scores.precision, scores.recall, scores.f1), sk, strict=False):
        np.testing.assert_array_equal(ours, theirs)


# -- calibration -----------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [10, 5, 1])
@pytest.mark.parametrize("seed", range(3))
def test_reliability_bins_are_scikit_learns_calibration_curve(seed, n_bins):
    rng = np.random.default_rng(seed)
    probability = rng.random(1000) ** 3  # most of the mass near 0, some bins sparse
    outcome = rng.random(1000) < probability
    bins = reliability(probability, outcome, n_bins)
    frequency, mean_probability = calibration_curve(outcome, probability, n_bins=n_bins)
    filled = bins.count > 0
    np.testing.assert_allclose(bins.frequency[filled], frequency, rtol=1e-14)
    np.testing.assert_allclose(bins.mean_probability[filled], mean_probability, rtol=1e-14)
    assert np.all(np.isnan(bins.frequency[~filled]))
    assert bins.count.sum() == 1000
    np.testing.assert_allclose(bins.edges, np.arange(n_bins + 1) / n_bins, atol=1e-15)


def test_probabilities_on_the_edges_fall_in_the_lower_bin_as_in_scikit_learn():
    probability = np.array([0.0, 0.1, 0.5, 1.0, 0.55])
    outcome = np.array([0, 1, 1, 1, 0])
    bins = reliability(probability, outcome)
    np.testing.assert_array_equal(bins.count, [2, 0, 0, 0, 1, 1, 0, 0, 0, 1])
    frequency, mean_probability = calibration_curve(outcome, probability, n_bins=10)
    np.testing.assert_allclose(bins.frequency[bins.count > 0], frequency)
    np.testing.assert_allclose(bins.mean_probability[bins.count > 0], mean_probability)


def test_expected_calibration_error_by_hand():
    """Bin [0, 0.1]: p 0.05, 0.05, outcomes 0, 1 -> gap |0.5 - 0.05| = 0.45, weight 2/5.
    Bin (0.7, 0.8]: p 0.8, 0.8, 0.8, outcomes 1, 1, 1 -> gap |1 - 0.8| = 0.2, weight 3/5.
    ECE = 0.4 * 0.45 + 0.6 * 0.2 = 0.3."""
    bins = reliability([0.05, 0.05, 0.8, 0.8, 0.8], [0, 1, 1, 1, 1])
    assert bins.ece == pytest.approx(0.3, abs=1e-15)


def test_expected_calibration_error_is_zero_when_frequencies_match_and_one_at_worst():
    assert reliability([0.25] * 4, [1, 0, 0, 0]).ece == pytest.approx(0.0, abs=1e-15)
    assert reliability([1.0, 1.0, 0.0], [0, 0, 1]).ece == 1.0


def test_binary_calibration_bins_the_probability_of_the_second_class():
    """Two classes: calibration_curve(y == classes[1], p[:, 1]), whatever the labels."""
    rng = np.random.default_rng(3)
    p1 = rng.random(600)
    labels = np.where(rng.random(600) < p1, 2, 1)
    probabilities = np.column_stack([1 - p1, p1])
    bins = calibration(probabilities, labels, classes=[1, 2])
    frequency, mean_probability = calibration_curve(labels == 2, p1, n_bins=10)
    np.testing.assert_allclose(bins.frequency[bins.count > 0], frequency, rtol=1e-14)
    np.testing.assert_allclose(bins.mean_probability[bins.count > 0], mean_probability)


@pytest.mark.parametrize("seed", range(3))
def test_multi_class_calibration_bins_the_top_label_confidence(seed):
    probabilities, drawn = random_probabilities(seed)
    labels = DIGITS[drawn]
    bins = calibration(probabilities, labels, classes=DIGITS)
    confidence = probabilities.max(axis=1)
    correct = DIGITS[probabilities.argmax(axis=1)] == labels
    frequency, mean_probability = calibration_curve(correct, confidence, n_bins=10)
    np.testing.assert_allclose(bins.frequency[bins.count > 0], frequency, rtol=1e-14)
    np.testing.assert_allclose(bins.mean_probability[bins.count > 0], mean_probability)
    assert bins.ece == pytest.approx(
        reference.expected_calibration_error(confidence, correct), rel=1e-12
    )


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: confusion_matrix([1, 2], [1], [1, 2]), InvalidArgumentError, "2 labels but"),
        (lambda: confusion_matrix([], [], [1, 2]), InvalidArgumentError, "empty"),
        (lambda: confusion_matrix([1, 3], [1, 2], [1, 2]), InvalidArgumentError, r"\[3\]"),
        (lambda: confusion_matrix([1, 2], [1, 2], [1, 1]), InvalidArgumentError, "distinct"),
        (lambda: confusion_matrix([1.5], [1], [1, 2]), InvalidTypeError, "integer"),
        (lambda: confusion_matrix([[1, 2]], [1], [1, 2]), InvalidArgumentError, "1-D"),
        (lambda: class_scores(np.eye(3, dtype=int), [1, 2]), InvalidArgumentError, r"\(2, 2\)"),
        (lambda: class_scores(np.eye(2), [1, 2]), InvalidArgumentError, "integer matrix"),
        (lambda: class_scores(-np.eye(2, dtype=int), [1, 2]), InvalidArgumentError, "negative"),
        (lambda: reliability([0.5, 1.5], [1, 0]), InvalidArgumentError, r"row 1: 1\.5"),
        (lambda: reliability([0.5, np.nan], [1, 0]), InvalidArgumentError, "nan"),
        (lambda: reliability([], []), InvalidArgumentError, "non-empty"),
        (lambda: reliability([0.5], [1, 0]), InvalidArgumentError, "1 booleans"),
        (lambda: reliability([0.5], [2]), InvalidArgumentError, "booleans"),
        (lambda: reliability([0.5], [1], n_bins=0), InvalidArgumentError, "n_bins"),
        (  # not a MemoryError
            lambda: reliability([0.5], [1], n_bins=10**12),
            InvalidArgumentError,
            "n_bins must be at most 1,000,000, got 1,000,000,000,000",
        ),
        (  # not a shape (0,) of some "probability"
            lambda: calibration(np.empty((0, 2)), [], [0, 1]),
            InvalidArgumentError,
            "^probabilities and y_true are empty: nothing to bin$",
        ),
        (  # not a type error
            lambda: confusion_matrix([0], [0], []),
            InvalidArgumentError,
            r"^at least two classes are needed, got \[\]$",
        ),
        (  # 2**63 would be support -2**63 + 1 as int64
            lambda: class_scores(np.array([[2**63, 1], [1, 1]], np.uint64), [0, 1]),
            InvalidArgumentError,
            "a count over 2,305,843,009,213,693,951, the most 2 labels' scores add up",
        ),
        (  # 2 * correct and predicted + support overflowed: F1 1.333 where 0.8 is right
            lambda: class_scores(np.array([[2**62, 2**61], [0, 1]], np.int64), [0, 1]),
            InvalidArgumentError,
            "a count over",
        ),
        (lambda: calibration(np.ones((2, 3)), [1, 2], [1, 2]), InvalidArgumentError, "column"),
        (lambda: calibration(np.ones((2, 2)), [1], [1, 2]), InvalidArgumentError, "2 rows"),
        (lambda: calibration(np.ones((1, 2)), [5], [1, 2]), InvalidArgumentError, r"\[5\]"),
        (lambda: calibration([["a", "b"]], [1], [1, 2]), InvalidTypeError, "must be numbers"),
        (
            lambda: calibration([[0.3, 0.3]], [1], [1, 2]),
            InvalidArgumentError,
            r"sum to 1; 1 do not, the first at row 0: 0\.6",
        ),
        (
            lambda: calibration([[0.5, 0.5], [1.5, 0.5]], [1, 1], [1, 2]),
            InvalidArgumentError,
            r"lie in \[0, 1\]; 1 do not, the first at row 1: 1\.5",
        ),  # the unbinned column too
        (lambda: reliability(["a"], [1]), InvalidTypeError, "must be numbers"),
        (
            lambda: confusion_matrix([1], [1], np.arange(100_000)),
            InvalidArgumentError,
            "100000 labels would hold 10,000,000,000 cells",
        ),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_bad_input_is_refused_naming_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_largest_counts_accepted_give_exact_scores():
    """Every count up to int64's largest over twice the labels: sums and 2 x correct fit."""
    largest = np.iinfo(np.int64).max // 4
    scores = class_scores(np.full((2, 2), largest, np.uint64), [0, 1])
    assert scores.support.tolist() == [2 * largest, 2 * largest]
    assert scores.f1.tolist() == scores.precision.tolist() == [0.5, 0.5]
