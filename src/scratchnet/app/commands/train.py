"""``scratchnet train``: run a recipe (by default the tutorial's experiment) and write
its run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...atomic import refuse_special
from ...data.augment import ELASTIC as ELASTIC_FIELD
from ...data.augment import KINDS
from ...errors import DataFileError, InvalidArgumentError, ScratchnetError, TrainingDivergedError
from ...nn.activations import ACTIVATIONS
from ...nn.initializers import INITIALIZERS
from ...nn.optimizers import OPTIMIZERS
from ...nn.schedules import SCHEDULES
from ...training.checkpoint import (
    MAX_RECORDS,
    Checkpoint,
    history_records,
    read_checkpoint_extra,
)
from ...training.loop import FULL_BATCH_LOG_EVERY
from ...validation import (
    check_digits,
    check_dropout,
    check_early_stopping,
    check_fraction,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_seed,
    check_training_length,
)
from ..arguments import (
    DATA_DIR_HELP,
    add_note,
    checked,
    error_message,
    option_name,
    pasteable,
    path_argument,
    printable,
    words,
)
from ..console import share
from ..experiment import (
    OUTPUT_FILES,
    RUN_FILES,
    RunResult,
    build_network,
    output_bytes,
    run_recipe,
    write_outputs,
)
from ..interrupts import deferred, uninterrupted
from ..output import finishing_without_the_reader
from ..overwrite import carries_mark, lacks_mark
from ..presets import (
    ELASTIC_STRENGTHS,
    PRESETS,
    STRENGTHS,
    TUTORIAL,
    USED_STRENGTHS,
    Recipe,
)
from ..run_folder import CHECKPOINT as CHECKPOINT_FILE
from ..run_folder import RunFolder

FULL_BATCH_CHECKPOINT_EVERY = 100  # iterations between checkpoints of a full-batch run
# The run's files are complete but its report is not: a user error's status, since a
# promised file is missing, with a message that says no retraining is needed.
EXIT_REPORT_FAILED = 2


ELASTIC = "--augment elastic"


def add_parser(commands) -> None:
    d = TUTORIAL
    train = commands.add_parser(
        "train",
        help="train a network (default: the tutorial's experiment)",
        description="Train a network on MNIST digits and write model.npz, metrics.json, "
        "cost.png and accuracy.png into the output folder, then report.html and its figures "
        "(see 'scratchnet report'). Every default below is the tutorial preset's; another "
        "--preset changes them (see the README for the recipes).",
    )
    add = train.add_argument
    add(
        "--preset",
        choices=PRESETS,
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
        help="stop when the validation cost has not improved for this many of its records "
        "(one per epoch with --batch-size, one per 100 iterations without) and keep the "
        "best weights; needs --validation-fraction (default: none)",
    )
    add("--seed", type=checked(check_seed, "seed"),
        help=f"random seed, 0 to 2**32 - 1 (default: {d.seed})")  # fmt: skip
    add(
        "--dtype",
        choices=("float32", "float64"),
        help=f"floating-point precision (default: {d.dtype})",
    )
    add(
        "--measure-training",
        action="store_true",
        help="also measure the whole training set, without dropout or distortions, at each "
        "record, so the training curve shows the same weights as the validation curve (one "
        "more forward pass per record; default: off, the curve is the mean over the epoch's "
        "batches). Refused for full-batch training without --dropout or --augment, whose "
        "records measure the training set anyway",
    )
    add(
        "--augment",
        choices=KINDS,
        help="distort the training images afresh every epoch: affine (shift, rotation, scale, "
        f"shear) or elastic (those, then Simard's elastic field) (default: {d.augment})",
    )
    strengths = (
        ("--shift", "PIXELS", "largest shift in each direction", d.shift, "--augment"),
        ("--rotation", "DEGREES", "largest rotation either way", d.rotation, "--augment"),
        ("--scale", "FRACTION", "zoom in [1 - FRACTION, 1 + FRACTION]", d.scale, "--augment"),
        ("--shear", "DEGREES", "largest shear either way", d.shear, "--augment"),
        ("--elastic-alpha", "PIXELS", "scale of the elastic field", d.elastic_alpha, ELASTIC),
        ("--elastic-sigma", "PIXELS", "smoothing of the elastic field", d.elastic_sigma, ELASTIC),
    )
    for option, metavar, meaning, default, needs in strengths:
        name = option.removeprefix("--").replace("-", " ")
        add(option, metavar=metavar, type=checked(check_non_negative_float, name, float),
            help=f"with {needs}: {meaning} (default: {default})")  # fmt: skip
    add("--data-dir", type=path_argument, help=DATA_DIR_HELP)
    add(
        "--out",
        type=path_argument,
        help="output folder (default: a new timestamped folder under ./runs)",
    )
    add(
        "--force",
        action="store_true",
        help="write into an --out folder that already holds files, replacing the run files "
        "in it (default: off, such a folder is refused)",
    )
    add(
        "--checkpoint-every",
        type=checked(check_positive_int, "checkpoint every"),
        metavar="N",
        help=f"write checkpoint.npz every N epochs (full-batch: every N iterations), and on "
        f"Ctrl-C (default: every epoch with --batch-size, every "
        f"{FULL_BATCH_CHECKPOINT_EVERY} iterations without)",
    )
    add(
        "--resume",
        type=path_argument,
        metavar="RUN_DIR",
        help="continue the interrupted run in RUN_DIR from its checkpoint, with its own "
        "settings, to the very model it would have reached (default: none)",
    )
    add("--quiet", action="store_true", help="print only the final results (default: off)")
    train.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with finishing_without_the_reader():  # (| head): the run is published all the same
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    try:
        if args.resume:  # with the consent to replace files the run was started with
            (recipe, force), out = _resumed(args), args.resume
        else:
            recipe, force, out = recipe_from(args), args.force, args.out
        net = build_network(recipe)  # refuses a network that cannot fit in memory
        folder = RunFolder.claim(out, force, args.resume is not None,
                                 output_bytes(net, recipe), RUN_FILES)  # fmt: skip
    except KeyboardInterrupt as stop:  # before the folder is taken: nothing was touched
        if args.resume and (args.resume / CHECKPOINT_FILE).is_file():
            with uninterrupted():
                go_on = _go_on(args.resume, args.data_dir)
                add_note(stop, f"{CHECKPOINT_FILE} kept as it was; {go_on}")
        raise
    say = (lambda *_: None) if args.quiet else print
    unmarked = [name for name in RUN_FILES if lacks_mark(folder.path / name)]  # (--force)
    for note in folder.notes:
        print(printable(f"scratchnet: {note}"), file=sys.stderr)
    checkpoint = Checkpoint(
        folder.checkpoint,
        every=args.checkpoint_every or _default_checkpoint_interval(recipe),
        resume=args.resume is not None,
        extra={"recipe": recipe.to_dict(), "force": force},
    )
    try:
        result = run_recipe(recipe, net, args.data_dir, say, not args.quiet, checkpoint)
        with folder.staged() as staging:
            write_outputs(staging, result)
        removed = folder.publish()
    except BaseException as error:
        # a diverged run's checkpoint would only diverge again; any other failure keeps
        # it for --resume; a checkpoint this run neither wrote nor resumed is not its own
        with uninterrupted():
            stopped = isinstance(error, KeyboardInterrupt)
            if stopped:  # training may be over, its results not yet published: its last
                _keep_the_last_state(checkpoint, error)  # state is kept too
            diverged = isinstance(error, TrainingDivergedError)
            folder.abandon(remove_checkpoint=diverged and _owns(checkpoint))
            if not diverged and (_owns(checkpoint) or (args.resume and stopped)):
                add_note(error, _how_to_go_on(checkpoint, folder.path, args.data_dir))
            elif stopped and checkpoint.epochs_ended == 0:  # (one that ended and was not
                add_note(error, _nothing_to_go_on_from(recipe))  # written says so itself)
        raise
    if _owns(checkpoint):
        folder.discard_checkpoint()
    try:  # the run's files are published: nothing below can lose them
        _print_scores(result)
        failure = _write_report(folder.path, args.data_dir, force)
    except KeyboardInterrupt as interruption:
        with uninterrupted():
            add_note(
                interruption,
                f"the run's files are complete in {folder.path}/ but its report is not; "
                f"build it with: {_command('report', folder.path, args.data_dir)}",
            )
        raise
    finally:
        folder.release()
    _say_what_force_removed(folder.path, removed, report_written=failure is None)
    _say_what_force_did_to(folder.path, unmarked)
    see = "" if failure else f"; see {folder.path / 'report.html'}"
    print(printable(f"fit time: {_fit_time(result)}; wrote {folder.path}/{see}"))
    if failure:
        print(failure, file=sys.stderr)
        return EXIT_REPORT_FAILED
    return 0


def _say_what_force_removed(out: Path, removed: list[str], report_written: bool) -> None:
    """Name the files of a run's names that --force removed and the run did not write
    again (an earlier run's augmentation figure, carrying scratchnet's mark); the
    report's, only once it is written (a report that failed is said on its own)."""
    gone = [
        name for name in removed
        if not (out / name).exists() and (report_written or name in OUTPUT_FILES)
    ]  # fmt: skip
    if gone:
        print(printable(f"scratchnet: --force removed {', '.join(gone)} from {out}: files of "
                        "a run's names that this run does not write"), file=sys.stderr)  # fmt: skip


