"""Time to 98.0% test accuracy on all ten digits: scratchnet's fast preset as the command
runs it, and PyTorch and scikit-learn each trying a few reasonable settings (the preset's
own among them), of which the fastest that reaches 98.0% counts."""

from __future__ import annotations

import time
import warnings

import numpy as np

from scratchnet.app.experiment import run_recipe
from scratchnet.app.presets import PRESETS
from scratchnet.nn.propagation import nonzero_columns

from . import torch_mlp
from .common import mnist_data, peak_rss_mb
from .minibatch import bare_epoch

PRESET = "all-digits-fast"
GOAL = 0.98
# (hidden, batch size, learning rate, epochs), all Adam with a cosine schedule, ReLU, He
TORCH_SETTINGS = {
    "the preset's": None,
    "256 units, batch 128, lr 2e-3, 6 epochs": ((256,), 128, 2e-3, 6),
    "512 units, batch 128, lr 1e-3, 6 epochs": ((512,), 128, 1e-3, 6),
    "256 units, batch 256, lr 3e-3, 8 epochs": ((256,), 256, 3e-3, 8),
    "512 units, batch 256, lr 3e-3, 5 epochs": ((512,), 256, 3e-3, 5),
}
# scikit-learn's MLPClassifier: (hidden, batch size, learning rate, epochs), Adam; it has no
# cosine schedule
SKLEARN_SETTINGS = {
    "the preset's: 256 units, batch 256, lr 6e-3, 4 epochs": ((256,), 256, 6e-3, 4),
    "512 units, batch 256, lr 3e-3, 5 epochs": ((512,), 256, 3e-3, 5),
    "256 units, batch 128, lr 2e-3, 6 epochs": ((256,), 128, 2e-3, 6),
    "512 units, batch 200, lr 1e-3, 8 epochs": ((512,), 200, 1e-3, 8),
}


def time_to_98(impl: str, setting: str, threads: int) -> dict:
    """Fit seconds and test accuracy of one implementation with one setting ("products"
    and "updates": the seconds of that setting's bare products, or its updates)."""
    run = {"scratchnet": _scratchnet, "torch": _torch, "sklearn": _sklearn,
           "products": _products, "updates": _updates}[impl]  # fmt: skip
    return {**run(setting, threads), "peak_rss_mb": peak_rss_mb()}


def torch_setting(setting: str) -> tuple[tuple[int, ...], int, float, int]:
    """(hidden, batch size, learning rate, epochs) of one of PyTorch's settings."""
    recipe = PRESETS[PRESET]
    preset = (recipe.hidden, recipe.batch_size, recipe.learning_rate, recipe.epochs)
    return TORCH_SETTINGS[setting] or preset


def _scratchnet(setting, threads) -> dict:
    result = run_recipe(PRESETS[PRESET], say=lambda *_: None, progress=False)
    return {"fit_seconds": result.fit_seconds, "test_accuracy": result.scores["test"].accuracy}


def _torch(setting, threads) -> dict:
    recipe = PRESETS[PRESET]
    hidden, batch, lr, epochs = torch_setting(setting)
    X, y, X_test, y_test = mnist_data(tuple(range(10)), "float32")
    result = torch_mlp.train(
        X, y, X_test, y_test, hidden=hidden, activation="relu", init="he",
        dropout=recipe.dropout if TORCH_SETTINGS[setting] is None else 0.0, optimizer="adam",
        learning_rate=lr, epochs=epochs, batch_size=batch, schedule="cosine", seed=0,
        threads=threads,
    )  # fmt: skip
    return {"fit_seconds": result["fit_seconds"], "test_accuracy": result["test_accuracy"]}


def _sklearn(setting, threads) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    hidden, batch, lr, epochs = SKLEARN_SETTINGS[setting]
    X, y, X_test, y_test = mnist_data(tuple(range(10)), "float32")
    model = MLPClassifier(
        hidden_layer_sizes=hidden, solver="adam", batch_size=batch, learning_rate_init=lr,
        max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1, random_state=0,
    )  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return {"fit_seconds": time.perf_counter() - start,
            "test_accuracy": float(model.score(X_test, y_test))}  # fmt: skip


def _products(setting, threads) -> dict:
    """The whole training of one of PyTorch's settings reduced to its essential matrix
    products, bare in NumPy on BLAS's threads, over only the input columns that are not
    zero in every training image."""
    return _bare(setting, threads, products=True)


def _updates(setting, threads) -> dict:
    """The same training's Adam updates alone: scratchnet's, one after every batch, over
    flat halves side by side, with BLAS on one thread as in training (BLAS threads still
    spinning after a product would slow them)."""
    from scratchnet.training.threads import one_blas_thread

    with one_blas_thread():
        return _bare(setting, threads, products=False)


def _bare(setting, threads, products: bool) -> dict:
    from scratchnet.nn.parallel import Team

    hidden, batch, _, epochs = torch_setting(setting)
    X = mnist_data(tuple(range(10)), "float32")[0]
    active = np.ascontiguousarray(X[:, nonzero_columns(X)])
    team = Team(threads)
    epoch = bare_epoch(active, hidden, batch, team, products=products, update=not products)
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    seconds = time.perf_counter() - start
    team.close()
    return {"fit_seconds": seconds, "columns": active.shape[1]}
