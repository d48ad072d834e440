"""A recipe run end to end: load the digits, preprocess, build the network, fit, score;
and the run folder it leaves: model.npz, metrics.json, cost.png, accuracy.png."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import atomic_write
from ..data.mnist import load_mnist
from ..data.preprocessing import preprocess
from ..data.tutorial import shuffle_like_tutorial, tutorial_random_state
from ..network import NeuralNet
from ..nn.losses import output_units
from ..training.callbacks import ProgressBar
from ..training.history import History
from .presets import Recipe


@dataclass(frozen=True)
class RunResult:
    net: NeuralNet
    recipe: Recipe
    train_shape: tuple[int, int]
    test_shape: tuple[int, int]
    train_accuracy: float
    test_accuracy: float
    fit_seconds: float
    monitored_set: str  # "test" (watched for the curves only) or "validation"


def run_recipe(
    recipe: Recipe,
    data_dir: str | os.PathLike | None = None,
    say: Callable[[str], object] = print,
    progress: bool = True,
) -> RunResult:
    """Train ``recipe`` on MNIST and measure it. ``say`` receives the data shapes and the
    model summary; ``progress`` shows a progress bar.

    Without a validation fraction the test set is monitored for the curves, as the
    tutorial does, and never used to stop early. Labels are the digits themselves.
    """
    data = load_mnist(recipe.digits, data_dir)
    random_state = recipe.seed
    if recipe.replay_tutorial:
        data = shuffle_like_tutorial(data, recipe.seed)
        random_state = tutorial_random_state(recipe.seed)
    x_train = preprocess(data.x_train, recipe.dtype)
    x_test = preprocess(data.x_test, recipe.dtype)
    digits = np.asarray(data.digits)
    y_train, y_test = digits[data.y_train], digits[data.y_test]
    del data  # the raw images are not needed any more: keep the peak memory down
    say(f"train_x shape: {x_train.shape}, test_x shape: {x_test.shape}")
    net = NeuralNet(
        [*recipe.hidden, output_units(len(digits))],
        activation=recipe.activation,
        init=recipe.init,
        dropout=recipe.dropout,
        random_state=random_state,
    )
    say(net.summary(x_train.shape[1]))
    monitored = "test" if recipe.validation_fraction is None else "validation"
    start = time.perf_counter()
    net.fit(
        x_train,
        y_train,
        classes=digits,
        **_fit_options(recipe, x_test, y_test),
        callbacks=[ProgressBar(monitored)] if progress else [],
    )
    fit_seconds = time.perf_counter() - start
    return RunResult(
        net=net,
        recipe=recipe,
        train_shape=x_train.shape,
        test_shape=x_test.shape,
        train_accuracy=net.score(x_train, y_train),
        test_accuracy=net.score(x_test, y_test),
        fit_seconds=fit_seconds,
        monitored_set=monitored,
    )


def _fit_options(recipe: Recipe, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """NeuralNet.fit keywords for the recipe."""
    options = {
        "learning_rate": recipe.learning_rate,
        "batch_size": recipe.batch_size,
        "optimizer": recipe.optimizer,
        "schedule": recipe.schedule,
        "weight_decay": recipe.weight_decay,
        "patience": recipe.patience,
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


def write_run(out: Path, result: RunResult) -> None:
    """Write every output into a staging folder beside ``out``, then move them in: a
    failure on the way leaves ``out`` as it was."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_outputs(staging, result)
        for file in staging.iterdir():
            os.replace(file, out / file.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_outputs(folder: Path, result: RunResult) -> None:
    from .plots import plot_accuracy, plot_cost

    history = result.net.history
    x_label, x = _x_axis(result.recipe, history)
    metrics = {
        "config": result.recipe.to_dict(),
        "train_shape": list(result.train_shape),
        "test_shape": list(result.test_shape),
        "costs": [[step, loss] for step, loss in zip(x, history.column("loss"), strict=True)],
        "cost_axis": x_label,
        "monitored_set": result.monitored_set,
        "history": history.to_dict(),
        "train_accuracy": result.train_accuracy,
        "test_accuracy": result.test_accuracy,
        "fit_seconds": result.fit_seconds,
        "versions": {"scratchnet": __version__, "numpy": np.__version__},
    }
    result.net.save(folder / "model.npz")
    with atomic_write(folder / "metrics.json") as file:
        file.write(json.dumps(metrics, indent=2).encode())
    plot_cost(x, history, folder / "cost.png", x_label, result.monitored_set)
    plot_accuracy(x, history, folder / "accuracy.png", x_label, result.monitored_set)


def _x_axis(recipe: Recipe, history: History) -> tuple[str, list[int]]:
    """Full-batch records are numbered by iteration from 0 (the cost before that
    iteration's update, as the tutorial prints it); mini-batch records by epoch from 1."""
    epochs = history.column("epoch")
    if recipe.batch_size is None:
        return "iteration", epochs
    return "epoch", [epoch + 1 for epoch in epochs]