def _say_what_force_did_to(out: Path, unmarked: list[str]) -> None:
    """Name the files of a run's names without scratchnet's mark that --force found (a
    user's own sigmoid.png, say, or a figure of a scratchnet older than the marks):
    replaced where the run or its report wrote that name, left where neither did."""
    replaced = [name for name in unmarked if carries_mark(out / name)]
    left = [name for name in unmarked if name not in replaced]
    said = [f"replaced {', '.join(replaced)}" if replaced else "",
            f"left {', '.join(left)}" if left else ""]  # fmt: skip
    if replaced or left:
        print(printable(f"scratchnet: --force {' and '.join(filter(None, said))} in {out}: "
                        "files of a run's names without scratchnet's mark (yours, or from a "
                        "scratchnet older than the mark), replaced where this run writes the "
                        "name"), file=sys.stderr)  # fmt: skip


def _keep_the_last_state(checkpoint: Checkpoint, interruption: KeyboardInterrupt) -> None:
    """Write the newest state not yet written; a write that fails (a full disk) is said
    with the interruption, which the command still reports as such."""
    try:
        checkpoint.interrupted()
    except OSError as error:
        add_note(interruption, f"the last state was not written ({error_message(error)})")


def _go_on(out: Path, data_dir: Path | None) -> str:
    return f"continue with: {_command('train --resume', out, data_dir)}"


