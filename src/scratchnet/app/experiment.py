"""A recipe run end to end: load the digits, preprocess, build the network, fit, score;
and the files it leaves in its run folder: model.npz, metrics.json, cost.png,
accuracy.png (and the report, written by ``report.py`` from these files).

Labels are the digits themselves. Without a validation fraction the test set is
monitored for the curves, as the tutorial does, and never used to decide anything.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import atomic_write
from ..data.idx import file_sha256
from ..data.mnist import IMAGE_SHAPE, load_mnist
from ..data.preprocessing import preprocess
from ..data.tutorial import shuffle_like_tutorial, tutorial_random_state
from ..errors import DataFileError, ScratchnetError
from ..network import NeuralNet
from ..nn.losses import output_units
from ..nn.optimizers import get_optimizer
from ..nn.parameters import parameter_count
from ..training.batching import check_validation_split
from ..training.callbacks import ProgressBar
from ..training.checkpoint import Checkpoint
from ..training.memory import check_fits, optimizer_state_copies
from .arguments import option_name, pasteable
from .interrupts import deferred
from .metrics_file import read_metrics
from .presets import PRESETS, Recipe, option_words
from .run_folder import CHECKPOINT

N_FEATURES = math.prod(IMAGE_SHAPE)
MODEL_FILE, METRICS_FILE = "model.npz", "metrics.json"
PLOT_BYTES = 200_000  # a generous size for one figure
AUGMENTATION_FILE = "augmentation.png"
OUTPUT_FILES = (MODEL_FILE, METRICS_FILE, "cost.png", "accuracy.png", AUGMENTATION_FILE)
REPORT_FILE = "report.html"
# what a run's folder holds of it: its outputs, then its report and the report's own figures
RUN_FILES = (*OUTPUT_FILES, REPORT_FILE, "hidden_units.png", "reliability.png", "sigmoid.png",
             "cross_entropy.png")  # fmt: skip
EXAMPLES = 6  # digits shown distorted in augmentation.png
DISTORTIONS = 5  # distortions of each
FIGURE_SEED = 0  # the figure's distortions are drawn apart from the run's generator


@dataclass(frozen=True)
class Score:
    """How many of ``total`` rows were predicted right."""

    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total


@dataclass(frozen=True)
class RunResult:
    net: NeuralNet
    recipe: Recipe
    train_shape: tuple[int, int]  # all training rows loaded
    test_shape: tuple[int, int]
    scores: dict[str, Score]  # "train" (rows trained on), "validation" (held out), "test"
    fit_seconds: float  # training only, over every run that led to the model
    monitored_set: str  # "test" (watched for the curves only) or "validation"
    data_files: tuple[str, ...]
    examples: np.ndarray  # (k, 784): the first test image of up to six digits
    earlier_seconds: float = 0.0  # of fit_seconds, those before this run resumed

    @property
    def unit(self) -> str:
        """What the run counted: "iteration" for full-batch training (no batch size, or
        one that covers every row trained on), else "epoch"."""
        batch = self.recipe.batch_size
        return "iteration" if batch is None or batch >= self.scores["train"].total else "epoch"


def build_network(recipe: Recipe) -> NeuralNet:
    """The recipe's network, its memory checked before anything is allocated."""
    random_state = tutorial_random_state(recipe.seed) if recipe.replay_tutorial else recipe.seed
    net = NeuralNet(
        [*recipe.hidden, output_units(len(recipe.digits))],
        activation=recipe.activation,
        init=recipe.init,
        dropout=recipe.dropout,
        random_state=random_state,
    )
    check_fits(
        net.training_memory(
            N_FEATURES,
            recipe.dtype,
            recipe.optimizer,
            recipe.patience,
            checkpoint=True,
            batch_size=recipe.batch_size,
        ),
        f"training {parameter_count((N_FEATURES, *net.layer_sizes)):,} parameters",
    )
    return net


def output_bytes(net: NeuralNet, recipe: Recipe) -> int:
    """About how much the run writes, uncompressed: the model (P, the parameters' bytes);
    its checkpoint (the parameters, the optimizer's state and the best weights), twice
    while a new one replaces the old; metrics, figures and the report (which embeds them
    again; about 1.3 MB with its figures)."""
    parameters = parameter_count((N_FEATURES, *net.layer_sizes)) * np.dtype(recipe.dtype).itemsize
    state = optimizer_state_copies(get_optimizer(recipe.optimizer))
    checkpoint = (1 + state + (recipe.patience is not None)) * parameters
    return parameters + 2 * checkpoint + 20 * PLOT_BYTES


