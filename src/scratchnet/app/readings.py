"""What a network makes of digit images: the most probable class and the runner-up, every
class probability, and the hidden layers' activations. ``scratchnet predict`` prints
readings and the draw-a-digit page shows them, both from these functions, so the two
can never disagree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError
from ..network import NeuralNet
from ..nn.activations import get_activation

N_PIXELS = 28 * 28


@dataclass(frozen=True)
class Reading:
    """The network's answer for one input: ``classes`` and their ``probabilities`` (same
    order, summing to 1), best first is ``ranking``."""

    classes: tuple[int, ...]
    probabilities: tuple[float, ...]

    @property
    def ranking(self) -> list[int]:
        """Indices of the classes from most to least probable (ties: class order)."""
        return sorted(range(len(self.classes)), key=lambda i: -self.probabilities[i])

    @property
    def prediction(self) -> tuple[int, float]:
        best = self.ranking[0]
        return self.classes[best], self.probabilities[best]

    @property
    def runner_up(self) -> tuple[int, float]:
        second = self.ranking[1]
        return self.classes[second], self.probabilities[second]

    def to_json(self) -> dict:
        """{"prediction", "probability", "runner_up", "runner_up_probability",
        "probabilities": {class label: probability for every class}}."""
        (label, probability), (second, second_probability) = self.prediction, self.runner_up
        return {
            "prediction": label,
            "probability": probability,
            "runner_up": second,
            "runner_up_probability": second_probability,
            "probabilities": {
                str(c): p for c, p in zip(self.classes, self.probabilities, strict=True)
            },
        }


def check_reads_images(net: NeuralNet, name: str) -> None:
    """The network must take 28x28 = 784 pixels, as every MNIST model does."""
    n_inputs = net.layers[0].weight.shape[0]
    if n_inputs != N_PIXELS:
        raise InvalidArgumentError(
            f"{name} reads {n_inputs} inputs, not the 28x28 = {N_PIXELS} pixels of a digit image"
        )


def read_digits(net: NeuralNet, inputs: np.ndarray) -> list[Reading]:
    """One Reading per row of ``inputs`` (n, 784), from ``net.predict_proba``."""
    probabilities = net.predict_proba(inputs)  # (n, k)
    classes = tuple(int(c) for c in net.classes)
    return [Reading(classes, tuple(float(p) for p in row)) for row in probabilities]


def hidden_activations(net: NeuralNet, x: np.ndarray) -> list[np.ndarray]:
    """a_l = f(a_{l-1} W_l + b_l) of every hidden layer l for one input x (784,), a_0 = x,
    computed from the network's public per-layer weights and biases."""
    activation = get_activation(net.activation)
    a = np.asarray(x, dtype=net.dtype)[np.newaxis, :]  # (1, 784)
    hidden = []
    for layer in net.layers[:-1]:
        a = a @ layer.weight + layer.bias  # (1, width)
        activation.forward_(a)
        hidden.append(a[0])
    return hidden
