"""The training loop: mini-batches, validation, early stopping, dropout, callbacks."""

from __future__ import annotations

import json
import math
import operator
import re
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss

import scratchnet as sn
from scratchnet import Callback, NeuralNet, NeuralNetRegressor, TrainingDivergedError
from scratchnet.errors import InvalidArgumentError, NotFittedError
from scratchnet.training.batching import Dataset, Feeder, split_rows
from scratchnet.training.history import History

from .. import reference

pytestmark = pytest.mark.usefixtures("small_chunks_cut")  # small networks, two parts


def mean_cross_entropy(net, X, y):
    """-mean log p(y | x), computed from the model's probabilities."""
    proba = net.predict_proba(X)
    columns = np.searchsorted(net.classes, y)
    return -np.mean(np.log(proba[np.arange(len(y)), columns]))


@pytest.fixture
def memorisable():
    """Random labels: a wide network memorises the training rows and gets worse on others."""
    rng = np.random.default_rng(0)
    X_train, y_train = rng.normal(size=(40, 20)), rng.integers(0, 2, 40)
    X_val, y_val = rng.normal(size=(300, 20)), rng.integers(0, 2, 300)
    return X_train, y_train, X_val, y_val


def overfit(memorisable, patience):
    X_train, y_train, X_val, y_val = memorisable
    net = NeuralNet([128, 1], activation="relu", init="he", random_state=0)
    return net.fit(
        X_train, y_train, epochs=150, batch_size=10, optimizer="adam", learning_rate=0.01,
        validation_data=(X_val, y_val), patience=patience,
    )  # fmt: skip


def test_a_history_copy_keeps_the_records_it_had(blobs):
    """What a checkpoint's state takes of the history at each epoch's end (it was a deep
    copy, n^2 / 2 record copies over n logged epochs): later records stay out of it."""
    history = NeuralNet([3, 1], random_state=0).fit(*blobs, n_iterations=4, log_every=1).history
    records = [dict(record) for record in history.records]
    copied = history.copy()
    history.records.append(dict(records[-1], epoch=5))
    assert copied.records == records and len(history.records) == len(records) + 1
    assert all(map(operator.is_, copied.records, history.records))  # shared, not copied
    assert (copied.best_epoch, copied.stopped_early) == (history.best_epoch, False)


def test_early_stopping_stops_and_restores_the_best_weights(memorisable):
    net = overfit(memorisable, patience=5)
    history = net.history
    val_losses = history.column("val_loss")
    epochs = history.column("epoch")
    assert history.stopped_early and len(val_losses) < 150
    assert epochs == list(range(1, len(epochs) + 1))  # epochs counted from 1
    assert history.best_epoch == epochs[int(np.argmin(val_losses))]
    assert epochs[-1] - history.best_epoch == 5
    restored = mean_cross_entropy(net, *memorisable[2:])
    assert restored == pytest.approx(min(val_losses), rel=1e-9)
    assert restored < val_losses[-1]


def test_best_weights_are_restored_even_without_stopping_early(memorisable):
    net = overfit(memorisable, patience=10_000)
    history = net.history
    val_losses = history.column("val_loss")
    assert not history.stopped_early and len(val_losses) == 150
    assert history.best_epoch < 150
    assert mean_cross_entropy(net, *memorisable[2:]) == pytest.approx(min(val_losses), rel=1e-9)


@pytest.mark.parametrize(("epochs", "early"), [(6, False), (7, True)])
def test_patience_that_runs_out_as_the_last_epoch_ends_is_no_early_stop(memorisable, epochs, early):
    """Patience 5 runs out at epoch 6 here: a run of 6 epochs did every one of them, and
    was said to have 'stopped early after epoch 6'."""
    X_train, y_train, X_val, y_val = memorisable
    net = NeuralNet([128, 1], activation="relu", init="he", random_state=0).fit(
        X_train, y_train, epochs=epochs, batch_size=10, optimizer="adam", learning_rate=0.01,
        validation_data=(X_val, y_val), patience=5,
    )  # fmt: skip
    assert (net.history.best_epoch, net.history.column("epoch")) == (1, [1, 2, 3, 4, 5, 6])
    assert net.history.stopped_early is early


def test_without_patience_the_last_weights_are_kept(memorisable):
    X_train, y_train, X_val, y_val = memorisable
    net = NeuralNet([128, 1], activation="relu", random_state=0).fit(
        X_train, y_train, epochs=60, batch_size=10, optimizer="adam", learning_rate=0.01,
        validation_data=(X_val, y_val),
    )  # fmt: skip
    last = net.history.column("val_loss")[-1]
    assert mean_cross_entropy(net, X_val, y_val) == pytest.approx(last, rel=1e-9)
    assert net.history.best_epoch is None


