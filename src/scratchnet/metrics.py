"""How good a classifier's predictions are: the confusion matrix, per-class precision,
recall, F1 and support, and calibration (reliability bins and the expected calibration
error). Plain NumPy on labels and probabilities; the same numbers feed the command line
and the HTML report, which write ratios as ``percent`` does (so do training's progress
lines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InvalidArgumentError, InvalidTypeError
from .validation import check_classes, check_labels, check_positive_int, encode_labels

N_BINS = 10
MAX_BINS = 1_000_000  # reliability bins: their counts and sums take 24 MB
INT64_MAX = int(np.iinfo(np.int64).max)
MAX_CONFUSION_CELLS = 1 << 26  # 512 MiB of counts: 8,192 labels
ROW_SUM_TOLERANCE = 1e-4  # a row of probabilities sums to 1 within this (float32: ~1e-7)


def confusion_matrix(y_true, y_pred, labels) -> np.ndarray:
    """C (k, k) int64: C[i, j] counts the rows whose true label is ``labels[i]`` and
    whose predicted label is ``labels[j]``. Rows sum to each class's support, columns to
    how often each class was predicted, the diagonal to the right predictions. A label
    outside ``labels`` is refused."""
    labels = check_classes(labels)
    y_true, y_pred = _label_pair(y_true, y_pred)
    k = len(labels)
    if k * k > MAX_CONFUSION_CELLS:  # checked before the matrix is allocated
        raise InvalidArgumentError(
            f"a confusion matrix of {k} labels would hold {k * k:,} cells, more than the "
            f"{MAX_CONFUSION_CELLS:,} it may; give only the labels that occur"
        )
    cells = k * encode_labels(y_true, labels, "y_true") + encode_labels(y_pred, labels, "y_pred")
    return np.bincount(cells, minlength=k * k).reshape(k, k)


@dataclass(frozen=True)
class ClassScores:
    """Per-class scores, one entry per label, from a confusion matrix C.

    With TP_i = C[i, i], predicted_i = sum_r C[r, i] and support_i = sum_c C[i, c]:
    precision_i = TP_i / predicted_i, recall_i = TP_i / support_i, and
    F1_i = 2 TP_i / (predicted_i + support_i), the harmonic mean of the two. A ratio
    whose denominator is 0 (a class never predicted, or absent) is NaN: undefined,
    not 0.
    """

    labels: np.ndarray  # (k,)
    precision: np.ndarray  # (k,) float64
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # (k,) int64: true rows of each class
    predicted: np.ndarray  # (k,) int64: rows predicted as each class
    correct: np.ndarray  # (k,) int64: the diagonal


def class_scores(confusion: np.ndarray, labels) -> ClassScores:
    """Precision, recall, F1 and support of each label from its confusion matrix (as
    ``confusion_matrix`` returns it: rows true, columns predicted). A ratio of 0 / 0
    (precision of a label never predicted, recall of one never true) is NaN, not
    scikit-learn's 0 with a warning: it is undefined, and the report writes 'n/a'."""
    labels = check_classes(labels)
    confusion = _check_confusion(confusion, len(labels))
    correct = np.diag(confusion).copy()
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    return ClassScores(
        labels=labels,
        precision=_ratio(correct, predicted),
        recall=_ratio(correct, support),
        f1=_ratio(2 * correct, predicted + support),
        support=support,
        predicted=predicted,
        correct=correct,
    )


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram's bins: ``edges`` (n_bins + 1,) split [0, 1] into equal
    widths; bin b holds the probabilities p with edges[b] < p <= edges[b + 1] (p = 0
    falls in the first bin, as in scikit-learn's calibration_curve). Per bin: ``count``
    rows, ``mean_probability`` (the mean predicted probability) and ``frequency`` (the
    share of those rows whose outcome was true); both NaN for an empty bin.
    """

    edges: np.ndarray
    count: np.ndarray
    mean_probability: np.ndarray
    frequency: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: sum over the non-empty bins b of
        (n_b / n) |frequency_b - mean_probability_b|, the gap between what was predicted
        and what happened, weighted by how many rows each bin holds (0: perfectly
        calibrated; at most 1)."""
        filled = self.count > 0
        gaps = np.abs(self.frequency[filled] - self.mean_probability[filled])
        return float(np.sum(self.count[filled] * gaps) / np.sum(self.count))


def reliability(probability, outcome, n_bins: int = N_BINS) -> Reliability:
    """Bin the predicted ``probability`` (n,) of an event, in [0, 1], against whether it
    happened (``outcome``, n booleans) into ``n_bins`` equal-width bins."""
    n_bins = check_positive_int(n_bins, "n_bins")
    if n_bins > MAX_BINS:
        raise InvalidArgumentError(f"n_bins must be at most {MAX_BINS:,}, got {n_bins:,}")
    probability = _check_probability(probability)
    outcome = np.asarray(outcome)
    if outcome.shape != probability.shape or outcome.dtype.kind not in "biu":
        raise InvalidArgumentError(
            f"outcome must be {len(probability)} booleans (0 or 1), one per probability, got "
            f"shape {outcome.shape} and dtype {outcome.dtype}"
        )
    if not np.all((outcome == 0) | (outcome == 1)):
        raise InvalidArgumentError("outcome must hold booleans (0 or 1)")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], probability)  # (n,): edges[b] < p <= edges[b + 1]
    count = np.bincount(bins, minlength=n_bins)
    sums = np.bincount(bins, weights=probability, minlength=n_bins)
    hits = np.bincount(bins, weights=outcome.astype(np.float64), minlength=n_bins)
    return Reliability(edges, count, _ratio(sums, count), _ratio(hits, count))