def _how_to_go_on(checkpoint: Checkpoint, out: Path, data_dir: Path | None) -> str:
    """What a stopped run keeps: its checkpoint, and the command that continues it (a
    resumed run stopped before it read its checkpoint keeps the one it was given); or
    that nothing is kept, when the folder lost its checkpoint (the folder removed)."""
    if not checkpoint.path.is_file():
        gone = "" if out.is_dir() else " (the folder is gone)"
        return f"{out} holds no {CHECKPOINT_FILE}{gone}: nothing to continue from"
    go_on = _go_on(out, data_dir)
    done = checkpoint.written_epochs
    if done is None:
        return f"{CHECKPOINT_FILE} kept as it was; {go_on}"
    full_batch = checkpoint.written_steps == done  # one update a pass: what RunResult.unit says
    unit = ("iteration" if full_batch else "epoch") + ("s" if done != 1 else "")
    return f"{CHECKPOINT_FILE} kept after {done} {unit}; {go_on}"


def _nothing_to_go_on_from(recipe: Recipe) -> str:
    """What a new run stopped before its first epoch ended can do: start again."""
    unit = "iteration" if recipe.batch_size is None else "epoch"
    return (
        f"stopped before its first {unit} ended, so no {CHECKPOINT_FILE} was written: run "
        "the command again"
    )


