"""Prediction speed: labels for the 10,000 test images from a trained network."""

from __future__ import annotations

import warnings

import numpy as np

import scratchnet as sn

from . import torch_mlp
from .common import mnist_data, peak_rss_mb, repeated


def predict_seconds(impl: str, hidden: list[int], dtype: str, repeats: int, threads: int) -> dict:
    """Median seconds to predict the labels of all 10,000 test images."""
    digits = tuple(range(10))
    X, y, X_test, _ = mnist_data(digits, dtype)
    predict = {"scratchnet": _scratchnet, "torch": _torch, "sklearn": _sklearn}[impl](
        X[:2000], y[:2000], hidden, threads
    )
    times = repeated(lambda: predict(X_test), repeats)
    return {"seconds": float(np.median(times)), "runs": times, "peak_rss_mb": peak_rss_mb()}


def _scratchnet(X, y, hidden, threads):
    net = sn.NeuralNet([*hidden, 10], activation="relu", init="he", random_state=0)
    net.fit(X, y, epochs=1, batch_size=128, optimizer="adam", learning_rate=1e-3)
    return net.predict


def _torch(X, y, hidden, threads):
    import torch

    torch.set_num_threads(threads)
    model = torch_mlp.build(torch, (X.shape[1], *hidden, 10), "relu", "he", 0.0,
                            getattr(torch, X.dtype.name), 0)  # fmt: skip
    model.eval()

    def predict(data):
        with torch.inference_mode():
            return model(torch.from_numpy(data)).argmax(dim=1).numpy()

    return predict


def _sklearn(X, y, hidden, threads):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=hidden, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model.predict
