"""Readings (what a network makes of inputs) and hidden activations, against the network
written plainly in tests/reference.py; and the check that a model reads 28x28 images."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.app.readings import Reading, check_reads_images, hidden_activations, read_digits

from .. import reference


def fitted(layer_sizes, activation, classes, n_features=784, dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.random((60, n_features)).astype(dtype)
    y = np.asarray(classes)[rng.integers(0, len(classes), 60)]
    net = sn.NeuralNet(layer_sizes, activation=activation, random_state=0)
    return net.fit(X, y, classes=classes, n_iterations=2), X


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_hidden_activations_are_those_of_every_hidden_layer(activation):
    net, X = fitted([16, 8, 3], activation, [4, 6, 9])
    hidden = hidden_activations(net, X[0])
    expected = reference.hidden_activations(net, X[:1])
    assert [layer.shape for layer in hidden] == [(16,), (8,)]
    for given, wanted in zip(hidden, expected, strict=True):
        np.testing.assert_allclose(given, wanted[0], rtol=1e-12, atol=1e-12)


def test_hidden_activations_keep_the_networks_dtype():
    net, X = fitted([5, 2], "relu", [0, 1], dtype=np.float32)
    (hidden,) = hidden_activations(net, X[0])
    assert hidden.dtype == np.float32
    np.testing.assert_allclose(hidden, reference.hidden_activations(net, X[:1])[0][0], rtol=1e-5)


def test_a_network_without_hidden_layers_has_no_hidden_activations():
    net, X = fitted([3], "relu", [1, 2, 3])
    assert hidden_activations(net, X[0]) == []


@pytest.mark.parametrize(
    ("layer_sizes", "classes"), [([8, 3], [4, 6, 9]), ([8, 1], [3, 7])], ids=["softmax", "sigmoid"]
)
def test_readings_rank_the_classes_by_probability(layer_sizes, classes):
    net, X = fitted(layer_sizes, "tanh", classes)
    readings = read_digits(net, X[:5])
    expected = reference.probabilities(net, X[:5])
    assert [reading.prediction[0] for reading in readings] == net.predict(X[:5]).tolist()
    for reading, probabilities in zip(readings, expected, strict=True):
        assert reading.classes == tuple(classes)
        np.testing.assert_allclose(reading.probabilities, probabilities, atol=1e-12)
        best, second = np.argsort(-probabilities, kind="stable")[:2]
        assert reading.prediction == (classes[best], reading.probabilities[best])
        assert reading.runner_up == (classes[second], reading.probabilities[second])


def test_a_reading_as_json():
    reading = Reading((3, 5, 8), (0.2, 0.7, 0.1))
    assert reading.to_json() == {
        "prediction": 5,
        "probability": 0.7,
        "runner_up": 3,
        "runner_up_probability": 0.2,
        "probabilities": {"3": 0.2, "5": 0.7, "8": 0.1},
    }


def test_ties_go_to_the_first_class_in_order():
    assert Reading((1, 2, 3), (0.4, 0.4, 0.2)).prediction == (1, 0.4)
    assert Reading((1, 2, 3), (0.4, 0.4, 0.2)).runner_up == (2, 0.4)


def test_a_model_must_read_28x28_pixels():
    net, _ = fitted([2], "relu", [0, 1], n_features=10)
    with pytest.raises(
        sn.InvalidArgumentError, match=r"m\.npz reads 10 inputs, not the 28x28 = 784"
    ):
        check_reads_images(net, "m.npz")
    check_reads_images(fitted([2], "relu", [0, 1])[0], "fine.npz")