def calibration(probabilities, y_true, classes, n_bins: int = N_BINS) -> Reliability:
    """The reliability bins of a classifier's probabilities (n, k), columns in the order
    of ``classes``, against the true labels ``y_true``.

    Which probability is binned:

    - two classes: the probability of the second class, ``classes[1]`` (the output of
      a single sigmoid unit), against whether the label is ``classes[1]``; this is
      scikit-learn's ``calibration_curve(y_true == classes[1], probabilities[:, 1])``.
    - more classes: the top-label confidence max_j p_j against whether its class
      (the first column holding the maximum) is the true label.
    """
    classes = check_classes(classes)
    probabilities = _numbers(probabilities, "probabilities")
    if probabilities.ndim != 2 or probabilities.shape[1] != len(classes):
        raise InvalidArgumentError(
            f"probabilities must have one column per class ({len(classes)}), got shape "
            f"{probabilities.shape}"
        )
    y_true = check_labels(y_true, _length(y_true), "y_true")
    if len(y_true) != len(probabilities):
        raise InvalidArgumentError(
            f"probabilities has {len(probabilities)} rows but y_true has {len(y_true)} labels"
        )
    if len(y_true) == 0:
        raise InvalidArgumentError("probabilities and y_true are empty: nothing to bin")
    indices = encode_labels(y_true, classes, "y_true")
    _check_rows_are_distributions(probabilities)
    if len(classes) == 2:
        return reliability(probabilities[:, 1], indices == 1, n_bins)
    top = probabilities.argmax(axis=1)
    return reliability(probabilities[np.arange(len(top)), top], top == indices, n_bins)


def r_squared(residual, total) -> np.ndarray:
    """The coefficient of determination 1 - residual / total from sums of squared errors
    and of squared deviations from the mean, element-wise; where the targets do not vary
    (total 0), 1 if the prediction is exact (residual 0), else 0, as scikit-learn's
    ``r2_score`` has it."""
    residual, total = np.asarray(residual, np.float64), np.asarray(total, np.float64)
    exact = np.where(residual == 0, 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 1 - residual / total, exact)


def percent(value: float, decimals: int = 2) -> str:
    """'99.47%'; 'n/a' for an undefined ratio (NaN). Rounding never claims certainty:
    0.999996 is '>99.99%', not '100.00%' (and 0.000004 is '<0.01%')."""
    if math.isnan(value):
        return "n/a"
    return _bounded(value, decimals, below_one=value < 1, above_zero=value > 0)


