"""Replays of the tutorial's use of NumPy's legacy global random stream.

The tutorial seeds ``np.random`` and shuffles the training indices, then the test
indices twice (the first shuffle is discarded), and seeds again before drawing the
weights with ``randn``. The functions here replay that sequence with a private
``RandomState``, so the tutorial's numbers come out exactly without touching global state.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ..validation import check_seed
from .mnist import MNIST


def shuffle_like_tutorial(data: MNIST, seed: int = 42) -> MNIST:
    """Reorder ``data`` as the tutorial does: indices of each digit in the order given,
    concatenated, then shuffled by a RandomState seeded with ``seed``.

    ``data`` must carry class indices (``load_mnist``'s default ``relabel=True``).
    """
    for labels in (data.y_train, data.y_test):
        if labels.size and not 0 <= labels.min() <= labels.max() < len(data.digits):
            raise InvalidArgumentError(
                "shuffle_like_tutorial needs relabelled data (class indices 0 to "
                f"{len(data.digits) - 1}), got labels from {labels.min()} to {labels.max()}: "
                "load it with relabel=True"
            )
    stream = np.random.RandomState(check_seed(seed))
    train_order = _grouped_indices(data.y_train)
    stream.shuffle(train_order)
    test_order = _grouped_indices(data.y_test)
    stream.shuffle(_grouped_indices(data.y_test))  # the tutorial's discarded shuffle
    stream.shuffle(test_order)
    return MNIST(
        data.x_train[train_order],
        data.y_train[train_order],
        data.x_test[test_order],
        data.y_test[test_order],
        data.digits,
        data.files,
    )


def tutorial_random_state(seed: int = 42) -> np.random.RandomState:
    """The stream the tutorial draws its initial weights from."""
    return np.random.RandomState(check_seed(seed))


def _grouped_indices(labels: np.ndarray) -> np.ndarray:
    """Row indices of class 0, then class 1, ... (each group in file order)."""
    return np.argsort(labels, kind="stable")
