"""The memory estimate that fit checks before training, against what training allocates
as Python's tracemalloc counts it (NumPy reports its buffers to it)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.nn.column_groups import grouped


@pytest.mark.parametrize(
    ("hidden", "batch_size", "optimizer", "dropout"),
    [
        ([256, 128], None, "gd", 0.0),
        ([256, 128], None, "gd", 0.3),
        ([256, 128], 4096, "adam", 0.0),
        ([256, 128], 4096, "adam", 0.3),
        ([32], 4096, "adam", 0.0),
        ([32], 4096, "adam", 0.3),
        ([32], None, "gd", 0.0),
    ],
)
def test_the_estimate_covers_what_training_allocates_and_not_much_more(
    hidden, batch_size, optimizer, dropout
):
    """Chunks of 1024 rows are filled here (batches of 4096, or all 5000 rows), so the
    estimate, made for full chunks, is tight: within 1.5x of the traced peak, less the
    arrays of the data's size it leaves to the data. 784-32-10 cuts a chunk only when
    each part gets at least 329 rows (2^24 multiply-adds), so one part may have to hold
    up to 657 rows (a chunk of fewer than 658 stays whole): the parts therefore work in
    the rows of one chunk's buffers, never more than a chunk's. A full batch first plans
    its column groups, whose temporaries outweigh 784-32-10's buffers."""
    rng = np.random.default_rng(0)
    X, y = rng.random((5000, 784), dtype=np.float32), rng.integers(0, 10, 5000)
    net = sn.NeuralNet([*hidden, 10], activation="relu", dropout=dropout, random_state=0)
    estimate = net.training_memory(
        784, np.float32, optimizer, batch_size=batch_size, column_groups=False
    )
    tracemalloc.start()
    try:
        net.fit(X, y, epochs=1, batch_size=batch_size, optimizer=optimizer)
        peak = tracemalloc.get_traced_memory()[1] - data_sized(len(X), 10, 4, batch_size)
    finally:
        tracemalloc.stop()
    assert peak <= estimate <= 1.5 * peak


def data_sized(rows: int, classes: int, itemsize: int, batch_size: int | None) -> int:
    """Bytes of the arrays as long as the data: its one-hot targets and, for mini-batches,
    the epoch's order of the rows (int64)."""
    return rows * classes * itemsize + (rows * 8 if batch_size else 0)


def test_full_batch_training_on_images_with_blank_pixels_is_covered_besides_its_compact_copy():
    """Columns zero in every row (a digit image's border) are left out of a compacted
    copy of the data, which the estimate leaves to the data; its W_1 buffers it counts."""
    rng = np.random.default_rng(1)
    X, y = rng.random((5000, 784), dtype=np.float32), rng.integers(0, 10, 5000)
    blank = rng.choice(784, 147, replace=False)
    X[:, blank] = 0
    compact_copy = X.shape[0] * (784 - 147) * X.itemsize
    net = sn.NeuralNet([256, 128, 10], activation="relu", random_state=0)
    estimate = net.training_memory(784, np.float32, "gd")
    tracemalloc.start()
    try:
        net.fit(X, y, n_iterations=1)
        peak = tracemalloc.get_traced_memory()[1] - compact_copy - data_sized(5000, 10, 4, None)
    finally:
        tracemalloc.stop()
    assert peak <= estimate <= 1.5 * peak


def test_full_batch_training_on_rows_stored_by_column_groups_is_covered_besides_its_copy(
    monkeypatch,
):
    """Image-like rows, most pixels rarely inked: the copy by column groups is left to
    the data; the gathered and multiplied rows of its later groups the estimate counts."""
    import scratchnet.network

    copies = []
    monkeypatch.setattr(scratchnet.network, "grouped",
                        lambda x, plan: copies.append(grouped(x, plan)) or copies[-1])  # fmt: skip
    rng = np.random.default_rng(2)
    use = np.geomspace(1.0, 0.002, 784)
    X = (rng.random((5000, 784), dtype=np.float32) * (rng.random((5000, 784)) < use)).astype(
        np.float32
    )
    y = rng.integers(0, 10, 5000)
    net = sn.NeuralNet([256, 128, 10], activation="relu", random_state=0)
    estimate = net.training_memory(784, np.float32, "gd")
    tracemalloc.start()
    try:
        net.fit(X, y, n_iterations=1)
        peak = tracemalloc.get_traced_memory()[1] - data_sized(5000, 10, 4, None)
    finally:
        tracemalloc.stop()
    assert len(copies) == 1 and len(copies[0].groups) > 1
    peak -= copies[0].nbytes
    assert peak <= estimate <= 1.5 * peak


def test_what_fit_checks_covers_a_full_batch_of_image_like_rows_and_their_copy(monkeypatch):
    """fit checked the estimate alone, which leaves out the copy of the rows by column
    groups: on 12,000 image-like rows it checked 5 MB and training took 48 MB."""
    import scratchnet.network

    checked = []
    monkeypatch.setattr(scratchnet.network, "check_fits",
                        lambda needed, **advice: checked.append(needed))  # fmt: skip
    rng = np.random.default_rng(3)
    use = np.geomspace(1.0, 0.002, 784)
    X = rng.random((12000, 784)) * (rng.random((12000, 784)) < use)
    y = rng.integers(0, 10, 12000)
    net = sn.NeuralNet([32, 10], activation="relu", random_state=0)
    tracemalloc.start()
    try:
        net.fit(X, y, n_iterations=2, optimizer="adam")
        peak = tracemalloc.get_traced_memory()[1] - data_sized(12000, 10, 8, None)
    finally:
        tracemalloc.stop()
    (needed,) = checked
    assert peak <= needed <= 1.5 * peak


def test_a_full_batch_whose_copy_does_not_fit_is_told_to_use_mini_batches(monkeypatch):
    """Smaller layers cannot help when the copy of X by column groups is what does not
    fit; mini-batches, which make no copy, can."""
    import scratchnet.training.memory

    rng = np.random.default_rng(3)
    use = np.geomspace(1.0, 0.002, 784)
    X = rng.random((12000, 784)) * (rng.random((12000, 784)) < use)
    y = rng.integers(0, 10, 12000)
    monkeypatch.setattr(scratchnet.training.memory, "available_bytes", lambda: 40 * 2**20)
    with pytest.raises(sn.InvalidArgumentError, match=r"; train in mini-batches \(batch_size\), "
                       r"which copy none of X, or on fewer rows$"):  # fmt: skip
        sn.NeuralNet([1, 10], random_state=0).fit(X, y, n_iterations=1)
    sn.NeuralNet([1, 10], random_state=0).fit(X, y, epochs=1, batch_size=128)