def test_patience_needs_validation_data(blobs):
    with pytest.raises(InvalidArgumentError, match="patience needs validation data"):
        NeuralNet([4, 1]).fit(*blobs, patience=3)


def test_validation_fraction_is_stratified_and_disjoint():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    kept, held_out = split_rows(labels, 0.2, np.random.default_rng(0))
    assert np.array_equal(np.sort(np.concatenate([kept, held_out])), np.arange(100))
    assert np.bincount(labels[held_out]).tolist() == [10, 6, 4]
    again = split_rows(labels, 0.2, np.random.default_rng(0))[1]
    assert np.array_equal(held_out, again)


def test_a_validation_fraction_holding_out_no_row_is_rejected(blobs):
    assert np.bincount(blobs[1]).tolist() == [55, 65]  # 0.12 rows: none
    message = r"validation_fraction 0.001 holds out 0 of 120 rows for validation \(each"
    with pytest.raises(InvalidArgumentError, match=f"^{message}.*; choose a larger fraction$"):
        NeuralNet([4, 1]).fit(*blobs, validation_fraction=0.001)


def test_a_regressions_validation_split_speaks_of_rows_not_classes():
    X, y = np.ones((1, 2)), np.ones(1)
    with pytest.raises(
        InvalidArgumentError,
        match=r"^validation_fraction 0.2 holds out 0 of 1 rows for validation \(at least one "
        r"row stays for training\); no fraction can: there is a single row$",
    ):
        NeuralNetRegressor([4, 1]).fit(X, y, validation_fraction=0.2)


def test_a_validation_split_no_fraction_can_make_says_so():
    """Three classes of one row each: 'choose a larger fraction' sent the user in circles."""
    X, y = np.eye(3), np.arange(3)
    with pytest.raises(InvalidArgumentError, match=r"; no fraction can: each class has a single"):
        NeuralNet([4, 3]).fit(X, y, validation_fraction=0.9)


@pytest.mark.parametrize(
    ("counts", "fraction", "held"),
    [  # worked by hand: fraction n rounded, shared by largest remainders
        ([5] * 20, 0.1, [1] * 10 + [0] * 10),  # 10 of 100; it was 0 (each 0.5 rounded to 0)
        ([5] * 20, 0.3, [2] * 10 + [1] * 10),  # 30 of 100; it was 40 (each 1.5 rounded to 2)
        ([25] * 4, 0.1, [3, 3, 2, 2]),  # 10 of 100; it was 8 (each 2.5 rounded to 2)
        ([20, 20, 1], 0.6, [13, 12, 0]),  # 25 of 41; the single row of 2 stays for training
        ([55, 65], 0.999, [54, 64]),  # it was all 120: no row left to train on
        ([50], 0.29, [15]),  # 14.5 rounded up (the float product is 14.4999...)
        ([10] + [1] * 3, 0.5, [7, 0, 0, 0]),  # 6.5 rounded up, all from the one class that can
    ],
)
def test_a_validation_split_holds_out_the_fraction_of_all_rows_and_leaves_every_label(
    counts, fraction, held
):
    labels = np.repeat(np.arange(len(counts)), counts)
    kept, held_out = split_rows(labels, fraction, np.random.default_rng(0))
    assert np.bincount(labels[held_out], minlength=len(counts)).tolist() == held
    assert set(labels[kept].tolist()) == set(range(len(counts)))


@settings(max_examples=300, deadline=None)
@given(
    counts=st.lists(st.integers(1, 400), min_size=1, max_size=12),
    fraction=st.floats(0.01, 0.99),
)
def test_a_validation_split_is_the_fraction_rounded_and_each_label_its_share(counts, fraction):
    """Against the arithmetic: the total is fraction n rounded, and each label's share
    its quota rounded down or up, when every label can give that share and keep a row."""
    quotas = [fraction * count for count in counts]
    assume(math.floor(fraction * sum(counts) + 0.5) > 0)  # else refused, as tested above
    assume(all(math.ceil(q) < count for q, count in zip(quotas, counts, strict=True)))
    labels = np.repeat(np.arange(len(counts)), counts)
    held = np.bincount(labels[split_rows(labels, fraction, np.random.default_rng(0))[1]],
                       minlength=len(counts))  # fmt: skip
    assert held.sum() == math.floor(fraction * len(labels) + 0.5)
    for share, quota, count in zip(held, quotas, counts, strict=True):
        assert math.floor(quota) <= share <= min(math.ceil(quota), count - 1)


@pytest.mark.parametrize("fraction", [0, 1, -0.2, 1.5])
def test_a_validation_fraction_outside_zero_one_is_rejected(blobs, fraction):
    with pytest.raises(InvalidArgumentError, match=r"validation_fraction must be a number in"):
        NeuralNet([4, 1]).fit(*blobs, validation_fraction=fraction)


