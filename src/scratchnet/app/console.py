"""How numbers read on the terminal."""

from __future__ import annotations

import numpy as np

from ..metrics import ClassScores, percent


def share(accuracy: float, n: int) -> str:
    """An accuracy with the count behind it: '99.2617% (2151/2167)'."""
    return f"{percent(accuracy, 4)} ({round(accuracy * n)}/{n})"


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
