"""Time to accuracy on digits 1 and 2: the one-two-fast recipe in scratchnet and in
PyTorch, and scikit-learn's MLPClassifier with its default settings."""

from __future__ import annotations

import time
import warnings

import numpy as np

from scratchnet.app.experiment import run_recipe
from scratchnet.app.presets import PRESETS

from . import torch_mlp
from .common import mnist_data, peak_rss_mb

PRESET = "one-two-fast"


def time_to_accuracy(impl: str, repeats: int, threads: int) -> dict:
    """Median fit seconds over ``repeats`` runs and the test accuracy reached."""
    run = {"scratchnet": _scratchnet, "torch": _torch, "sklearn": _sklearn}[impl]
    results = [run(threads) for _ in range(repeats)]
    seconds = [r[0] for r in results]
    return {
        "fit_seconds": float(np.median(seconds)),
        "runs": seconds,
        "test_accuracy": results[0][1],
        "peak_rss_mb": peak_rss_mb(),
    }


def _scratchnet(threads):
    result = run_recipe(PRESETS[PRESET], say=lambda *_: None, progress=False)
    return result.fit_seconds, result.scores["test"].accuracy


def _torch(threads):
    recipe = PRESETS[PRESET]
    X, y, X_test, y_test = mnist_data(recipe.digits, recipe.dtype)
    result = torch_mlp.train(
        X, y, X_test, y_test, hidden=recipe.hidden, activation=recipe.activation,
        init=recipe.init, optimizer=recipe.optimizer, learning_rate=recipe.learning_rate,
        epochs=recipe.epochs, batch_size=recipe.batch_size, schedule=recipe.schedule,
        seed=recipe.seed, threads=threads,
    )  # fmt: skip
    return result["fit_seconds"], result["test_accuracy"]


def _sklearn(threads):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y, X_test, y_test = mnist_data(PRESETS[PRESET].digits, "float32")
    model = MLPClassifier(random_state=0)  # its defaults: 100 ReLU units, Adam, batch 200
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start, float(model.score(X_test, y_test))
