"""``scratchnet evaluate``: how a saved model does on the MNIST test set: accuracy,
per-class precision, recall and F1, the confusion matrix and calibration."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ...errors import InvalidArgumentError
from ..arguments import DATA_DIR_HELP, file_argument, json_document, path_argument, words
from ..console import class_table, confusion_table, share
from ..evaluation import Evaluation, calibration_subject, evaluate, load_test_set, model_digits
from ..models import load_classifier


def add_parser(commands) -> None:
    evaluate_ = commands.add_parser(
        "evaluate",
        help="accuracy, per-class scores and confusion matrix of a saved model on the MNIST "
        "test set",
        description="Report how a model saved by 'scratchnet train' does on the MNIST test "
        "images of the digits it was trained on (its classes): accuracy, precision, recall, "
        "F1 and support of each digit, the confusion matrix and the expected calibration "
        "error.",
    )
    evaluate_.add_argument("model", type=file_argument, nargs="?",
                           help="path to model.npz (required, here or as --model)")  # fmt: skip
    evaluate_.add_argument("--model", type=file_argument, dest="model_option", metavar="MODEL",
                           help="the same, as an option (default: none)")  # fmt: skip
    evaluate_.add_argument("--data-dir", type=path_argument, help=DATA_DIR_HELP)
    evaluate_.add_argument(
        "--json",
        action="store_true",
        help="print the numbers as one JSON object, for scripts (default: off, tables)",
    )
    evaluate_.set_defaults(handler=run, answers_on_stdout=True)


def model_path(args: argparse.Namespace) -> Path:
    """The model, given as the positional argument or as --model (not both)."""
    if (args.model is None) == (args.model_option is None):
        raise InvalidArgumentError("give the model file, as MODEL or --model MODEL (once)")
    return args.model or args.model_option


def run(args: argparse.Namespace) -> int:
    path = model_path(args)
    net = load_classifier(path)
    digits = model_digits(net, path)
    test = load_test_set(digits, args.data_dir)
    result = evaluate(net, test)
    if args.json:
        print(json_document(as_json(result, path, test.files), indent=2, allow_nan=False))
    else:
        print(as_text(result))
    return 0


def as_text(result: Evaluation) -> str:
    n = len(result.labels)
    subject = calibration_subject(result.digits)[0]
    return "\n".join([
        f"test accuracy on digits {words(result.digits)}: {share(result.n_correct / n, n)}",
        "",
        class_table(result.scores),
        "",
        "confusion matrix (rows: the true digit, columns: the predicted digit):",
        confusion_table(result.confusion, result.digits),
        "",
        f"expected calibration error: {result.calibration.ece:.4f} over "
        f"{len(result.calibration.count)} equal-width bins of the {subject}",
    ])  # fmt: skip


def as_json(result: Evaluation, model: Path, files) -> dict:
    """What --json prints: fractions (not percent); an undefined ratio is null."""
    scores, bins = result.scores, result.calibration
    return {
        "model": str(model),
        "data_files": [str(file) for file in files],
        "digits": result.digits.tolist(),
        "test": {
            "correct": result.n_correct,
            "total": len(result.labels),
            "accuracy": result.n_correct / len(result.labels),
        },
        "classes": [
            {
                "digit": int(digit),
                "precision": _number(scores.precision[i]),
                "recall": _number(scores.recall[i]),
                "f1": _number(scores.f1[i]),
                "support": int(scores.support[i]),
            }
            for i, digit in enumerate(scores.labels)
        ],
        "confusion_matrix": {
            "rows": "true digit, in the order of 'digits'",
            "columns": "predicted digit, in the order of 'digits'",
            "counts": result.confusion.tolist(),
        },
        "calibration": {
            "probability": calibration_subject(result.digits)[0],
            "expected_calibration_error": bins.ece,
            "bin_edges": bins.edges.tolist(),
            "count": bins.count.tolist(),
            "mean_probability": [_number(value) for value in bins.mean_probability],
            "frequency": [_number(value) for value in bins.frequency],
        },
    }


def _number(value) -> float | None:
    return None if np.isnan(value) else float(value)
