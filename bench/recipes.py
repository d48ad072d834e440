"""The documented recipes (presets), run by scratchnet exactly as ``scratchnet train
--preset NAME`` runs them, and the same networks trained by PyTorch and scikit-learn."""

from __future__ import annotations

import io
import time
import warnings

from scratchnet.app.experiment import run_recipe
from scratchnet.app.presets import PRESETS

from . import torch_mlp
from .common import mnist_data, peak_rss_mb


def recipe(impl: str, preset: str, threads: int, **overrides) -> dict:
    """Fit seconds and test accuracy of one implementation of a preset (with
    ``overrides`` of its settings, e.g. another seed)."""
    chosen = PRESETS[preset].updated(**overrides)
    run = {"scratchnet": _scratchnet, "torch": _torch, "sklearn": _sklearn}[impl]
    return {**run(chosen, threads), "peak_rss_mb": peak_rss_mb()}


def _scratchnet(recipe, threads) -> dict:
    result = run_recipe(recipe, say=lambda *_: None, progress=False)
    return {"fit_seconds": result.fit_seconds, "test_accuracy": result.scores["test"].accuracy}


def _torch(recipe, threads) -> dict:
    X, y, X_test, y_test = mnist_data(recipe.digits, recipe.dtype)
    result = torch_mlp.train(
        X, y, X_test, y_test, hidden=recipe.hidden, activation=recipe.activation,
        init=recipe.init, dropout=recipe.dropout, optimizer=recipe.optimizer,
        learning_rate=recipe.learning_rate, epochs=recipe.epochs, batch_size=recipe.batch_size,
        schedule=recipe.schedule, weight_decay=recipe.weight_decay, seed=recipe.seed,
        threads=threads,
    )  # fmt: skip
    return {"fit_seconds": result["fit_seconds"], "test_accuracy": result["test_accuracy"]}


def _sklearn(recipe, threads) -> dict:
    """The same layers, optimizer, batch size and epochs. scikit-learn has no dropout and
    no cosine schedule; its alpha is an L2 penalty divided by the batch size."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y, X_test, y_test = mnist_data(recipe.digits, recipe.dtype)
    model = MLPClassifier(
        hidden_layer_sizes=recipe.hidden, activation=recipe.activation,
        solver="adam" if recipe.optimizer == "adam" else "sgd",
        learning_rate_init=recipe.learning_rate, batch_size=recipe.batch_size,
        max_iter=recipe.epochs, alpha=recipe.weight_decay * recipe.batch_size,
        tol=0.0, n_iter_no_change=recipe.epochs + 1, random_state=recipe.seed,
    )  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings(), _quiet():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    fit_seconds = time.perf_counter() - start
    return {"fit_seconds": fit_seconds, "test_accuracy": float(model.score(X_test, y_test))}


def _quiet():
    import contextlib

    return contextlib.redirect_stdout(io.StringIO())