def _command(name: str, out: Path, data_dir: Path | None) -> str:
    """The command line that goes on with the run in ``out``, reading MNIST where this
    one did (the data folder is not stored in the run)."""
    data = "" if data_dir is None else f" --data-dir {pasteable(data_dir)}"
    return f"scratchnet {name} {pasteable(out)}{data}"


def _fit_time(result: RunResult) -> str:
    """'4.4 s', or for a resumed run '4.4 s (1.1 s of it before resuming)'."""
    earlier = result.earlier_seconds
    before = f" ({earlier:.1f} s of it before resuming)" if earlier else ""
    return f"{result.fit_seconds:.1f} s{before}"


def _owns(checkpoint: Checkpoint) -> bool:
    """Whether the checkpoint file is this run's: written by it, or the one it resumed."""
    return checkpoint.written_epochs is not None


def _write_report(out: Path, data_dir: Path | None, force: bool) -> str | None:
    """Build the run's report.html, after its other files are published (so a failure
    here loses none of them), replacing unmarked files of its names with ``force``. A
    user-level failure (a ScratchnetError: data gone; an OSError: disk full, no
    permission) comes back as the one line that says so; a bug keeps its traceback."""
    with deferred():
        from ..report import REPORT_FILE, write_report

    try:
        write_report(out, data_dir, force)
    except (ScratchnetError, OSError) as error:
        return (
            f"scratchnet: error: {REPORT_FILE} not written ({error_message(error)}); the "
            f"run's other files are complete in {out}/; rebuild it with: "
            f"{_command('report', out, data_dir)}"
        )
    return None


def _default_checkpoint_interval(recipe: Recipe) -> int:
    return 1 if recipe.batch_size is not None else FULL_BATCH_CHECKPOINT_EVERY


def _resumed(args: argparse.Namespace) -> tuple[Recipe, bool]:
    """The recipe of the run to resume, stored in its checkpoint, and whether it was
    started with --force (to replace files in its folder); options that would change
    it are refused."""
    changes = [
        option_name(name)
        for name in (*Recipe.option_names(), "preset", "out")
        if getattr(args, name, None) is not None and getattr(args, name) is not False
    ]
    if args.force:
        changes.append("--force")
    if changes:
        raise InvalidArgumentError(
            f"--resume continues a run with its own settings; drop {', '.join(changes)}"
        )
    if not args.resume.is_dir():
        what = "a file, not a run folder" if args.resume.exists() else "no such folder"
        raise InvalidArgumentError(f"--resume {args.resume}: {what}")
    checkpoint = args.resume / CHECKPOINT_FILE
    if checkpoint.is_dir():
        raise InvalidArgumentError(f"{checkpoint} is a folder, not a checkpoint")
    refuse_special(checkpoint, str(checkpoint))
    if not checkpoint.is_file():
        raise InvalidArgumentError(
            f"{args.resume} has no checkpoint.npz to resume from (the run finished, or "
            "stopped before its first checkpoint)"
        )
    extra = read_checkpoint_extra(checkpoint)
    if "recipe" not in extra:
        raise DataFileError(
            f"{checkpoint}: not the checkpoint of a 'scratchnet train' run (it holds no run "
            "settings); one written by NeuralNet.fit resumes there, with "
            "checkpoint=Checkpoint(path, resume=True)"
        )
    try:  # checked before training: a resumed run would publish it, its report refuse it
        recipe = Recipe.from_dict(extra["recipe"])
    except ScratchnetError as error:
        raise DataFileError(f"{checkpoint}: its run's settings cannot be read ({error})") from None
    return recipe, extra.get("force") is True


