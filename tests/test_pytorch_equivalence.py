"""Training steps against PyTorch: from the same initial weights, every output layer
(sigmoid with binary cross-entropy, softmax with cross-entropy, identity with half the
mean squared error), every hidden activation, gradient descent and Adam, with and without
sample weights, reach the weights PyTorch's autograd and optimizers reach."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

import scratchnet as sn
import scratchnet.network
from scratchnet.nn.column_groups import grouped

STEPS = 4
KINDS = {  # output -> (network class, output units)
    "sigmoid": (sn.NeuralNet, 1),
    "softmax": (sn.NeuralNet, 3),
    "identity": (sn.NeuralNetRegressor, 2),
}


def problem(kind):
    """X (30, 5), the targets of the output kind, sample weights and initial weights."""
    rng = np.random.default_rng(21)
    X = rng.normal(size=(30, 5))
    units = KINDS[kind][1]
    if kind == "identity":
        y = rng.normal(size=(30, units))
    else:
        y = rng.integers(0, max(units, 2), size=30)
    widths = (5, 7, 6, units)
    weights = [rng.normal(size=shape) / np.sqrt(shape[0]) for shape in pairwise(widths)]
    biases = [rng.normal(scale=0.1, size=width) for width in widths[1:]]
    return X, y, rng.uniform(0, 2, size=30), weights, biases


def torch_weights(torch, kind, activation, optimizer, X, y, sample_weight, weights, biases):
    """The weights after STEPS full-batch steps, computed by PyTorch."""
    functional = torch.nn.functional
    hidden = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda z: functional.leaky_relu(z, 0.01),
    }[activation]
    params = [torch.tensor(p, requires_grad=True) for p in [*weights, *biases]]
    Ws, bs = params[: len(weights)], params[len(weights) :]
    if optimizer == "gd":
        step = torch.optim.SGD(params, lr=0.3)
    else:
        step = torch.optim.Adam(params, lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    inputs = torch.tensor(X)
    w = (
        torch.ones(len(X), dtype=torch.float64)
        if sample_weight is None
        else torch.tensor(sample_weight)
    )
    for _ in range(STEPS):
        step.zero_grad()
        a = inputs
        for index, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            a = a @ W + b
            if index < len(Ws) - 1:
                a = hidden(a)
        if kind == "sigmoid":
            targets = torch.tensor(y, dtype=torch.float64)
            rows = functional.binary_cross_entropy_with_logits(a[:, 0], targets, reduction="none")
        elif kind == "softmax":
            rows = functional.cross_entropy(a, torch.tensor(y), reduction="none")
        else:
            rows = 0.5 * functional.mse_loss(a, torch.tensor(y), reduction="none").mean(dim=1)
        ((rows * w).sum() / w.sum()).backward()
        step.step()
    return [W.detach().numpy() for W in Ws], [b.detach().numpy() for b in bs]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("optimizer", ["gd", "adam"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_full_batch_steps_match_pytorch(torch, kind, activation, optimizer, weighted):
    X, y, sample_weight, weights, biases = problem(kind)
    sample_weight = sample_weight if weighted else None
    network, units = KINDS[kind]
    net = network([7, 6, units], activation=activation, random_state=0)
    net.fit(X, y, n_iterations=1, learning_rate=1e-300)  # any weights, overwritten below
    for layer, weight, bias in zip(net.layers, weights, biases, strict=True):
        layer.weight[...], layer.bias[...] = weight, bias
    learning_rate = 0.3 if optimizer == "gd" else 0.01
    net.fit(X, y, n_iterations=STEPS, learning_rate=learning_rate, optimizer=optimizer,
            sample_weight=sample_weight, warm_start=True)  # fmt: skip
    expected_weights, expected_biases = torch_weights(
        torch, kind, activation, optimizer, X, y, sample_weight, weights, biases
    )
    for layer, weight, bias in zip(net.layers, expected_weights, expected_biases, strict=True):
        np.testing.assert_allclose(layer.weight, weight, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.bias, bias, rtol=1e-10, atol=1e-12)


def test_full_batch_steps_on_rows_stored_by_column_groups_match_pytorch(torch, monkeypatch):
    """Image-like rows (most columns rarely non-zero, some blank) are trained from a copy
    stored by column groups; the steps are still PyTorch's."""
    plans = []
    monkeypatch.setattr(scratchnet.network, "grouped",
                        lambda x, plan: plans.append(plan) or grouped(x, plan))  # fmt: skip
    rng = np.random.default_rng(5)
    use = np.geomspace(1.0, 0.005, 60)
    X = rng.uniform(0.1, 1.0, (400, 60)) * (rng.random((400, 60)) < use)
    X[:, [7, 30]] = 0.0
    y = rng.integers(0, 3, 400)
    widths = (60, 7, 6, 3)
    weights = [rng.normal(size=shape) / np.sqrt(shape[0]) for shape in pairwise(widths)]
    biases = [rng.normal(scale=0.1, size=width) for width in widths[1:]]
    net = sn.NeuralNet([7, 6, 3], activation="tanh", random_state=0)
    net.fit(X, y, n_iterations=1, learning_rate=1e-300)
    for layer, weight, bias in zip(net.layers, weights, biases, strict=True):
        layer.weight[...], layer.bias[...] = weight, bias
    net.fit(X, y, n_iterations=STEPS, learning_rate=0.3, warm_start=True)
    assert plans and all(len(plan.bounds) > 2 for plan in plans)  # later groups were used
    expected_weights, expected_biases = torch_weights(
        torch, "softmax", "tanh", "gd", X, y, None, weights, biases
    )
    for layer, weight, bias in zip(net.layers, expected_weights, expected_biases, strict=True):
        np.testing.assert_allclose(layer.weight, weight, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.bias, bias, rtol=1e-10, atol=1e-12)