def run_recipe(
    recipe: Recipe,
    net: NeuralNet | None = None,
    data_dir: str | os.PathLike | None = None,
    say: Callable[[str], object] = print,
    progress: bool = True,
    checkpoint: Checkpoint | None = None,
) -> RunResult:
    """Train ``recipe`` (on ``net``, by default ``build_network(recipe)``) on MNIST and
    score it. ``say`` receives the data shapes and the model summary; ``progress`` shows
    progress; ``checkpoint`` saves (and resumes) the training state."""
    net = build_network(recipe) if net is None else net
    data = load_mnist(recipe.digits, data_dir)
    if recipe.replay_tutorial:
        data = shuffle_like_tutorial(data, recipe.seed)
    x_train = preprocess(data.x_train, recipe.dtype)
    x_test = preprocess(data.x_test, recipe.dtype)
    digits = np.asarray(data.digits)
    y_train, y_test = digits[data.y_train], digits[data.y_test]
    files = tuple(str(path.absolute()) for path in data.files)  # found again from any folder
    del data  # the raw images are not needed any more: keep the peak memory down
    held_out = ""
    if recipe.validation_fraction is not None:  # known to fail now: say so before starting
        held = check_validation_split(y_train, recipe.validation_fraction, option_name)
        held_out = f" ({held:,} of its rows held out for validation)"
    say(f"train_x shape: {x_train.shape}{held_out}, test_x shape: {x_test.shape}")
    say(net.summary(x_train.shape[1]))
    monitored = "test" if recipe.validation_fraction is None else "validation"
    start = time.perf_counter()
    net.fit(
        x_train,
        y_train,
        classes=digits,
        **fit_options(recipe, x_test, y_test),
        callbacks=[ProgressBar(monitored)] if progress else [],
        checkpoint=checkpoint,
    )
    earlier = 0.0 if checkpoint is None else checkpoint.earlier_seconds  # (resumed runs)
    fit_seconds = earlier + time.perf_counter() - start
    return RunResult(
        net=net,
        recipe=recipe,
        train_shape=x_train.shape,
        test_shape=x_test.shape,
        scores=_scores(net, x_train, y_train, x_test, y_test),
        fit_seconds=fit_seconds,
        monitored_set=monitored,
        data_files=files,
        examples=x_test[first_of_each(y_test, EXAMPLES)],
        earlier_seconds=earlier,
    )


