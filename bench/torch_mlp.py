"""The same fully connected network and updates in PyTorch, for side-by-side runs.

Batches are drawn by indexing a preloaded tensor with a fresh permutation each epoch
(the fastest way PyTorch offers, faster than a DataLoader); L2 weight decay applies to
the weights only, as in scratchnet; the learning-rate schedule is evaluated per epoch.
"""

from __future__ import annotations

import math
import time
from itertools import pairwise

import numpy as np

import scratchnet as sn

# the public schedule classes, which an older scratchnet (--before) has too
SCHEDULES = {"constant": sn.Constant, "step": sn.StepDecay, "cosine": sn.Cosine}


def build(torch, widths, activation: str, init: str, dropout: float, dtype, seed: int):
    torch.manual_seed(seed)
    layers = []
    for index, (fan_in, fan_out) in enumerate(pairwise(widths)):
        linear = torch.nn.Linear(fan_in, fan_out, dtype=dtype)
        _initialise(torch, linear, init)
        layers.append(linear)
        if index < len(widths) - 2:
            layers.append(_activation(torch, activation))
            if dropout:
                layers.append(torch.nn.Dropout(dropout))
    return torch.nn.Sequential(*layers)


def _activation(torch, name: str):
    return {
        "relu": torch.nn.ReLU,
        "tanh": torch.nn.Tanh,
        "sigmoid": torch.nn.Sigmoid,
        "leaky_relu": torch.nn.LeakyReLU,
    }[name]()


def _initialise(torch, linear, init: str) -> None:
    fan_out, fan_in = linear.weight.shape
    with torch.no_grad():
        if init == "glorot":
            limit = math.sqrt(6 / (fan_in + fan_out))
            linear.weight.uniform_(-limit, limit)
        else:
            scale = math.sqrt((2.0 if init == "he" else 1.0) / fan_in)
            linear.weight.normal_(0.0, scale)
        linear.bias.zero_()


def _optimizer(torch, model, name: str, lr: float, weight_decay: float):
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    groups = [{"params": weights, "weight_decay": weight_decay}, {"params": biases}]
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    momentum = 0.9 if name in ("momentum", "nesterov") else 0.0
    return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=name == "nesterov")


def train(
    X, y, X_test, y_test, *, hidden, activation="relu", init="he", dropout=0.0,
    optimizer="adam", learning_rate=1e-3, epochs=10, batch_size=128, schedule="constant",
    weight_decay=0.0, seed=0, threads=2,
) -> dict:  # fmt: skip
    """Train and return fit seconds, seconds per epoch and test accuracy."""
    import torch

    torch.set_num_threads(threads)
    dtype = getattr(torch, X.dtype.name)
    n_classes = int(max(y.max(), y_test.max())) + 1
    binary = n_classes == 2
    model = build(torch, (X.shape[1], *hidden, 1 if binary else n_classes), activation, init,
                  dropout, dtype, seed)  # fmt: skip
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y)
    targets = labels.to(dtype).reshape(-1, 1) if binary else labels
    loss_function = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
    optim = _optimizer(torch, model, optimizer, learning_rate, weight_decay)
    lr_at = SCHEDULES[schedule]()
    generator = torch.Generator().manual_seed(seed)
    epoch_seconds = []
    start = time.perf_counter()
    for epoch in range(epochs):
        epoch_start = time.perf_counter()
        for group in optim.param_groups:
            group["lr"] = lr_at(learning_rate, epoch, epochs)
        model.train()
        order = torch.randperm(len(X), generator=generator)
        for first in range(0, len(X), batch_size):
            rows = order[first : first + batch_size]
            optim.zero_grad(set_to_none=True)
            loss = loss_function(model(inputs.index_select(0, rows)), targets.index_select(0, rows))
            loss.backward()
            optim.step()
        epoch_seconds.append(time.perf_counter() - epoch_start)
    fit_seconds = time.perf_counter() - start
    return {
        "fit_seconds": fit_seconds,
        "epoch_seconds": epoch_seconds,
        "test_accuracy": accuracy(torch, model, X_test, y_test, binary),
    }


def accuracy(torch, model, X, y, binary: bool) -> float:
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(X)).numpy()
    predicted = (logits[:, 0] > 0).astype(int) if binary else logits.argmax(axis=1)
    return float(np.mean(predicted == y))