def recipe_from(args: argparse.Namespace) -> Recipe:
    """The preset with the options given on the command line, checked by the same rules
    as ``NeuralNet.fit`` before any data is loaded."""
    recipe = PRESETS[args.preset or TUTORIAL.name]
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
    _check_distortions_used(args, recipe.augment)
    _check_measuring_adds(args, recipe)
    recipe.augmentation(_strength_option)  # checked now, not after the data is loaded
    if recipe.batch_size is None and args.epochs is not None:
        recipe = recipe.updated(iterations=args.epochs)  # a full-batch epoch is one step
    _check_history_fits(recipe)
    return recipe


def _check_history_fits(recipe: Recipe) -> None:
    """A run whose history its checkpoint could not hold (the command line logs every
    epoch, or every FULL_BATCH_LOG_EVERY iterations) is refused before any data is read,
    in its options' words (fit would refuse it too, in fit's)."""
    full_batch = recipe.batch_size is None
    length, unit = (recipe.iterations, "iterations") if full_batch else (recipe.epochs, "epochs")
    log_every = FULL_BATCH_LOG_EVERY if full_batch else 1
    records = history_records(length, log_every, full_batch)
    if records > MAX_RECORDS:
        most = (MAX_RECORDS - full_batch) * log_every
        raise InvalidArgumentError(
            f"--{unit} {length}: the run would log {records:,} history records, more than "
            f"the {MAX_RECORDS:,} its checkpoint holds (it could not be resumed); train at "
            f"most {most:,} {unit}"
        )


def _check_distortions_used(args: argparse.Namespace, augment: str) -> None:
    """A strength option the run's augmentation would not use is refused, not ignored."""
    used = USED_STRENGTHS[augment]
    unused = [name for name in STRENGTHS
              if getattr(args, name, None) is not None and name not in used]  # fmt: skip
    if unused:
        options = ", ".join("--" + name.replace("_", "-") for name in unused)
        needs = "elastic" if all(name in ELASTIC_STRENGTHS for name in unused) else (
            "affine or elastic")  # fmt: skip
        raise InvalidArgumentError(
            f"{options} only {'works' if len(unused) == 1 else 'work'} with --augment {needs}"
            f" (the run's augmentation is {augment})"
        )


def _check_measuring_adds(args: argparse.Namespace, recipe: Recipe) -> None:
    """--measure-training is refused where every record measures the training set
    anyway: full batches without dropout or distortions."""
    plain = recipe.batch_size is None and not recipe.dropout and recipe.augment == "none"
    if args.measure_training and plain:
        raise InvalidArgumentError(
            "--measure-training adds nothing here: full-batch training without --dropout or "
            "--augment measures the whole training set at every record already"
        )


def _strength_option(name: str) -> str:
    """The option that sets Augment's strength ``name``: --elastic-alpha for alpha."""
    return "--" + ("elastic-" + name if name in ELASTIC_FIELD else name)


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


def _print_scores(result: RunResult) -> None:
    """The final numbers: accuracy on the rows trained on, the held-out rows (if any)
    and the test set, and early stopping."""
    labels = {"train": "train accuracy", "validation": "validation accuracy",
              "test": "test accuracy"}  # fmt: skip
    width = max(len(labels[name]) for name in result.scores) + 1
    for name in ("train", "validation", "test"):
        if name in result.scores:
            score = result.scores[name]
            print(f"{labels[name] + ':':<{width}} {share(score.accuracy, score.total)}")
    history = result.net.history
    if history.best_epoch is not None:
        unit = result.unit
        last = history.records[-1]["epoch"]
        how = f"stopped early after {unit} {last}" if history.stopped_early else "ran to the end"
        print(f"early stopping: kept the weights of {unit} {history.best_epoch}, the best "
              f"validation cost ({how})")  # fmt: skip
