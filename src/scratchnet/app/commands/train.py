"""``scratchnet train``: run a recipe (by default the tutorial's experiment) and write
its run folder."""

from __future__ import annotations

import argparse
import shutil
from datetime import datetime
from pathlib import Path

from ...errors import InvalidArgumentError
from ...nn.activations import ACTIVATIONS
from ...nn.initializers import INITIALIZERS
from ...nn.optimizers import OPTIMIZERS
from ...nn.schedules import SCHEDULES
from ...validation import (
    check_digits,
    check_dropout,
    check_early_stopping,
    check_fraction,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_training_length,
)
from ..arguments import DATA_DIR_HELP, checked, option_name, words
from ..console import share
from ..experiment import RunResult, run_recipe, write_run
from ..presets import PRESETS, TUTORIAL, Recipe


def add_parser(commands) -> None:
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
        help=f"digits to classify, in class order, or 'all' (default: {words(d.digits)})",
    )
    add(
        "--hidden",
        nargs="+",
        metavar="N",
        type=checked(check_positive_int, "hidden size"),
        help=f"hidden layer sizes (default: {words(d.hidden)})",
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
        type=checked(check_positive_float, "learning rate", float),
        help=f"learning rate (default: {d.learning_rate})",
    )
    add(
        "--schedule",
        choices=SCHEDULES,
        help=f"learning-rate schedule over the run (default: {d.schedule})",
    )
    add(
        "--iterations",
        type=checked(check_positive_int, "iterations"),
        help=f"full-batch steps, without --batch-size (default: {d.iterations})",
    )
    add(
        "--batch-size",
        type=checked(check_positive_int, "batch size"),
        help="mini-batch size (default: none, full-batch gradient descent)",
    )
    add(
        "--epochs",
        type=checked(check_positive_int, "epochs"),
        help=f"passes over the data; with --batch-size one step per batch, without it one "
        f"full-batch step each, like --iterations (default: {d.epochs})",
    )
    add(
        "--weight-decay",
        type=checked(check_non_negative_float, "weight decay", float),
        help=f"L2 penalty on the weights (default: {d.weight_decay})",
    )
    add(
        "--dropout",
        type=checked(lambda rate, _: check_dropout(rate), "dropout", float),
        help=f"dropout rate of hidden units while training, in [0, 1) (default: {d.dropout})",
    )
    add(
        "--validation-fraction",
        type=checked(check_fraction, "validation fraction", float),
        help="fraction of the training set held out for validation and early stopping "
        "(default: none; the test set is then monitored, never used to stop)",
    )
    add(
        "--patience",
        type=checked(check_positive_int, "patience"),
        help="stop when the validation cost has not improved for this many epochs and keep "
        "the best weights; needs --validation-fraction (default: none)",
    )
    add("--seed", type=int, help=f"random seed (default: {d.seed})")
    add(
        "--dtype",
        choices=("float32", "float64"),
        help=f"floating-point precision (default: {d.dtype})",
    )
    add("--data-dir", type=Path, help=DATA_DIR_HELP)
    add("--out", type=Path, help="output folder (default: a new timestamped folder under ./runs)")
    add("--quiet", action="store_true", help="print only the final results (default: off)")
    train.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    recipe = recipe_from(args)
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


def recipe_from(args: argparse.Namespace) -> Recipe:
    """The preset with the options given on the command line, checked by the same rules
    as ``NeuralNet.fit`` before any data is loaded."""
    recipe = PRESETS[args.preset]
    overrides = {name: getattr(args, name, None) for name in Recipe.option_names()}
    if args.digits is not None:
        overrides["digits"] = _parse_digits(args.digits)
    if args.hidden is not None:
        overrides["hidden"] = tuple(args.hidden)
    recipe = recipe.updated(**overrides)
    check_training_length(
        batch_size=recipe.batch_size,
        n_iterations=args.iterations,
        epochs=args.epochs,
        spell=option_name,
    )
    check_early_stopping(recipe.patience, recipe.validation_fraction is not None, option_name)
    if recipe.batch_size is None and args.epochs is not None:
        recipe = recipe.updated(iterations=args.epochs)  # a full-batch epoch is one step
    return recipe


def _parse_digits(words: list[str]) -> tuple[int, ...]:
    if words == ["all"]:
        return tuple(range(10))
    try:
        digits = [int(word) for word in words]
    except ValueError:
        raise InvalidArgumentError(
            f"--digits takes digits 0-9 or 'all', got {' '.join(words)}"
        ) from None
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
    print(f"train accuracy: {share(result.train_accuracy, result.train_shape[0])}")
    print(f"test accuracy:  {share(result.test_accuracy, result.test_shape[0])}")
    print(f"fit time: {result.fit_seconds:.1f} s; wrote {out}/")