def fit_options(recipe: Recipe, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """NeuralNet.fit keywords for the recipe."""
    options = {
        "learning_rate": recipe.learning_rate,
        "batch_size": recipe.batch_size,
        "optimizer": recipe.optimizer,
        "schedule": recipe.schedule,
        "weight_decay": recipe.weight_decay,
        "patience": recipe.patience,
        "measure_training": recipe.measure_training,
        "augment": recipe.augmentation(),
    }
    if recipe.batch_size is None:
        options["n_iterations"] = recipe.iterations
    else:
        options["epochs"] = recipe.epochs
    if recipe.validation_fraction is None:
        options["validation_data"] = (x_test, y_test)
    else:
        options["validation_fraction"] = recipe.validation_fraction
    return options


def distortions_figure(examples: np.ndarray, augment):
    """augmentation.png: the examples and DISTORTIONS distortions of each, drawn from a
    generator of their own (FIGURE_SEED), so the run and its report draw the same."""
    with deferred():
        from .plots import augmentation_figure

    rng = np.random.default_rng(FIGURE_SEED)
    subject = "Test digits (never trained on)"
    return augmentation_figure(examples, augment, rng, DISTORTIONS, subject)


def first_of_each(labels: np.ndarray, count: int) -> np.ndarray:
    """Row indices of the first example of up to ``count`` distinct labels, in order."""
    _, first = np.unique(labels, return_index=True)
    return np.sort(first)[:count]


def _scores(net: NeuralNet, x_train, y_train, x_test, y_test) -> dict[str, Score]:
    """Correct predictions on the rows trained on, the held-out rows and the test set."""
    trained = np.ones(len(x_train), dtype=bool)
    scores = {}
    if net.held_out is not None:
        trained[net.held_out] = False
        scores["validation"] = _score(net, x_train[~trained], y_train[~trained])
    scores["train"] = _score(net, x_train[trained], y_train[trained])
    scores["test"] = _score(net, x_test, y_test)
    return scores


def _score(net: NeuralNet, x: np.ndarray, y: np.ndarray) -> Score:
    return Score(int(np.count_nonzero(net.predict(x) == y)), len(y))


# -- the run folder's files ------------------------------------------------------------------


def write_outputs(folder: Path, result: RunResult) -> None:
    """model.npz, metrics.json, cost.png and accuracy.png into ``folder``, and
    augmentation.png when the run distorted its images."""
    with deferred():
        from .plots import plot_accuracy, plot_cost, save

    result.net.save(folder / MODEL_FILE)
    metrics = run_metrics(result, file_sha256(folder / MODEL_FILE))
    with atomic_write(folder / METRICS_FILE) as file:
        file.write(json.dumps(metrics, indent=2, allow_nan=False).encode())
    title = run_title(result.recipe)
    plot_cost(metrics, folder / "cost.png", title)
    plot_accuracy(metrics, folder / "accuracy.png", title)
    augment = result.recipe.augmentation()
    if augment is not None:
        save(distortions_figure(result.examples, augment), folder / AUGMENTATION_FILE)


def run_title(recipe: Recipe) -> str:
    """'tutorial preset, digits 1 and 2': what every figure names, with the options that
    changed the preset's settings, if any: 'tutorial preset with --activation relu,
    --optimizer adam and 3 more changes, digits 3 and 8'."""
    digits = list(recipe.digits)
    if digits == list(range(10)):
        which = "all ten digits"
    elif sorted(digits) == list(range(10)):  # the order is the classes': it changes the run
        which = f"all ten digits in the order {' '.join(map(str, digits))}"
    else:
        which = "digits " + ", ".join(map(str, digits[:-1])) + f" and {digits[-1]}"
    return f"{recipe.name} preset{_changes(recipe)}, {which}"


def _changes(recipe: Recipe, named: int = 2) -> str:
    """' with --option value, ...' for the settings (the digits aside) where ``recipe``
    differs from its preset: the first ``named`` of them, and how many more."""
    preset = PRESETS.get(recipe.name)
    if preset is None:
        return ""
    changed = [name for name in Recipe.option_names()
               if name != "digits" and getattr(recipe, name) != getattr(preset, name)]  # fmt: skip
    if not changed:
        return ""
    shown = [" ".join(option_words(name, getattr(recipe, name))) for name in changed[:named]]
    more = len(changed) - len(shown)
    if more:
        return f" with {', '.join(shown)} and {more} more change{'s' if more > 1 else ''}"
    return " with " + " and ".join(shown)


def run_metrics(result: RunResult, model_sha256: str) -> dict:
    """Everything metrics.json records (see the README's table), ``model_sha256`` being
    the SHA-256 of the model file it describes. JSON has no NaN or Infinity: a number
    that is not finite is written as null."""
    history = result.net.history.to_dict()
    records = history["records"]
    return {
        "config": result.recipe.to_dict(),
        "data_files": list(result.data_files),
        "train_shape": list(result.train_shape),
        "test_shape": list(result.test_shape),
        "costs": [[record["epoch"], record["loss"]] for record in records],
        "cost_axis": result.unit,
        "monitored_set": result.monitored_set,
        "history": history,
        **{
            f"{name}_accuracy": result.scores[name].accuracy if name in result.scores else None
            for name in ("train", "validation", "test")
        },
        "counts": {name: [s.correct, s.total] for name, s in result.scores.items()},
        "fit_seconds": result.fit_seconds,
        "seconds_before_resuming": result.earlier_seconds,
        "model_sha256": model_sha256,
        "versions": {"scratchnet": __version__, "numpy": np.__version__},
    }


# -- reading a run folder back -----------------------------------------------------------------


@dataclass(frozen=True)
class SavedRun:
    """What a finished run left in its folder: the model, its metrics, its recipe."""

    folder: Path
    net: NeuralNet
    metrics: dict
    recipe: Recipe


def read_run(folder: Path) -> SavedRun:
    """The model and metrics of the run in ``folder``, checked to belong together."""
    if not folder.is_dir():
        what = "a file" if folder.exists() else "no such folder"
        raise DataFileError(f"{folder} is not a run folder: {what}")
    if not (folder / METRICS_FILE).exists() and (folder / CHECKPOINT).is_file():
        raise DataFileError(
            f"{folder} holds the checkpoint of an interrupted run and no results yet; "
            f"continue it with: scratchnet train --resume {pasteable(folder)}"
        )
    metrics = read_metrics(folder / METRICS_FILE)
    net = NeuralNet.load(folder / MODEL_FILE)
    recipe = recipe_of(metrics, folder / METRICS_FILE)
    mismatch = model_mismatch(metrics, recipe, net, folder / MODEL_FILE)
    if mismatch is not None:
        raise DataFileError(f"{folder}: {mismatch}; they are not from the same run")
    return SavedRun(folder, net, metrics, recipe)


def recipe_of(metrics: dict, path: Path) -> Recipe:
    """The recipe metrics.json (at ``path``) records, checked."""
    try:
        return Recipe.from_dict(metrics["config"])
    except (ScratchnetError, TypeError) as error:
        raise DataFileError(f"{path}: its config is unreadable ({error})") from None


def model_mismatch(metrics: dict, recipe: Recipe, net: NeuralNet, model: Path) -> str | None:
    """Why the model ``net``, read from ``model``, is not the one ``metrics`` (of a run
    of ``recipe``) describes, or None: its digits, its hidden layers, its file's SHA-256
    (recorded since runs wrote it)."""
    named = f"{model.name} "
    if net.classes.tolist() != list(recipe.digits):
        return (f"{named}classifies {net.classes.tolist()} but {METRICS_FILE} describes a run "
                f"on digits {list(recipe.digits)}")  # fmt: skip
    if list(net.layer_sizes[:-1]) != list(recipe.hidden):
        return (f"{named}has hidden layers {list(net.layer_sizes[:-1])} but {METRICS_FILE} "
                f"describes {list(recipe.hidden)}")  # fmt: skip
    recorded = metrics.get("model_sha256")  # (absent from runs of older versions)
    if recorded is not None and recorded != file_sha256(model):
        return (f"{named}is not the model {METRICS_FILE} describes (its SHA-256 differs: it "
                "was replaced or changed after the run)")  # fmt: skip
    return None