def held_out_rows(y, fraction, seed):
    """The documented split: per class in sorted order, the first round(fraction * n) of a
    permutation of its rows drawn from numpy's Generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    held = [
        rng.permutation(np.flatnonzero(y == label))[: round(fraction * np.sum(y == label))]
        for label in np.unique(y)
    ]
    return np.sort(np.concatenate(held))


def test_validation_fraction_records_validation_metrics_every_epoch(three_blobs):
    X, y = three_blobs
    net = NeuralNet([8, 3], activation="tanh", random_state=0).fit(
        X, y, epochs=4, batch_size=16, optimizer="momentum", validation_fraction=0.2
    )
    records = net.history.records
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]
    held = held_out_rows(y, 0.2, seed=0)
    assert len(held) == 30  # 20% of 150 rows
    assert records[-1]["val_accuracy"] == reference.accuracy(net, X[held], y[held])
    assert records[-1]["val_loss"] == pytest.approx(reference.cross_entropy(net, X[held], y[held]))
    assert records[-1]["step"] == 4 * int(np.ceil(120 / 16))


def test_mini_batch_softmax_training_learns_three_classes(three_blobs):
    X, y = three_blobs
    net = NeuralNet([16, 3], activation="relu", init="he", random_state=1)
    net.fit(X, y, epochs=30, batch_size=16, optimizer="adam", learning_rate=0.01)
    assert net.score(X, y) > 0.95


def test_shuffling_depends_on_the_seed_and_only_on_it(three_blobs):
    X, y = three_blobs

    def train(seed):
        net = NeuralNet([6, 3], activation="relu", random_state=seed)
        return net.fit(X, y, epochs=2, batch_size=8, optimizer="adam", learning_rate=0.01)

    assert np.array_equal(train(4).parameters.flat, train(4).parameters.flat)
    assert not np.array_equal(train(4).parameters.flat, train(5).parameters.flat)


def test_one_batch_holding_every_row_is_full_batch_gradient_descent(blobs):
    X, y = blobs
    full = NeuralNet([5, 1], random_state=0).fit(X, y, n_iterations=7)
    batched = NeuralNet([5, 1], random_state=0).fit(X, y, epochs=7, batch_size=len(X))
    np.testing.assert_allclose(batched.parameters.flat, full.parameters.flat, rtol=1e-12)


def test_the_feeder_gathers_rows_into_one_reused_buffer_and_never_copies_the_data():
    x = np.arange(40.0).reshape(10, 4)
    data = Dataset(x, np.arange(10), slice(1, 3))
    feeder = Feeder(data, rows=3)
    seen, buffers = [], []
    for features, targets, weights in feeder.chunks(np.array([9, 0, 4, 7, 2])):
        assert weights is None  # an unweighted dataset
        whole = features[: len(features)]
        seen.append((whole.tolist(), targets[: len(targets)].tolist()))
        buffers.append(whole)
    assert seen == [
        (x[[9, 0, 4], 1:3].tolist(), [9, 0, 4]),
        (x[[7, 2], 1:3].tolist(), [7, 2]),
    ]
    assert np.shares_memory(buffers[0], buffers[1])  # one buffer, reused
    assert not np.shares_memory(buffers[0], x)
    views = list(feeder.chunks(slice(0, 10)))
    assert all(np.shares_memory(view, x) for view, _, _ in views)  # contiguous rows: views
    assert views[0][0].tolist() == x[:3, 1:3].tolist()


def test_each_part_of_a_chunk_gathers_only_its_own_rows():
    """Parts ask for their ranges in their own threads: a range fills only its slots."""
    x = np.arange(40.0).reshape(10, 4)
    features, targets, _ = next(Feeder(Dataset(x, np.arange(10), slice(0, 4)), rows=5)
                                .chunks(np.array([8, 1, 5, 3, 6])))  # fmt: skip
    buffer = features.buffer
    buffer[:] = -1.0
    assert features[2:5].tolist() == x[[5, 3, 6]].tolist()
    assert np.all(buffer[:2] == -1.0)  # rows 8 and 1 not gathered yet
    assert features[0:2].tolist() == x[[8, 1]].tolist()
    assert targets[1:3].tolist() == [1, 5]
    with pytest.raises(TypeError, match="ranges of rows"):
        features[0]  # one row would skip the column selection


def test_weight_decay_shrinks_the_weights(blobs):
    X, y = blobs

    def weight_norm(decay):
        net = NeuralNet([16, 1], activation="relu", random_state=0)
        net.fit(X, y, epochs=30, batch_size=20, learning_rate=0.05, weight_decay=decay)
        return np.linalg.norm(net.parameters.weights)

    assert weight_norm(0.1) < 0.8 * weight_norm(0.0)


def test_dropout_is_off_when_predicting(blobs):
    X, y = blobs
    net = NeuralNet([32, 1], activation="relu", dropout=0.5, random_state=0)
    net.fit(X, y, epochs=5, batch_size=20, optimizer="adam", learning_rate=0.01)
    first, second = net.predict_proba(X), net.predict_proba(X)
    assert np.array_equal(first, second)
    hidden = np.maximum(X @ net.layers[0].weight + net.layers[0].bias, 0)
    logits = hidden @ net.layers[1].weight + net.layers[1].bias
    np.testing.assert_allclose(first[:, 1], 1 / (1 + np.exp(-logits[:, 0])), rtol=1e-12)


def test_a_dropout_step_follows_the_masks_drawn_after_the_weights(blobs):
    """One full-batch step of gradient descent with dropout 0.5, written out in NumPy:
    the generator draws the weights, then one mask per hidden layer."""
    X, y = blobs
    rate, lr = 0.5, 0.1
    net = NeuralNet([16, 1], activation="relu", dropout=rate, random_state=0)
    net.fit(X, y, n_iterations=1, learning_rate=lr)
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((16, 6)).T / np.sqrt(6)
    W2 = rng.standard_normal((1, 16)).T / np.sqrt(16)
    mask = (rng.random((120, 16)) >= rate) / (1 - rate)
    hidden = np.maximum(X @ W1, 0) * mask  # (120, 16)
    p = 1 / (1 + np.exp(-(hidden @ W2)))
    delta2 = (p - y[:, None]) / len(X)  # d(mean cross-entropy)/dz2
    delta1 = (delta2 @ W2.T) * mask * (X @ W1 > 0)
    np.testing.assert_allclose(net.layers[1].weight, W2 - lr * hidden.T @ delta2, rtol=1e-12)
    np.testing.assert_allclose(net.layers[0].weight, W1 - lr * X.T @ delta1, rtol=1e-12)
    np.testing.assert_allclose(net.layers[0].bias, -lr * delta1.sum(axis=0), atol=1e-15)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "half"])
def test_dropout_outside_zero_one_is_rejected(rate):
    with pytest.raises(InvalidArgumentError, match=r"dropout must be a number in \[0, 1\)"):
        NeuralNet([4, 1], dropout=rate)


def test_schedules_set_the_rate_of_each_epoch(blobs):
    X, y = blobs
    net = NeuralNet([4, 1], random_state=0).fit(
        X, y, epochs=4, batch_size=30, learning_rate=0.4, schedule="cosine"
    )
    assert net.history.column("lr") == pytest.approx([0.4, 0.4 * (1 + np.sqrt(0.5)) / 2, 0.2,
                                                      0.4 * (1 - np.sqrt(0.5)) / 2])  # fmt: skip


def test_a_full_batch_record_carries_the_rate_of_the_update_that_made_its_weights(blobs):
    """Record i holds the weights after i updates; update i (counted from 1) ran at
    0.4 * 0.5 ** ((i - 1) // 2) with the rate halved every quarter of 8 iterations."""
    X, y = blobs
    net = NeuralNet([4, 1], random_state=0).fit(
        X, y, n_iterations=8, learning_rate=0.4, schedule="step", log_every=1
    )
    assert net.history.column("epoch") == list(range(9))
    expected = [0.4] + [0.4 * 0.5 ** ((i - 1) // 2) for i in range(1, 9)]
    assert net.history.column("lr") == pytest.approx(expected)


def test_callbacks_see_every_step_and_epoch(blobs):
    events = []

    class Recorder(Callback):
        def on_train_begin(self, epochs, steps_per_epoch):
            events.append(("begin", epochs, steps_per_epoch))

        def on_step_end(self, epoch, step, loss):
            events.append(("step", epoch, step))

        def on_epoch_end(self, epoch, record):
            events.append(("epoch", epoch, record is not None))

        def on_train_end(self, history):
            events.append(("end", len(history.records)))

    NeuralNet([4, 1], random_state=0).fit(*blobs, epochs=2, batch_size=50, callbacks=[Recorder()])
    assert events == [
        ("begin", 2, 3),
        ("step", 1, 1), ("step", 1, 2), ("step", 1, 3), ("epoch", 1, True),
        ("step", 2, 4), ("step", 2, 5), ("step", 2, 6), ("epoch", 2, True),
        ("end", 2),
    ]  # fmt: skip


class StopAt(Callback):
    """Raises StopTraining in ``hook`` at epoch ``epoch`` (and, for steps, at ``step``)."""

    def __init__(self, hook, epoch, step=None):
        self.hook, self.epoch, self.step = hook, epoch, step

    def on_step_end(self, epoch, step, loss):
        if self.hook == "step" and step == self.step:
            raise sn.StopTraining

    def on_epoch_end(self, epoch, record):
        if self.hook == "epoch" and epoch == self.epoch:
            raise sn.StopTraining


class Heard(Callback):
    def __init__(self):
        self.epochs, self.ended = [], None

    def on_epoch_end(self, epoch, record):
        self.epochs.append(epoch)

    def on_train_end(self, history):
        self.ended = len(history.records)


@pytest.mark.parametrize(
    ("options", "stop", "epochs"),
    [
        ({"batch_size": 50}, StopAt("epoch", 3), 3),
        ({"batch_size": 50, "log_every": 5}, StopAt("epoch", 3), 3),  # logged at the stop
        ({"batch_size": 50}, StopAt("step", None, step=4), 2),  # the epoch goes on to its end
        ({"log_every": 2}, StopAt("epoch", 4), 4),  # full batch: the final weights recorded
        ({"log_every": 2}, StopAt("step", None, step=5), 5),
    ],
    ids=["epoch end", "unlogged epoch", "mid-epoch step", "full batch", "full-batch step"],
)
def test_a_callback_ends_the_run_as_if_its_epoch_were_the_last(blobs, options, stop, epochs):
    """The same weights and history as a run of that many epochs (a constant learning
    rate: a schedule's depends on the planned length); the callbacks after the one that
    stopped still hear of the epoch, and the end."""
    heard = Heard()
    net = NeuralNet([4, 1], random_state=0)
    net.fit(*blobs, epochs=10, callbacks=[stop, heard], **options)
    short = NeuralNet([4, 1], random_state=0).fit(*blobs, epochs=epochs, **options)
    np.testing.assert_array_equal(net.parameters.flat, short.parameters.flat)
    assert net.history.records == short.history.records
    assert net.history.records[-1]["epoch"] == epochs and not net.history.stopped_early
    assert heard.epochs == list(range(1, epochs + 1)) and heard.ended == len(short.history.records)


@pytest.mark.parametrize(
    ("patient", "stop", "epoch"),
    [
        (False, StopAt("epoch", 3), 3),
        (True, StopAt("epoch", 5), 5),
        (True, StopAt("step", None, step=14), 5),  # 3 steps an epoch: the 2nd of epoch 5
    ],
    ids=["every epoch logged", "an unlogged epoch, with patience", "a step of one"],
)
def test_a_run_a_callback_stopped_goes_on_from_its_checkpoint(
    blobs, tmp_path, patient, stop, epoch
):
    """Stopped after epoch 3 or 5, resumed without the callback: the run of 8 epochs, bit
    for bit (the record logged at a stop log_every skips, and what patience made of it,
    stay out of the checkpoint: a resumed run once kept them, and epoch 5's weights)."""
    X, y = blobs
    options = {"epochs": 8, "batch_size": 40, "optimizer": "adam", "learning_rate": 0.5}
    if patient:
        options.update(log_every=4, patience=10, validation_data=(X[:40], y[:40]))
    path = tmp_path / "run.npz"
    stopped = NeuralNet([4, 1], random_state=0)
    stopped.fit(X, y, **options, callbacks=[stop], checkpoint=sn.Checkpoint(path))
    assert stopped.history.records[-1]["epoch"] == epoch
    resumed = NeuralNet([4, 1], random_state=0)
    resumed.fit(X, y, **options, checkpoint=sn.Checkpoint(path, resume=True))
    whole = NeuralNet([4, 1], random_state=0).fit(X, y, **options)
    np.testing.assert_array_equal(resumed.parameters.flat, whole.parameters.flat)
    assert resumed.history == whole.history


def test_a_stop_where_patience_runs_out_ends_as_that_many_epochs_would(blobs):
    """Patience running out as the last epoch ends stops nothing early: stopped_early
    is False there, as for a run planned to end at that epoch."""
    X, y = blobs
    options = {"batch_size": 40, "optimizer": "adam", "learning_rate": 0.5, "patience": 1,
               "validation_data": (X[:40], y[:40])}  # fmt: skip
    early = NeuralNet([4, 1], random_state=0).fit(X, y, epochs=10, **options)
    assert early.history.stopped_early  # patience ran out at some epoch before the 10th
    last = early.history.records[-1]["epoch"]
    stopped = NeuralNet([4, 1], random_state=0)
    stopped.fit(X, y, epochs=10, **options, callbacks=[StopAt("epoch", last)])
    short = NeuralNet([4, 1], random_state=0).fit(X, y, epochs=last, **options)
    assert not short.history.stopped_early
    assert stopped.history == short.history
    np.testing.assert_array_equal(stopped.parameters.flat, short.parameters.flat)


class StopIn(Callback):
    def __init__(self, hook):
        setattr(self, hook, self.stop)

    def stop(self, *arguments):
        raise sn.StopTraining


def test_stop_training_before_the_first_epoch_is_refused_and_after_the_last_ignored(blobs):
    net = NeuralNet([4, 1], random_state=0).fit(*blobs, epochs=2, batch_size=40)
    before = net.parameters.flat.copy()
    with pytest.raises(InvalidArgumentError, match=r"^StopTraining ends a run after an epoch: "):
        net.fit(*blobs, epochs=2, batch_size=40, callbacks=[StopIn("on_train_begin")])
    np.testing.assert_array_equal(net.parameters.flat, before)
    heard = Heard()
    net.fit(*blobs, epochs=2, batch_size=40, callbacks=[StopIn("on_train_end"), heard])
    whole = NeuralNet([4, 1], random_state=0).fit(*blobs, epochs=2, batch_size=40)
    np.testing.assert_array_equal(net.parameters.flat, whole.parameters.flat)
    assert heard.ended == 2  # the callbacks after it still heard the end


def test_a_stop_with_patience_keeps_the_best_epochs_weights(blobs):
    X, y = blobs
    options = {"epochs": 10, "batch_size": 40, "optimizer": "adam", "learning_rate": 0.5}
    net = NeuralNet([4, 1], random_state=0)
    net.fit(X, y, **options, validation_data=(X[:40], y[:40]), patience=10,
            callbacks=[StopAt("epoch", 6)])  # fmt: skip
    losses = [record["val_loss"] for record in net.history.records]
    assert len(losses) == 6 and net.history.best_epoch == 1 + int(np.argmin(losses)) < 6
    kept = log_loss(y[:40], net.predict_proba(X[:40]))  # the best epoch's, not the last's
    np.testing.assert_allclose(kept, min(losses), rtol=1e-9)


def test_verbose_shows_a_progress_bar_per_epoch(blobs, capsys):
    NeuralNet([4, 1], random_state=0).fit(
        *blobs, epochs=2, batch_size=40, verbose=True, validation_data=blobs
    )
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "validation accuracy" in err


def test_a_diverging_mini_batch_run_names_step_and_epoch(blobs):
    X, y = blobs
    with pytest.raises(TrainingDivergedError, match=r"step \d+ \(epoch \d+\)"):
        NeuralNet([8, 1], activation="relu", random_state=0).fit(
            X * 1e3, y, epochs=3, batch_size=30, learning_rate=1e300
        )


def test_weights_of_always_zero_inputs_move_only_under_weight_decay(blobs):
    X, y = blobs
    X = np.hstack([np.zeros((len(X), 2)), X, np.zeros((len(X), 1))])  # columns 0, 1, 8 unused
    dead = [0, 1, 8]

    def first_layer(steps_per_epoch_batch, epochs, decay):
        net = NeuralNet([4, 1], random_state=0)
        net.fit(X, y, epochs=epochs, batch_size=steps_per_epoch_batch, learning_rate=0.1,
                weight_decay=decay)  # fmt: skip
        return net.layers[0].weight

    short, long = first_layer(120, 1, 0.0), first_layer(30, 5, 0.0)
    assert np.array_equal(short[dead], long[dead])  # 1 step or 20: no gradient reaches them
    assert not np.array_equal(short[2:8], long[2:8])
    decayed = first_layer(30, 5, 0.5)
    np.testing.assert_allclose(decayed[dead] / long[dead], (1 - 0.1 * 0.5) ** 20, rtol=1e-12)


# -- divergence -----------------------------------------------------------------------------


def test_a_last_update_that_breaks_the_weights_is_caught(blobs):
    """The cost of every step is finite; the final weights are measured too."""
    X, y = blobs
    net = NeuralNet([8, 1], activation="relu", random_state=0)
    with pytest.raises(TrainingDivergedError, match=r"after the last update \(iteration 1\)"):
        net.fit(X * 1e3, y, n_iterations=1, learning_rate=1e300)
    with pytest.raises(NotFittedError):  # the diverged weights were not kept
        net.predict(X)


class PoisonLastStep(sn.GradientDescent):
    """Gradient descent whose last update writes a NaN into the weights."""

    def __init__(self, last_step: int):
        object.__setattr__(self, "last_step", last_step)

    def advance(self, state, lr):
        state["steps"] = state.get("steps", 0) + 1
        return lr

    def update_span_(self, params, grads, state, lr, span):
        super().update_span_(params, grads, state, lr, span)
        if state["steps"] == self.last_step:
            params[3] = np.nan


def test_non_finite_final_weights_of_a_mini_batch_run_are_caught(blobs):
    X, y = blobs
    net = NeuralNet([4, 1], random_state=0)
    with pytest.raises(TrainingDivergedError, match="weights are not all finite after 6 updates"):
        net.fit(X, y, epochs=2, batch_size=40, optimizer=PoisonLastStep(6))
    assert net.parameters is None


def test_an_exploding_cost_stops_training(blobs):
    X, y = blobs
    with pytest.raises(TrainingDivergedError, match=r"exploded to .*, over 1000 times its first"):
        NeuralNet([8, 1], random_state=0).fit(X, y, n_iterations=21, learning_rate=1e6)


def test_a_diverged_cost_is_named_by_the_weights_it_measured(blobs):
    """Iteration i is the weights after i updates (as the log lines count): the message
    said 'iteration 2' for the cost of the weights after 1 update."""
    X, y = blobs
    with pytest.raises(TrainingDivergedError) as raised:
        NeuralNet([8, 1], random_state=0).fit(X, y, n_iterations=21, learning_rate=1e6)
    iteration, updates = re.search(r"at iteration (\d+), on the weights after (\d+) update",
                                   str(raised.value)).groups()  # fmt: skip
    assert iteration == updates != "0"
    with pytest.raises(TrainingDivergedError) as raised:
        NeuralNet([8, 1], random_state=0).fit(X, y, epochs=5, batch_size=8, learning_rate=1e6)
    step, updates = re.search(r"at step (\d+) \(epoch \d+\), on the weights after (\d+) update",
                              str(raised.value)).groups()  # fmt: skip
    assert int(step) == int(updates) + 1


def test_a_diverged_cost_names_the_rate_of_the_update_that_made_its_weights(blobs):
    """Not the next update's: here the first update's 1e6, where the second's is 1e-3."""
    X, y = blobs
    schedule = sn.StepDecay(factor=1e-9, every=1)
    with pytest.raises(TrainingDivergedError, match=r"after 1 update, the last with learning "
                       r"rate 1e\+06; try a smaller"):  # fmt: skip
        NeuralNet([8, 1], random_state=0).fit(X * 100, y, learning_rate=1e6, schedule=schedule,
                                             n_iterations=4)  # fmt: skip


def test_a_rate_an_earlier_call_used_is_not_named_for_its_weights():
    """partial_fit at 50 made the weights; the next call's rate (1e-9) was named."""
    X, y, w = np.array([[1.0, 2.0], [3.0, 1.0]]), np.array([0.5, 1.0]), np.array([0.0, 1.0])
    net = sn.NeuralNetRegressor([4, 1], random_state=1)
    net.partial_fit(X, y, sample_weight=w, learning_rate=50.0, batch_size=1)
    with pytest.raises(TrainingDivergedError, match=r"after 2 updates; try a smaller") as raised:
        net.partial_fit(X, y, sample_weight=w, learning_rate=1e-9, batch_size=1)
    assert "1e-09" not in str(raised.value)


def test_full_batch_records_of_distorted_images_are_no_measurement_of_the_training_set():
    """The pass over distorted images is what trained, not the training set measured."""
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 784)), np.arange(40) % 2
    net = NeuralNet([4, 1], random_state=0).fit(X, y, n_iterations=3, log_every=1,
                                                 augment="affine")  # fmt: skip
    records = net.history.records
    assert [record["train_loss"] is None for record in records] == [True, True, True, False]
    # the last record measures the final weights on the images as they are
    assert records[-1]["train_loss"] == pytest.approx(reference.cross_entropy(net, X, y), rel=1e-12)
    assert records[-1]["train_accuracy"] == reference.accuracy(net, X, y)


def test_a_cost_that_overflows_before_any_update_blames_the_inputs(blobs, recwarn):
    """No update was made, so no learning rate can be the cause (it said 'try a smaller
    learning rate'); the features' sum overflowing is no warning either."""
    X, y = blobs
    with pytest.raises(TrainingDivergedError) as raised:
        huge = (X / np.abs(X).max() * 3e38).astype(np.float32)  # finite, float32's largest
        NeuralNet([3, 1], activation="relu", random_state=0).fit(huge, y, n_iterations=2)
    message = str(raised.value)
    assert "on the initial weights, before any update" in message
    assert "scale the features" in message and "learning rate" not in message
    assert [str(warning.message) for warning in recwarn] == []


def test_history_writes_null_for_numbers_json_cannot_hold():
    history = History([{"epoch": 0, "loss": float("nan"), "val_loss": float("inf")}])
    assert history.to_dict()["records"] == [{"epoch": 0, "loss": None, "val_loss": None}]
    json.loads(json.dumps(history.to_dict(), allow_nan=False))


def test_a_history_column_that_does_not_exist_names_the_ones_that_do(blobs):
    history = sn.NeuralNet([3, 1], random_state=0).fit(*blobs, n_iterations=2, log_every=1).history
    assert history.column("step") == [0, 1, 2]
    with pytest.raises(sn.InvalidArgumentError, match="no 'cost'; its keys are epoch, step, lr"):
        history.column("cost")


def converged_regressor():
    """A regressor whose cost has fallen below 1e-4, on targets whose best constant
    prediction costs about 2.8."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    t = X @ [1.0, 2.0, -1.0]
    net = sn.NeuralNetRegressor([32, 1], activation="relu", random_state=0)
    net.fit(X, t, epochs=400, learning_rate=0.01, batch_size=32, optimizer="adam")
    assert net.history.records[-1]["loss"] < 1e-4
    return net, X, t


def test_a_warm_start_from_a_tiny_cost_is_not_called_diverged():
    """Adam's first steps move every weight by about the learning rate: from weights
    that cost 2e-5, the next run's cost rose over 1000 times its first value and the
    run was stopped as diverged, though it stays far below the cost of predicting the
    mean (about 2.8)."""
    net, X, t = converged_regressor()
    costs = []
    batch_costs = type("BatchCosts", (sn.Callback,), {
        "on_step_end": lambda self, epoch, step, loss: costs.append(loss)})  # fmt: skip
    net.fit(X, t, epochs=30, learning_rate=0.05, batch_size=32, optimizer="adam",
            warm_start=True, callbacks=[batch_costs()])  # fmt: skip
    assert max(costs) > 1000 * costs[0]
    assert max(costs) < 0.3 and net.history.records[-1]["loss"] < 0.01


def test_a_warm_start_that_explodes_is_measured_against_the_constant_prediction():
    net, X, t = converged_regressor()
    constant = np.var(t) / 2
    with pytest.raises(TrainingDivergedError) as raised:
        net.fit(X, t, epochs=3, learning_rate=1e4, batch_size=32, warm_start=True)
    cost, yardstick = re.search(r"exploded to (\S+), over 1000 times (\S+), the cost of "
                                r"the best constant", str(raised.value)).groups()  # fmt: skip
    assert float(cost) > 1000 * float(yardstick)
    assert float(yardstick) == pytest.approx(constant, rel=1e-5)


def test_targets_near_the_float64_limit_diverge_without_a_warning():
    """The cost of the best constant prediction overflowed in NumPy before training began
    (outside its 'overflow is not warned about'): with warnings as errors, a
    RuntimeWarning came instead of the TrainingDivergedError with its advice."""
    X = np.random.default_rng(1).random((50, 5))
    t = np.random.default_rng(0).normal(size=50) * 1e160
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError, match=r"scale the features .* and the targets"):
            sn.NeuralNetRegressor([4, 1], random_state=0).fit(X, t, epochs=2, batch_size=10)


@pytest.mark.parametrize("iterations", [1, 3])
def test_a_cost_that_diverges_after_a_start_far_off_blames_the_inputs_not_the_rate(iterations):
    """The initial weights cost about 1e199 on these inputs; the cost turned NaN after the
    first update (caught by the final check with one iteration), and the message said
    'try a smaller learning rate'."""
    X = np.random.default_rng(1).random((50, 5)) * 1e200
    y = np.arange(50) % 3
    with pytest.raises(TrainingDivergedError) as raised:
        NeuralNet([4, 3], activation="relu", random_state=0).fit(X, y, n_iterations=iterations)
    message = str(raised.value)
    scale = re.search(r"over 1000 times the (\S+) of predicting every class alike:", message)[1]
    assert float(scale) == pytest.approx(np.log(3), rel=1e-5)
    assert message.endswith("the inputs are too large for them; scale the features (to [0, 1], "
                            "say)")  # fmt: skip
    assert "try a smaller learning rate" not in message


@pytest.mark.parametrize(
    ("options", "decay"),
    [({"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 3}, 1e300),
     ({"optimizer": "gd", "learning_rate": 0.5, "n_iterations": 200}, 10.0)],
)  # fmt: skip
def test_a_run_diverged_by_its_weight_decay_is_told_to_lower_that(options, decay):
    """Adam's squared gradient overflowed at weight decay 1e300, and gradient descent's
    w <- (1 - 5) w - lr g grew the weights: both were told 'try a smaller learning rate'
    alone (the rate was fine: the same runs without the decay do not diverge)."""
    X = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)  # as the CLI's
    y = (X[:, 0] > 0).astype(int)
    rate = options["learning_rate"]
    advice = (f"; try a smaller weight decay or learning rate (weight decay {decay:g} times "
              f"learning rate {rate:g} is over 1)")  # fmt: skip
    with pytest.raises(TrainingDivergedError, match=re.escape(advice) + "$"):
        NeuralNet([8, 1], random_state=0).fit(X, y, weight_decay=decay, **options)
    NeuralNet([8, 1], random_state=0).fit(X, y, **options)


def test_a_rare_class_does_not_make_a_too_large_rate_look_like_too_large_inputs():
    """One row in 30,000 of class 1: the best constant prediction costs 0.0004, which the
    first cost of sound inputs (0.63) passed 1000 times over, and a rate of 1e5 was
    called inputs too large."""
    X = np.random.default_rng(1).random((30000, 5))
    y = np.zeros(30000, dtype=int)
    y[0] = 1
    with pytest.raises(TrainingDivergedError, match=r"; try a smaller learning rate$"):
        NeuralNet([4, 2], activation="relu", random_state=0).fit(X, y, n_iterations=5,
                                                                 learning_rate=1e5)  # fmt: skip
