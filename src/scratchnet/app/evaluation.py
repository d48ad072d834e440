"""A saved model on the MNIST test set: its predictions, probabilities, confusion
matrix, per-class scores and calibration. ``scratchnet evaluate`` prints them and the
run report shows them, so both show the same numbers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ..data.mnist import load_mnist
from ..data.preprocessing import preprocess
from ..errors import InvalidArgumentError
from ..metrics import ClassScores, Reliability, calibration, class_scores, confusion_matrix
from ..network import NeuralNet
from ..validation import N_DIGITS, check_digits, encode_labels
from .readings import check_reads_images


@dataclass(frozen=True)
class TestSet:
    """The official test images of some digits, in file order: ``images`` (n, 28, 28)
    uint8, ``labels`` (n,) the digits, ``rows`` (n,) each image's row in the official
    t10k files, and the ``files`` read."""

    images: np.ndarray
    labels: np.ndarray
    rows: np.ndarray
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Evaluation:
    """A model's answers on a test set. ``probabilities`` (n, k) has a column per digit
    in the order of ``digits`` (the model's classes); ``predicted`` is what the model
    predicts (``NeuralNet.predict``)."""

    digits: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    confusion: np.ndarray
    scores: ClassScores
    calibration: Reliability

    @cached_property
    def correct(self) -> np.ndarray:
        return self.predicted == self.labels

    @cached_property
    def confidence(self) -> np.ndarray:
        """The probability the model gave its own prediction, for each row (n,)."""
        columns = encode_labels(self.predicted, self.digits)
        return self.probabilities[np.arange(len(columns)), columns]

    @property
    def n_correct(self) -> int:
        return int(np.trace(self.confusion))


def model_digits(net: NeuralNet, path: str | os.PathLike) -> tuple[int, ...]:
    """The digits a loaded model classifies (its classes), refused if they are not
    MNIST digits or it does not read 28x28 images."""
    check_reads_images(net, str(path))
    try:
        return check_digits([int(label) for label in net.classes])
    except InvalidArgumentError as error:
        raise InvalidArgumentError(f"{path}: its classes are not MNIST digits ({error})") from None


def load_test_set(digits: tuple[int, ...], data_dir: str | os.PathLike | None) -> TestSet:
    """The official test images of ``digits``, with their rows in the t10k files."""
    data = load_mnist(tuple(range(N_DIGITS)), data_dir, relabel=False, splits=("test",))
    rows = np.flatnonzero(np.isin(data.y_test, digits))
    return TestSet(data.x_test[rows], data.y_test[rows], rows, data.files)


def evaluate(net: NeuralNet, test: TestSet) -> Evaluation:
    """Predict every test image (labels from the logits, and the probabilities) and
    derive every score from those answers."""
    x = preprocess(test.images, net.dtype)
    digits = np.asarray(net.classes)
    predicted = net.predict(x)
    probabilities = net.predict_proba(x)
    confusion = confusion_matrix(test.labels, predicted, digits)
    return Evaluation(
        digits=digits,
        labels=test.labels,
        predicted=predicted,
        probabilities=probabilities,
        confusion=confusion,
        scores=class_scores(confusion, digits),
        calibration=calibration(probabilities, test.labels, digits),
    )


def calibration_subject(digits) -> tuple[str, str]:
    """What the calibration bins hold (see ``metrics.calibration``): the predicted
    probability and the observed outcome, in words."""
    if len(digits) == 2:
        return (f"predicted probability of digit {digits[1]}",
                f"observed frequency of digit {digits[1]}")  # fmt: skip
    return "top predicted probability", "observed accuracy"
