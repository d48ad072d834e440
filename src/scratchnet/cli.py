"""The ``scratchnet`` command: train, evaluate, figures.

Every user error (bad option, missing data, diverging run) ends with a one-line message
on stderr and exit status 2; nothing is left half-written on disk.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import datetime
from pathlib import Path

from . import __version__
from .activations import ACTIVATIONS
from .datasets.mnist import ENV_DATA_DIR, check_digits, load_mnist
from .dropout import check_rate
from .errors import TrainingDivergedError
from .experiment import RunResult, run_recipe, write_run
from .initializers import INITIALIZERS
from .network import NeuralNet
from .optimizers import OPTIMIZERS
from .preprocessing import preprocess
from .presets import PRESETS, TUTORIAL, Recipe
from .schedules import SCHEDULES
from .validation import (
    check_fraction,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
)

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), exit status 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _checked(check, name: str, parse=int):
    """An argparse type: parse the text with ``parse``, then validate it with ``check``."""
    kind = "a number" if parse is float else "an integer"

    def parse_and_check(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {kind}, got {text!r}") from None
        try:
            return check(value, name)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse_and_check.__name__ = name
    return parse_and_check


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scratchnet",
        description="A neural network from scratch in NumPy: MNIST digits, end to end.",
    )
    parser.add_argument("--version", action="version", version=f"scratchnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train(commands)
    _add_evaluate(commands)
    _add_figures(commands)
    return parser


def _add_train(commands) -> None:
    d = TUTORIAL
    train = commands.add_parser(
        "train",
        help="train a network (default: the tutorial's experiment)",
        description="Train a network on MNIST digits and write model.npz, metrics.json, "
        "cost.png and accuracy.png into the output folder. Every default below is the "
        "tutorial preset's; another --preset changes them (see the README for the recipes).",
    )
    add = train.add_argument
    add(
        "--preset",
        choices=PRESETS,
        default=d.name,
        help=f"named recipe whose settings are the defaults: {', '.join(PRESETS)} "
        f"(default: {d.name})",
    )
    add(
        "--digits",
        nargs="+",
        metavar="D",
        help=f"digits to classify, in class order, or 'all' (default: {_words(d.digits)})",
    )
    add(
        "--hidden",
        nargs="+",
        metavar="N",
        type=_checked(check_positive_int, "hidden size"),
        help=f"hidden layer sizes (default: {_words(d.hidden)})",
    )
    add("--activation", choices=ACTIVATIONS, help=f"hidden activation (default: {d.activation})")
    add("--init", choices=INITIALIZERS, help=f"weight initialiser (default: {d.init})")
    add(
        "--optimizer",
        choices=OPTIMIZERS,
        help=f"gd: gradient descent (sgd with mini-batches), momentum, nesterov, adam "
        f"(default: {d.optimizer})",
    )
    add(
        "--learning-rate",
        type=_checked(check_positive_float, "learning rate", float),
        help=f"learning rate (default: {d.learning_rate})",
    )
    add(
        "--schedule",
        choices=SCHEDULES,
        help=f"learning-rate schedule over the run (default: {d.schedule})",
    )
    add(
        "--iterations",
        type=_checked(check_positive_int, "iterations"),
        help=f"full-batch steps, without --batch-size (default: {d.iterations})",
    )
    add(
        "--batch-size",
        type=_checked(check_positive_int, "batch size"),
        help="mini-batch size (default: none, full-batch gradient descent)",
    )
    add(
        "--epochs",
        type=_checked(check_positive_int, "epochs"),
        help=f"passes over the data with --batch-size (default: {d.epochs})",
    )
    add(
        "--weight-decay",
        type=_checked(check_non_negative_float, "weight decay", float),
        help=f"L2 penalty on the weights (default: {d.weight_decay})",
    )
    add(
        "--dropout",
        type=_checked(_check_dropout, "dropout", float),
        help=f"dropout rate of hidden units while training, in [0, 1) (default: {d.dropout})",
    )
    add(
        "--validation-fraction",
        type=_checked(check_fraction, "validation fraction", float),
        help="fraction of the training set held out for validation and early stopping "
        "(default: none; the test set is then monitored, never used to stop)",
    )
    add(
        "--patience",
        type=_checked(check_positive_int, "patience"),
        help="stop when the validation cost has not improved for this many epochs and keep "
        "the best weights; needs --validation-fraction (default: none)",
    )
    add("--seed", type=int, help=f"random seed (default: {d.seed})")
    add(
        "--dtype",
        choices=("float32", "float64"),
        help=f"floating-point precision (default: {d.dtype})",
    )
    add(
        "--data-dir",
        type=Path,
        help=f"folder holding the four MNIST files (default: ${ENV_DATA_DIR}, then the "
        "cache, downloading what is missing)",
    )
    add("--out", type=Path, help="output folder (default: a new timestamped folder under ./runs)")
    add("--quiet", action="store_true", help="print only the final results (default: off)")
    train.set_defaults(handler=run_train)


def _words(values) -> str:
    return " ".join(map(str, values))


def _check_dropout(value: float, name: str) -> float:
    return check_rate(value)


def _add_evaluate(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy of a saved model on the MNIST test set",
        description="Report the test-set accuracy of a model saved by 'scratchnet train', "
        "on the digits it was trained on (its classes).",
    )
    evaluate.add_argument("--model", type=Path, required=True, help="path to model.npz")
    evaluate.add_argument(
        "--data-dir",
        type=Path,
        help=f"folder holding the MNIST files (default: ${ENV_DATA_DIR}, then the cache)",
    )
    evaluate.set_defaults(handler=run_evaluate)


def _add_figures(commands) -> None:
    figures = commands.add_parser(
        "figures",
        help="draw the tutorial's explanatory figures",
        description="Write sigmoid.png (the sigmoid and its derivative) and "
        "cross_entropy.png (binary cross-entropy for y=1 and y=0).",
    )
    figures.add_argument(
        "--out", type=Path, default=Path("figures"), help="output folder (default: ./figures)"
    )
    figures.set_defaults(handler=run_figures)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, TypeError, OSError, TrainingDivergedError) as error:
        print(f"scratchnet: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scratchnet: interrupted", file=sys.stderr)
        return 130


# -- train ------------------------------------------------------------------------------


def run_train(args: argparse.Namespace) -> int:
    recipe = _recipe_from(args)
    say = (lambda *_: None) if args.quiet else print
    out, created = _prepare_out_dir(args.out)
    try:
        result = run_recipe(recipe, args.data_dir, say, progress=not args.quiet)
        write_run(out, result)
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    _report(result, out)
    return 0


def _recipe_from(args: argparse.Namespace) -> Recipe:
    recipe = PRESETS[args.preset]
    overrides = {name: getattr(args, name, None) for name in Recipe.option_names()}
    if args.digits is not None:
        overrides["digits"] = _parse_digits(args.digits)
    if args.hidden is not None:
        overrides["hidden"] = tuple(args.hidden)
    recipe = recipe.updated(**overrides)
    if recipe.batch_size is not None and args.iterations is not None:
        raise ValueError("--iterations counts full-batch steps; with --batch-size use --epochs")
    if recipe.batch_size is None and args.epochs is not None:
        raise ValueError("--epochs needs --batch-size (full-batch training counts --iterations)")
    if recipe.patience is not None and recipe.validation_fraction is None:
        raise ValueError(
            "--patience needs --validation-fraction: early stopping never looks at the test set"
        )
    return recipe


def _parse_digits(words: list[str]) -> tuple[int, ...]:
    if words == ["all"]:
        return tuple(range(10))
    try:
        digits = [int(word) for word in words]
    except ValueError:
        raise ValueError(f"--digits takes digits 0-9 or 'all', got {' '.join(words)}") from None
    return check_digits(digits)


def _prepare_out_dir(out: Path | None) -> tuple[Path, bool]:
    """The output folder, created now so a bad path fails before training."""
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / stamp
        suffix = 1
        while out.exists():
            suffix += 1
            out = Path("runs") / f"{stamp}-{suffix}"
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    return out, created


def _report(result: RunResult, out: Path) -> None:
    print(f"train accuracy: {_share(result.train_accuracy, result.train_shape[0])}")
    print(f"test accuracy:  {_share(result.test_accuracy, result.test_shape[0])}")
    print(f"fit time: {result.fit_seconds:.1f} s; wrote {out}/")


def _share(accuracy: float, n: int) -> str:
    """'99.2617% (2151/2167)'."""
    return f"{accuracy:.4%} ({round(accuracy * n)}/{n})"


# -- evaluate and figures -------------------------------------------------------------------


def run_evaluate(args: argparse.Namespace) -> int:
    net = NeuralNet.load(args.model)
    try:
        digits = check_digits([int(label) for label in net.classes])
    except ValueError as error:
        raise ValueError(f"{args.model}: its classes are not MNIST digits ({error})") from None
    data = load_mnist(digits, args.data_dir, relabel=False)
    x_test = preprocess(data.x_test, net.parameters.flat.dtype)
    accuracy = net.score(x_test, data.y_test)
    print(f"test accuracy on digits {' '.join(map(str, digits))}: {_share(accuracy, len(x_test))}")
    return 0


def run_figures(args: argparse.Namespace) -> int:
    from .plots import plot_cross_entropy, plot_sigmoid

    args.out.mkdir(parents=True, exist_ok=True)
    plot_sigmoid(args.out / "sigmoid.png")
    plot_cross_entropy(args.out / "cross_entropy.png")
    print(f"wrote {args.out / 'sigmoid.png'} and {args.out / 'cross_entropy.png'}")
    return 0
