"""The progress display: bars on a terminal, one line per epoch otherwise, and records
printed with the numbers of the history."""

from __future__ import annotations

import dataclasses
import re

import pytest
from tqdm import tqdm

import scratchnet as sn
from scratchnet import Callback, NeuralNet
from scratchnet.training.callbacks import ProgressBar, describe


def train_with_progress(data, bar, capsys, **options):
    X, y = data
    net = NeuralNet([4, 1], random_state=0)
    net.fit(X, y, callbacks=[ProgressBar("test", bar=bar)], validation_data=data, **options)
    return net, capsys.readouterr()


def test_without_a_terminal_each_epoch_is_one_line_without_carriage_returns(blobs, capsys):
    net, printed = train_with_progress(blobs, None, capsys, epochs=3, batch_size=40)
    lines = printed.err.splitlines()
    assert "\r" not in printed.err
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    record = net.history.records[-1]
    assert lines[-1] == f"epoch 3/3: {describe(record, 'test')}"
    assert f"test accuracy {record['val_accuracy']:.2%}" in lines[-1]


def test_full_batch_prints_each_logged_iteration_and_the_final_weights(blobs, capsys):
    net, printed = train_with_progress(blobs, None, capsys, n_iterations=5, log_every=2)
    lines = printed.out.splitlines()
    assert [int(re.match(r"iteration (\d+):", line)[1]) for line in lines] == [0, 2, 4, 5]
    first = net.history.records[0]
    assert lines[0] == (
        f"iteration 0: cost {first['loss']:.6f}, train accuracy {first['accuracy']:.2%}, "
        f"test cost {first['val_loss']:.6f}, test accuracy {first['val_accuracy']:.2%}"
    )
    assert printed.err == ""


@pytest.mark.parametrize("bar", [None, True])
def test_a_program_without_stderr_trains_with_progress_all_the_same(
    blobs, capsys, monkeypatch, bar
):
    """sys.stderr is None in a program started without one (pythonw, 2>&-): asking it
    whether it was a terminal raised AttributeError, and its lines went to stdout."""
    monkeypatch.setattr("sys.stderr", None)
    net, printed = train_with_progress(blobs, bar, capsys, epochs=2, batch_size=40)
    assert len(net.history.records) == 2
    assert printed.out == ""


def test_on_a_terminal_a_bar_counts_the_iterations(blobs, capsys):
    _, printed = train_with_progress(blobs, True, capsys, n_iterations=3)
    assert "3/3" in printed.err
    assert [line.split(":")[0] for line in printed.out.splitlines()] == [
        "iteration 0",
        "iteration 3",
    ]


