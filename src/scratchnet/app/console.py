"""How numbers read on the terminal."""

from __future__ import annotations

import math

import numpy as np

from ..metrics import ClassScores


def share(accuracy: float, n: int) -> str:
    """An accuracy with the count behind it: '99.2617% (2151/2167)'."""
    return f"{accuracy:.4%} ({round(accuracy * n)}/{n})"


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


def class_table(scores: ClassScores) -> str:
    """Precision, recall and F1 in percent and the support of each digit, one row each."""
    lines = [f"{'digit':>5}  {'precision':>9}  {'recall':>9}  {'F1':>9}  {'support':>7}"]
    for i, digit in enumerate(scores.labels):
        ratios = (scores.precision[i], scores.recall[i], scores.f1[i])
        lines.append(
            f"{digit:>5}  " + "  ".join(f"{percent(r):>9}" for r in ratios)
            + f"  {scores.support[i]:>7}"
        )  # fmt: skip
    return "\n".join(lines)


def confusion_table(confusion: np.ndarray, labels) -> str:
    """The counts with the true digit down the side and the predicted digit across."""
    corner = "true \\ predicted"
    width = len(str(int(confusion.max()))) + 2
    lines = [f"{corner}" + "".join(f"{label:>{width}}" for label in labels)]
    for label, row in zip(labels, confusion, strict=True):
        lines.append(f"{label:>{len(corner)}}" + "".join(f"{count:>{width}}" for count in row))
    return "\n".join(lines)
