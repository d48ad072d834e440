"""Fixtures of the app tests: a small model of all ten digits, trained once."""

from __future__ import annotations

from pathlib import Path

import pytest

import scratchnet as sn


@pytest.fixture(scope="session")
def digits_model(mnist_dir, tmp_path_factory) -> Path:
    """A model of all ten digits trained in about two seconds: 784-64-10 ReLU, Adam, three
    epochs of batches of 128 (about 97% on the test set). Its path."""
    data = sn.load_mnist(range(10), mnist_dir, relabel=False)
    net = sn.NeuralNet([64, 10], activation="relu", init="he", random_state=0)
    net.fit(
        sn.preprocess(data.x_train, "float32"),
        data.y_train,
        epochs=3,
        batch_size=128,
        optimizer="adam",
        learning_rate=3e-3,
        schedule="cosine",
    )
    path = tmp_path_factory.mktemp("model") / "model.npz"
    net.save(path)
    return path