class NarrowTerminalBar(tqdm):
    """A bar on a terminal 40 columns wide: tqdm cuts each of its lines to that width."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, ncols=40, **kwargs)


def test_on_a_narrow_terminal_each_epoch_still_shows_its_whole_record(blobs, capsys, monkeypatch):
    monkeypatch.setattr("tqdm.auto.tqdm", NarrowTerminalBar)  # the bar's class, imported when used
    net, printed = train_with_progress(blobs, True, capsys, epochs=3, batch_size=40)
    shown = [line.rpartition("\r")[2] for line in printed.err.split("\n")]  # what stays
    records = {record["epoch"]: record for record in net.history.records}
    for epoch in (1, 2, 3):
        line = f"epoch {epoch}/3: {describe(records[epoch], 'test')}"
        assert len(line) > 40 and line in shown, printed.err


def test_mini_batch_records_label_the_batch_means_apart_from_measurements(blobs):
    X, y = blobs
    net = NeuralNet([4, 1], random_state=0).fit(
        X, y, epochs=2, batch_size=40, validation_data=(X, y), measure_training=True
    )
    record = net.history.records[-1]
    line = describe(record)
    assert line.startswith(f"batch cost {record['loss']:.4f}, batch accuracy ")
    assert f"train cost {record['train_loss']:.4f}" in line
    assert f"validation cost {record['val_loss']:.6f}" in line


def test_early_stopping_is_announced_with_the_best_epoch(blobs, capsys):
    X, y = blobs
    noisy = (y + (X[:, 0] > 0)) % 2  # training labels half wrong: the validation cost turns up
    net = NeuralNet([64, 1], activation="relu", random_state=0)
    net.fit(
        X[:40], noisy[:40], epochs=200, batch_size=10, optimizer="adam",
        learning_rate=0.05, validation_data=(X[40:], y[40:]), patience=3,
        callbacks=[ProgressBar(bar=False)],
    )  # fmt: skip
    history = net.history
    assert history.stopped_early
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == (
        f"stopped early after epoch {history.records[-1]['epoch']}: the validation cost last "
        f"improved at epoch {history.best_epoch}, whose weights are kept"
    )


def test_a_resumed_run_that_stops_on_a_printed_record_prints_it_once(blobs, capsys):
    """A resumed run's history starts with the records of the run before it; when it
    stops right after printing its last record (early stopping), that record is not
    printed again as 'the final weights'."""
    X, y = blobs
    history = NeuralNet([4, 1], random_state=0).fit(X, y, n_iterations=5, log_every=1).history
    resumed = dataclasses.replace(history, records=history.records[:5])  # up to iteration 4
    progress = ProgressBar(bar=False)
    progress.on_train_begin(5, 1)
    progress.on_epoch_end(5, resumed.records[-1])
    progress.on_train_end(resumed)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"iteration 4: {describe(resumed.records[-1], 'validation')}"]


def test_a_line_never_rounds_an_accuracy_up_to_certainty():
    """21564 of 21565 rows right was printed "train accuracy 100.00%" (a bare :.2%);
    evaluate and the report write '>99.99%'. One right of 21565 is '<0.01%', not 0.00%."""
    record = dict.fromkeys(("lr", "val_loss", "val_accuracy"))
    record |= {"epoch": 25, "step": 25, "loss": 0.01, "accuracy": 21564 / 21565,
               "train_loss": 0.01, "train_accuracy": 21564 / 21565}  # fmt: skip
    assert describe(record) == "cost 0.010000, train accuracy >99.99%"
    record |= {"accuracy": 1 / 21565, "train_accuracy": 1 / 21565}
    assert describe(record) == "cost 0.010000, train accuracy <0.01%"
    record |= {"accuracy": 1.0, "train_accuracy": 1.0}
    assert describe(record) == "cost 0.010000, train accuracy 100.00%"


def test_a_callback_that_edits_its_record_leaves_the_history_as_logged(blobs):
    """The record a callback got was the history's own: rounding it there changed the
    history, and (records being shared with it) the checkpoint's."""

    class Rounding(Callback):
        def on_epoch_end(self, epoch, record):
            if record is not None:
                record["loss"] = round(record["loss"], 1)

    logged = NeuralNet([3, 1], random_state=0).fit(*blobs, n_iterations=6, log_every=2)
    edited = NeuralNet([3, 1], random_state=0)
    edited.fit(*blobs, n_iterations=6, log_every=2, callbacks=[Rounding()])
    assert edited.history.records == logged.history.records
    assert any(record["loss"] != round(record["loss"], 1) for record in logged.history.records)


class StopAtTwo(Callback):
    def on_epoch_end(self, epoch, record):
        if epoch == 2:
            raise sn.StopTraining


@pytest.mark.parametrize("log_every", [1, 4])
def test_a_run_a_callback_ended_says_so_after_its_last_line(blobs, capsys, log_every):
    """At an epoch log_every skips, its record, logged at the stop, is shown then (the
    epoch's line had no numbers)."""
    net = NeuralNet([4, 1], random_state=0)
    net.fit(*blobs, epochs=5, batch_size=40, log_every=log_every, callbacks=[StopAtTwo()],
            verbose=True)  # fmt: skip
    lines = capsys.readouterr().err.splitlines()
    final = f"epoch 2/5: {describe(net.history.records[-1])}"
    if log_every == 1:
        assert lines[-2] == final and lines[0].startswith("epoch 1/5: batch cost")
    else:
        assert lines[:3] == ["epoch 1/5", "epoch 2/5", final]
    assert lines[-1] == "stopped after epoch 2 of 5: a callback ended the run"


def test_a_progress_bar_refuses_a_bar_setting_that_is_not_a_truth_value():
    """bar="no" is true: it drew bars on a stderr that is no terminal."""
    with pytest.raises(sn.InvalidTypeError, match=r"^bar must be True or False, got 'no'$"):
        ProgressBar(bar="no")
    assert ProgressBar(bar=None).bar_wanted is None
