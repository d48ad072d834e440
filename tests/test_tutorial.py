"""The tutorial's experiment, replayed on the official MNIST files.

Expected values come from the tutorial itself: its published results (shapes (12700, 784)
and (2167, 784), cost 0.756223980626531 at iteration 0 and 0.039859413110109314 at
iteration 900, train accuracy 12557/12700 and test accuracy 2151/2167), and
tutorial_costs.json, the cost its own code prints every 10 iterations up to 300 (computed
by running the tutorial's code on the official files; never by scratchnet).

The full 1000-iteration replay is marked ``slow``: ``pytest -m "not slow"`` is the quick
local loop, which still checks the first 300 iterations against the tutorial's costs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.data.idx import read_idx

TUTORIAL_COSTS = {0: 0.756223980626531, 900: 0.039859413110109314}


@pytest.fixture(scope="module")
def tutorial_data(mnist_dir):
    return sn.shuffle_like_tutorial(sn.load_mnist((1, 2), mnist_dir), seed=42)


def test_data_order_replays_the_tutorials_legacy_shuffles(mnist_dir, tutorial_data):
    labels = read_idx(mnist_dir / "train-labels-idx1-ubyte.gz")
    test_labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    stream = np.random.RandomState(42)
    train_rows = np.concatenate([np.where(labels == 1)[0], np.where(labels == 2)[0]])
    stream.shuffle(train_rows)
    for _ in range(2):  # the tutorial shuffles a fresh test index twice
        test_rows = np.concatenate([np.where(test_labels == 1)[0], np.where(test_labels == 2)[0]])
        stream.shuffle(test_rows)
    images = read_idx(mnist_dir / "train-images-idx3-ubyte.gz")
    test_images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    assert np.array_equal(tutorial_data.x_train, images[train_rows])
    assert np.array_equal(tutorial_data.y_train, (labels[train_rows] == 2).astype(int))
    assert np.array_equal(tutorial_data.x_test, test_images[test_rows])
    assert np.array_equal(tutorial_data.y_test, (test_labels[test_rows] == 2).astype(int))


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5])
def test_a_seed_the_legacy_stream_cannot_take_is_refused_by_name(tutorial_data, seed):
    with pytest.raises(sn.InvalidArgumentError, match="seed must be an integer from 0 to 2"):
        sn.shuffle_like_tutorial(tutorial_data, seed=seed)
    with pytest.raises(sn.InvalidArgumentError, match="seed must be an integer from 0 to 2"):
        sn.tutorial_random_state(seed)


def test_data_that_keeps_its_digits_as_labels_is_refused():
    """load_mnist(relabel=False) labels the digits 3 and 8 as 3 and 8, not 0 and 1."""
    from scratchnet.data.mnist import MNIST

    images = np.zeros((4, 28, 28), np.uint8)
    data = MNIST(images, np.array([3, 8, 8, 3]), images, np.array([8, 3, 3, 8]), (3, 8), ())
    with pytest.raises(
        sn.InvalidArgumentError,
        match=r"^shuffle_like_tutorial needs relabelled data \(class indices 0 to 1\), got "
        r"labels from 3 to 8: load it with relabel=True$",
    ):
        sn.shuffle_like_tutorial(data)


def tutorial_costs() -> dict[int, float]:
    stored = json.loads(Path(__file__).with_name("tutorial_costs.json").read_text())
    assert stored["digits"] == [1, 2]
    return {int(iteration): cost for iteration, cost in stored["costs"].items()}


def test_the_first_300_iterations_cost_what_the_tutorials_code_prints(tutorial_data):
    X_train = sn.preprocess(tutorial_data.x_train)
    net = sn.NeuralNet([196, 1], random_state=sn.tutorial_random_state(42))
    net.fit(X_train, tutorial_data.y_train, learning_rate=0.1, n_iterations=300, log_every=10)
    costs = dict(zip(net.history.column("epoch"), net.history.column("loss"), strict=True))
    expected = tutorial_costs()
    assert sorted(expected) == list(range(0, 301, 10))
    for iteration, cost in expected.items():
        assert costs[iteration] == pytest.approx(cost, rel=1e-9, abs=0), iteration


@pytest.mark.slow
def test_the_tutorial_run_reproduces_its_published_numbers(tutorial_data):
    X_train = sn.preprocess(tutorial_data.x_train)
    X_test = sn.preprocess(tutorial_data.x_test)
    assert X_train.shape == (12700, 784) and X_test.shape == (2167, 784)
    net = sn.NeuralNet([196, 1], random_state=sn.tutorial_random_state(42))
    net.fit(X_train, tutorial_data.y_train, learning_rate=0.1, n_iterations=1000)
    costs = dict(zip(net.history.column("epoch"), net.history.column("loss"), strict=True))
    for iteration, published in TUTORIAL_COSTS.items():
        assert costs[iteration] == pytest.approx(published, rel=1e-9, abs=0)
    assert np.sum(net.predict(X_train) == tutorial_data.y_train) == 12557
    assert np.sum(net.predict(X_test) == tutorial_data.y_test) == 2151