def probability(value: float, decimals: int = 2) -> str:
    """A model's probability as ``percent`` writes it, but 1.0 itself reads '>99.99%' and
    0.0 '<0.01%': a softmax or sigmoid of finite logits never reaches either, so a float
    that does (float32's rounding of a logit gap past 17) is not certainty either."""
    if math.isnan(value):
        return "n/a"
    return _bounded(value, decimals, below_one=True, above_zero=True)


def _bounded(value: float, decimals: int, below_one: bool, above_zero: bool) -> str:
    rounded, step = f"{value:.{decimals}%}", 10.0 ** -(decimals + 2)
    if below_one and rounded == f"{1:.{decimals}%}":
        return f">{1 - step:.{decimals}%}"
    if above_zero and rounded == f"{0:.{decimals}%}":
        return f"<{step:.{decimals}%}"
    return rounded


def _label_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-D integer label arrays of the same, non-zero length."""
    y_true = check_labels(y_true, _length(y_true), "y_true")
    y_pred = check_labels(y_pred, _length(y_pred), "y_pred")
    if len(y_true) != len(y_pred):
        raise InvalidArgumentError(
            f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}; give one "
            "prediction per label"
        )
    if len(y_true) == 0:
        raise InvalidArgumentError("y_true and y_pred are empty: nothing to count")
    return y_true, y_pred


def _length(values) -> int:
    shape = np.shape(values)
    return shape[0] if shape else 0


def _numbers(values, name: str) -> np.ndarray:
    """``values`` as a float64 array, refused unless they are numbers."""
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise InvalidTypeError(f"{name} must be numbers, got dtype {values.dtype}")
    return values.astype(np.float64, copy=False)


def _check_probability(probability) -> np.ndarray:
    probability = _numbers(probability, "probability")
    if probability.ndim != 1 or len(probability) == 0:
        raise InvalidArgumentError(
            f"probability must be a non-empty 1-D array, got shape {probability.shape}"
        )
    _check_in_unit_interval(probability)
    return probability


def _check_in_unit_interval(probabilities: np.ndarray) -> None:
    outside = ~((probabilities >= 0) & (probabilities <= 1))  # NaN counts as outside
    if np.any(outside):
        first = tuple(np.argwhere(outside)[0])
        raise InvalidArgumentError(
            f"probabilities must lie in [0, 1]; {np.count_nonzero(outside)} do not, the "
            f"first at row {first[0]}: {probabilities[first]}"
        )


def _check_rows_are_distributions(probabilities: np.ndarray) -> None:
    """Each row: probabilities in [0, 1] that sum to 1 (every column is checked, also
    those calibration does not bin)."""
    _check_in_unit_interval(probabilities)
    off = np.abs(probabilities.sum(axis=1) - 1) > ROW_SUM_TOLERANCE
    if np.any(off):
        first = int(np.flatnonzero(off)[0])
        raise InvalidArgumentError(
            f"each row of probabilities must sum to 1; {np.count_nonzero(off)} do not, the "
            f"first at row {first}: {probabilities[first].sum()}"
        )


def _check_confusion(confusion, k: int) -> np.ndarray:
    confusion = np.asarray(confusion)
    if confusion.shape != (k, k) or confusion.dtype.kind not in "iu":
        raise InvalidArgumentError(
            f"confusion must be a ({k}, {k}) integer matrix, one row and column per label, "
            f"got shape {confusion.shape} and dtype {confusion.dtype}"
        )
    if np.any(confusion < 0):
        raise InvalidArgumentError("confusion holds negative counts")
    largest = INT64_MAX // (2 * k)  # so that 2 x a row's and a column's sums fit in int64
    if confusion.size and confusion.max() > largest:  # (uint64 counts would wrap around)
        raise InvalidArgumentError(
            f"confusion holds a count over {largest:,}, the most {k} labels' scores add up"
        )
    return confusion.astype(np.int64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator element-wise, NaN where the denominator is 0."""
    result = np.full(np.shape(numerator), np.nan)
    np.divide(numerator, denominator, out=result, where=denominator != 0)
    return result
