"""The tutorial network (784-196-1, sigmoid, full-batch gradient descent, lr 0.1) in
every implementation: the tutorial's code, scratchnet, PyTorch, scikit-learn, and the
bare floor of its two essential matrix products (X @ W1 and X.T @ dZ1)."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

import scratchnet as sn

from .common import initial_weights, median, peak_rss_mb, repeated, seconds, tutorial_data
from .tutorial_code import find_tutorial_text, load_tutorial_class

HIDDEN = 196
LEARNING_RATE = 0.1


def step_seconds(impl: str, dtype: str, iterations: int, repeats: int, threads: int) -> dict:
    """Median seconds per full-batch iteration over ``repeats`` runs of ``iterations``."""
    X, y, _, _ = tutorial_data(dtype)
    run = RUNNERS[impl](X, y, iterations, threads)
    times = repeated(run, repeats)
    return {
        "seconds_per_step": median(times) / iterations,
        "runs": [t / iterations for t in times],
        "peak_rss_mb": peak_rss_mb(),
    }


def _tutorial(X, y, iterations, threads):
    network_class = load_tutorial_class(find_tutorial_text())
    labels = y.astype(np.uint8)  # the tutorial's labels are the uint8 MNIST labels

    def run():
        with contextlib.redirect_stdout(io.StringIO()):  # it prints every 100 iterations
            network_class([HIDDEN, 1]).fit(X, labels, LEARNING_RATE, iterations)

    return run


def _scratchnet(X, y, iterations, threads):
    def run():
        net = sn.NeuralNet([HIDDEN, 1], random_state=sn.tutorial_random_state(42))
        net.fit(X, y, learning_rate=LEARNING_RATE, n_iterations=iterations)

    return run


def _torch(X, y, iterations, threads):
    import torch

    torch.set_num_threads(threads)
    dtype = getattr(torch, X.dtype.name)
    inputs = torch.from_numpy(X)
    targets = torch.from_numpy(y.astype(X.dtype)).reshape(-1, 1)
    hidden = torch.nn.Linear(X.shape[1], HIDDEN, dtype=dtype)
    output = torch.nn.Linear(HIDDEN, 1, dtype=dtype)
    weights = initial_weights((X.shape[1], HIDDEN, 1), X.dtype.name)
    with torch.no_grad():
        for layer, weight in zip((hidden, output), weights, strict=True):
            layer.weight.copy_(torch.from_numpy(weight.T.copy()))
            layer.bias.zero_()
    optimizer = torch.optim.SGD([*hidden.parameters(), *output.parameters()], lr=LEARNING_RATE)
    loss_function = torch.nn.BCEWithLogitsLoss()

    def run():
        for _ in range(iterations):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(output(torch.sigmoid(hidden(inputs))), targets)
            loss.backward()
            optimizer.step()
            loss.item()  # the cost of every iteration is read, as the others do

    return run


def _sklearn(X, y, iterations, threads):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    def run():
        model = MLPClassifier(
            hidden_layer_sizes=(HIDDEN,), activation="logistic", solver="sgd",
            learning_rate_init=LEARNING_RATE, momentum=0.0, batch_size=len(X),
            max_iter=iterations, shuffle=False, tol=0.0, n_iter_no_change=iterations + 1,
            alpha=0.0, random_state=0,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)

    return run


def _products(X, y, iterations, threads):
    """X @ W1 and X.T @ dZ1 over all 784 columns, into preallocated outputs."""
    rng = np.random.default_rng(0)
    weight = initial_weights((X.shape[1], HIDDEN), X.dtype.name)[0]
    delta = rng.standard_normal((len(X), HIDDEN)).astype(X.dtype)
    forward = np.empty((len(X), HIDDEN), X.dtype)
    gradient = np.empty((X.shape[1], HIDDEN), X.dtype)

    def run():
        for _ in range(iterations):
            np.matmul(X, weight, out=forward)
            np.matmul(X.T, delta, out=gradient)

    return run


RUNNERS = {
    "tutorial": _tutorial,
    "scratchnet": _scratchnet,
    "torch": _torch,
    "sklearn": _sklearn,
    "products": _products,
}


def full_run(impl: str, dtype: str, iterations: int, threads: int) -> dict:
    """One complete tutorial run: its time, costs at every 100th iteration, accuracies."""
    X, y, X_test, y_test = tutorial_data(dtype)
    run = _tutorial_full_run if impl == "tutorial" else _scratchnet_full_run
    elapsed, costs, predict = run(X, y, iterations)
    return {
        "seconds": elapsed,
        "costs": costs,
        "train_correct": int(np.sum(predict(X) == y)),
        "test_correct": int(np.sum(predict(X_test) == y_test)),
        "peak_rss_mb": peak_rss_mb(),
    }


def _tutorial_full_run(X, y, iterations):
    network = load_tutorial_class(find_tutorial_text())([HIDDEN, 1])
    labels = y.astype(np.uint8)
    with contextlib.redirect_stdout(io.StringIO()):
        elapsed = seconds(lambda: network.fit(X, labels, LEARNING_RATE, iterations))

    def predict(data):
        return network.forward_pass(data)[0][0] > 0.5

    return elapsed, [float(cost) for cost in network.costs], predict


def _scratchnet_full_run(X, y, iterations):
    network = sn.NeuralNet([HIDDEN, 1], random_state=sn.tutorial_random_state(42))
    elapsed = seconds(
        lambda: network.fit(X, y, learning_rate=LEARNING_RATE, n_iterations=iterations)
    )
    costs = [record["loss"] for record in network.history.records if record["epoch"] % 100 == 0]
    return elapsed, costs, network.predict
