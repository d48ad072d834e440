"""``scratchnet evaluate``: the test-set accuracy of a saved model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ...data.mnist import load_mnist
from ...data.preprocessing import preprocess
from ...errors import InvalidArgumentError
from ...network import NeuralNet
from ...validation import check_digits
from ..arguments import DATA_DIR_HELP, words
from ..console import share


def add_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy of a saved model on the MNIST test set",
        description="Report the test-set accuracy of a model saved by 'scratchnet train', "
        "on the digits it was trained on (its classes).",
    )
    evaluate.add_argument("model", type=Path, nargs="?", help="path to model.npz")
    evaluate.add_argument("--model", type=Path, dest="model_option", help="the same, as an option")
    evaluate.add_argument("--data-dir", type=Path, help=DATA_DIR_HELP)
    evaluate.set_defaults(handler=run)


def model_path(args: argparse.Namespace) -> Path:
    """The model, given as the positional argument or as --model (not both)."""
    if (args.model is None) == (args.model_option is None):
        raise InvalidArgumentError("give the model file, as MODEL or --model MODEL (once)")
    return args.model or args.model_option


def run(args: argparse.Namespace) -> int:
    args.model = model_path(args)
    net = NeuralNet.load(args.model)
    try:
        digits = check_digits([int(label) for label in net.classes])
    except InvalidArgumentError as error:
        raise InvalidArgumentError(
            f"{args.model}: its classes are not MNIST digits ({error})"
        ) from None
    data = load_mnist(digits, args.data_dir, relabel=False, splits=("test",))
    x_test = preprocess(data.x_test, net.dtype)
    accuracy = net.score(x_test, data.y_test)
    print(f"test accuracy on digits {words(digits)}: {share(accuracy, len(x_test))}")
    return 0
