"""Checkpoints: a run stopped at any point and resumed from its checkpoint ends with
bit-for-bit the model, and the history, of the same run never stopped."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.archive import write_archive
from scratchnet.errors import DataFileError, InvalidArgumentError, InvalidTypeError
from scratchnet.training.checkpoint import (
    MAX_META_BYTES,
    MAX_RECORDS,
    Checkpoint,
    history_records,
)
from scratchnet.training.history import RECORD_KEYS

pytestmark = pytest.mark.usefixtures("small_chunks_cut")  # small networks, two parts


class StopAt(sn.Callback):
    """Raise KeyboardInterrupt (as Ctrl-C would) at a given epoch end or step."""

    def __init__(self, epoch=None, step=None):
        self.epoch, self.step = epoch, step

    def on_step_end(self, epoch, step, loss):
        if step == self.step:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, record):
        if epoch == self.epoch:
            raise KeyboardInterrupt


RUNS = {
    "full batch, legacy generator": (
        lambda: sn.NeuralNet([7, 1], random_state=sn.tutorial_random_state(42)),
        {"n_iterations": 30, "learning_rate": 0.5, "log_every": 4},
    ),
    "mini-batch, dropout, adam, cosine, early stopping": (
        lambda: sn.NeuralNet([16, 3], activation="relu", init="he", dropout=0.3, random_state=5),
        {
            "epochs": 12, "batch_size": 16, "optimizer": "adam", "learning_rate": 0.01,
            "schedule": "cosine", "validation_fraction": 0.2, "patience": 50,
            "measure_training": True,
        },
    ),
    "mini-batch, nesterov, weight decay": (
        lambda: sn.NeuralNet([8, 3], activation="tanh", random_state=1),
        {"epochs": 9, "batch_size": 32, "optimizer": "nesterov", "weight_decay": 1e-3},
    ),
}  # fmt: skip
for _bits in (np.random.MT19937, np.random.Philox, np.random.SFC64):  # their states hold arrays
    RUNS[f"mini-batch, a {_bits.__name__} Generator"] = (
        lambda bits=_bits: sn.NeuralNet([8, 3], random_state=np.random.Generator(bits(7))),
        {"epochs": 6, "batch_size": 32, "optimizer": "adam"},
    )


def data_for(name, blobs, three_blobs):
    return blobs if name.startswith("full batch") else three_blobs


@pytest.mark.parametrize("stop", [{"epoch": 5}, {"step": 23}], ids=["epoch end", "mid epoch"])
@pytest.mark.parametrize("name", list(RUNS))
def test_a_resumed_run_ends_with_the_uninterrupted_model(name, stop, blobs, three_blobs, tmp_path):
    make, options = RUNS[name]
    X, y = data_for(name, blobs, three_blobs)
    whole = make().fit(X, y, **options)

    path = tmp_path / "checkpoint.npz"
    with pytest.raises(KeyboardInterrupt):
        make().fit(
            X, y, **options, checkpoint=Checkpoint(path, every=3), callbacks=[StopAt(**stop)]
        )
    assert path.exists()
    resumed = make().fit(X, y, **options, checkpoint=Checkpoint(path, resume=True))

    np.testing.assert_array_equal(resumed.parameters.flat, whole.parameters.flat)
    assert resumed.history.records == whole.history.records
    assert resumed.history.best_epoch == whole.history.best_epoch
    if whole.held_out is not None:
        np.testing.assert_array_equal(resumed.held_out, whole.held_out)


def test_an_interruption_between_writes_saves_the_newest_epoch(three_blobs, tmp_path):
    X, y = three_blobs
    checkpoint = Checkpoint(tmp_path / "checkpoint.npz", every=4)
    with pytest.raises(KeyboardInterrupt):
        sn.NeuralNet([8, 3], random_state=0).fit(
            X, y, epochs=20, batch_size=30, checkpoint=checkpoint, callbacks=[StopAt(step=30)]
        )
    # 5 steps per epoch: step 30 ends epoch 6, but the interruption came in its last step
    assert checkpoint.written_epochs == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]


def test_a_history_a_checkpoint_could_not_hold_is_refused_before_training(blobs, tmp_path):
    """100,000 iterations logged every one: the run trained to its end, every checkpoint
    written past some 53,000 records too large for the reader to take back."""
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(InvalidArgumentError) as refused:
        sn.NeuralNet([3, 1], random_state=0).fit(
            *blobs, n_iterations=100_000, log_every=1, checkpoint=Checkpoint(path)
        )
    assert str(refused.value) == (
        "log_every=1 over 100,000 epochs would log 100,001 history records, more than the "
        "50,000 a checkpoint holds (it could not be read back to resume): log every 3 epochs "
        "or more, or train without a checkpoint"
    )
    assert not path.exists()


@pytest.mark.parametrize(
    ("epochs", "log_every", "batch_size"),
    [(7, 1, None), (7, 3, None), (6, 3, None), (1, 5, None), (7, 3, 10), (6, 3, 10), (2, 5, 10)],
)
def test_the_records_a_run_logs_are_counted_before_it_starts(blobs, epochs, log_every, batch_size):
    """What the limit is checked against: the records the run then logs."""
    net = sn.NeuralNet([3, 1], random_state=0)
    net.fit(*blobs, epochs=epochs, batch_size=batch_size, log_every=log_every)
    assert len(net.history.records) == history_records(epochs, log_every, batch_size is None)


def test_the_most_records_a_run_may_log_fit_the_checkpoint_reader():
    """MAX_RECORDS records of the longest numbers JSON writes (a step near 2**63, every
    float of 24 characters), stored as NumPy stores the metadata (4 bytes a character),
    stay within what the reader accepts."""
    longest = -1.2345678901234567e-300
    record = dict.fromkeys(RECORD_KEYS, longest) | {"epoch": MAX_RECORDS, "step": 2**63 - 1}
    meta = json.dumps({"history": {"records": [record] * MAX_RECORDS}})
    assert 4 * len(meta) <= MAX_META_BYTES


def test_resuming_without_a_checkpoint_file_starts_afresh(blobs, tmp_path):
    X, y = blobs
    path = tmp_path / "checkpoint.npz"
    fresh = sn.NeuralNet([4, 1], random_state=0).fit(X, y, n_iterations=5)
    resumed = sn.NeuralNet([4, 1], random_state=0).fit(
        X, y, n_iterations=5, checkpoint=Checkpoint(path, every=2, resume=True)
    )
    np.testing.assert_array_equal(resumed.parameters.flat, fresh.parameters.flat)


@pytest.mark.parametrize(
    ("change", "difference"),
    [
        ({"learning_rate": 0.2}, "training"),
        ({"X": "other"}, "data"),
        ({"seed": 3}, "random_state"),
        ({"optimizer": "adam"}, "training"),  # its state does not fit: was a damaged file
        ({"optimizer": "momentum"}, "training"),
    ],
    ids=["learning rate", "data", "seed", "adam", "momentum"],
)
def test_a_checkpoint_of_another_run_is_refused(change, difference, blobs, tmp_path):
    X, y = blobs
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(KeyboardInterrupt):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, n_iterations=10, checkpoint=Checkpoint(path), callbacks=[StopAt(epoch=4)]
        )
    X_other = X + 1 if change.get("X") else X
    net = sn.NeuralNet([4, 1], random_state=change.get("seed", 0))
    with pytest.raises(InvalidArgumentError, match=f"another run.*differs in {difference}"):
        net.fit(
            X_other, y, n_iterations=10, learning_rate=change.get("learning_rate", 0.1),
            optimizer=change.get("optimizer", "gd"), checkpoint=Checkpoint(path, resume=True),
        )  # fmt: skip


def test_a_warm_started_weighted_run_resumes_to_the_uninterrupted_model(three_blobs, tmp_path):
    """Its checkpoint also fingerprints the sample weights and the starting weights."""
    X, y = three_blobs
    weights = np.random.default_rng(0).uniform(0, 2, size=len(X))
    options = {"epochs": 6, "batch_size": 16, "optimizer": "adam", "sample_weight": weights}

    def started():
        return sn.NeuralNet([8, 3], random_state=2).fit(X, y, epochs=2, batch_size=16)

    whole = started().fit(X, y, warm_start=True, **options)
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(KeyboardInterrupt):
        started().fit(X, y, warm_start=True, checkpoint=Checkpoint(path),
                      callbacks=[StopAt(epoch=3)], **options)  # fmt: skip
    resumed = started().fit(X, y, warm_start=True, checkpoint=Checkpoint(path, resume=True),
                            **options)  # fmt: skip
    np.testing.assert_array_equal(resumed.parameters.flat, whole.parameters.flat)
    assert resumed.history.records == whole.history.records
    other_weights = {**options, "sample_weight": weights[::-1]}
    with pytest.raises(InvalidArgumentError, match="differs in sample_weight"):
        started().fit(X, y, warm_start=True, checkpoint=Checkpoint(path, resume=True),
                      **other_weights)  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="differs in start"):
        sn.NeuralNet([8, 3], random_state=2).fit(X, y, epochs=1, batch_size=16).fit(
            X, y, warm_start=True, checkpoint=Checkpoint(path, resume=True), **options
        )


@pytest.mark.parametrize("member", ["parameters", "optimizer_M", "optimizer_V"])
def test_a_checkpoint_whose_weights_are_not_finite_is_refused_and_kept(member, blobs, tmp_path):
    """Resumed, such a checkpoint would diverge at once, and a run removes the checkpoint
    of a run that diverged: it is refused as damaged instead, and stays."""
    X, y = blobs
    path = tmp_path / "checkpoint.npz"
    options = {"epochs": 6, "batch_size": 32, "optimizer": "adam"}
    with pytest.raises(KeyboardInterrupt):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, checkpoint=Checkpoint(path), callbacks=[StopAt(epoch=3)], **options
        )
    with np.load(path) as stored:
        members = {name: stored[name] for name in stored.files}
    members[member][3] = np.inf
    np.savez(path, **members)
    with pytest.raises(DataFileError, match="weights or optimizer state that are not finite"):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, checkpoint=Checkpoint(path, resume=True), **options
        )
    assert path.is_file()


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],
        lambda b: b[:200] + bytes([b[200] ^ 0xFF]) + b[201:],
        lambda b: b"",
    ],
    ids=["truncated", "flipped byte", "empty"],
)
def test_a_damaged_checkpoint_is_a_data_file_error(damage, blobs, tmp_path):
    X, y = blobs
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(KeyboardInterrupt):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, n_iterations=10, checkpoint=Checkpoint(path), callbacks=[StopAt(epoch=4)]
        )
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataFileError, match=str(path)):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, n_iterations=10, checkpoint=Checkpoint(path, resume=True)
        )


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_checkpoint_interval_must_be_a_positive_integer(every, tmp_path):
    with pytest.raises(InvalidArgumentError, match="checkpoint every must be an integer >= 1"):
        Checkpoint(tmp_path / "c.npz", every=every)


@pytest.mark.parametrize("resume", ["no", 0, None])
def test_resume_must_be_true_or_false(resume, tmp_path):
    """resume="no" was taken for True: the next fit tried to resume."""
    with pytest.raises(InvalidTypeError, match=r"^resume must be True or False, got "):
        Checkpoint(tmp_path / "c.npz", resume=resume)


def interrupted_checkpoint(blobs, path, **options):
    """A checkpoint of a run (full batch, 10 iterations, unless ``options`` say) stopped
    at epoch 4."""
    X, y = blobs
    with pytest.raises(KeyboardInterrupt):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, **(options or {"n_iterations": 10}), checkpoint=Checkpoint(path),
            callbacks=[StopAt(epoch=4)],
        )  # fmt: skip


def rewritten_meta(path, change) -> None:
    """The checkpoint at ``path`` with its metadata changed (its arrays as they were)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files if name != "meta"}
        meta = json.loads(str(archive["meta"]))
    change(meta)
    write_archive(path, meta, arrays)


def test_a_checkpoint_keeps_the_training_seconds_that_reached_it_across_resumptions(
    blobs, tmp_path
):
    """Resumed from a state reached in 100 s (as stored), a fit starts its count there:
    its checkpoint's seconds are 100 plus its own, bounded by the wall-clock time."""
    X, y = blobs
    path = tmp_path / "checkpoint.npz"
    interrupted_checkpoint(blobs, path)
    rewritten_meta(path, lambda meta: meta.update(seconds=100.0))
    checkpoint = Checkpoint(path, resume=True)
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, n_iterations=10, checkpoint=checkpoint, callbacks=[StopAt(epoch=7)]
        )
    wall = time.perf_counter() - started
    assert checkpoint.earlier_seconds == 100.0
    with np.load(path, allow_pickle=False) as archive:
        seconds = json.loads(str(archive["meta"]))["seconds"]
    assert 100.0 < seconds < 100.0 + wall


# no float holds 10**400; 2e9 (63 years) and 1e308 were printed as a run's fit time, which
# its report then refused
@pytest.mark.parametrize("seconds", [-1.0, "soon", True, 10**400, 2e9, 1e308])
def test_a_checkpoint_with_impossible_seconds_is_a_data_file_error(seconds, blobs, tmp_path):
    X, y = blobs
    path = tmp_path / "checkpoint.npz"
    interrupted_checkpoint(blobs, path)
    rewritten_meta(path, lambda meta: meta.update(seconds=seconds))
    with pytest.raises(DataFileError, match=r"seconds must be a duration of 0 to 1e\+09, got"):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, n_iterations=10, checkpoint=Checkpoint(path, resume=True)
        )


FULL_BATCH = {"n_iterations": 10}  # gradient descent: no optimizer state
ADAM = {"optimizer": "adam", "batch_size": 16, "epochs": 10}  # a step and two arrays


def updated(**values):
    return lambda meta: meta.update(values)


def first_record(change):
    return lambda meta: change(meta["history"]["records"][0])


@pytest.mark.parametrize(
    ("options", "change", "message"),
    [
        (FULL_BATCH, updated(format="scratchnet-model"),
         "not a scratchnet checkpoint"),
        (FULL_BATCH, updated(version=99), r"checkpoint version 99 is newer than this scratchnet "
         r"reads \(1\): install the newer scratchnet that wrote it$"),
        (FULL_BATCH, updated(version=0), r"checkpoint version 0 is not supported \(this "),
        (FULL_BATCH, updated(version=True), r"checkpoint version True is not supported \(this "),
        (FULL_BATCH, updated(version=1.0), r"checkpoint version 1\.0 is not supported \(this "),
        (FULL_BATCH, updated(epochs_done=-4), "epochs_done must be a count, got -4"),
        (FULL_BATCH, updated(steps_done=4.0), "steps_done must be a count, got 4.0"),
        (FULL_BATCH, updated(steps_done=10**30), "steps_done must be a count"),
        # a tampered count resumed nothing and published the weights as a finished run
        (FULL_BATCH, updated(epochs_done=99), "epochs_done 99 is past the run's 10 epochs"),
        (ADAM, updated(epochs_done=3), "steps_done 32 is not 3 epochs of 8 updates"),
        (ADAM, updated(epochs_done=6, steps_done=48),
         r"epochs_done 6 disagrees with the history \(its last record: epoch 4\)"),
        (FULL_BATCH, lambda meta: meta.pop("records_since_best"),
         "records_since_best must be a count"),
        (FULL_BATCH, updated(extra=[1]), r"extra must be an object, got \[1\]"),
        (FULL_BATCH, updated(fingerprint=[1]), r"fingerprint must be an object, got \[1\]"),
        (FULL_BATCH, lambda meta: meta.pop("fingerprint"), "it holds no fingerprint of its run"),
        (FULL_BATCH, updated(first_loss="abc"), "first_loss must be a cost, got abc"),
        # a negative first cost made the first epoch's look like divergence: the file removed
        (FULL_BATCH, updated(first_loss=-1.0), "first_loss must be a cost, got -1"),
        (FULL_BATCH, updated(best_loss="abc"), "best_loss must be a cost, got abc"),
        (FULL_BATCH, updated(optimizer={"step": 1}),
         "the optimizer's counters are not those of this run's optimizer"),
        (FULL_BATCH, updated(optimizer=[]),
         "the optimizer's counters are not those of this run's optimizer"),
        (FULL_BATCH, updated(optimizer_arrays=5),
         "the optimizer's arrays are not those of this run's optimizer"),
        (ADAM, updated(optimizer_arrays=["M"]),
         "the optimizer's arrays are not those of this run's optimizer"),
        (ADAM, updated(optimizer={"step": 1.5}),
         "the optimizer's counters are not counts"),
        (ADAM, updated(optimizer={"step": -1}),
         "the optimizer's counters are not counts"),  # was a ZeroDivisionError
        (ADAM, updated(optimizer={"step": 10**400}),
         "the optimizer's counters are not counts"),  # was an OverflowError
        (FULL_BATCH, updated(history={"records": {}}),
         "the history is missing or damaged"),
        (FULL_BATCH, lambda meta: meta.pop("history"), "the history is missing or damaged"),
        (FULL_BATCH, lambda meta: meta["history"].update(records=[1, 2]),
         "the history is missing or damaged"),
        (FULL_BATCH, first_record(lambda record: record.update(loss="x")),
         "the history is missing or damaged"),
        (FULL_BATCH, first_record(lambda record: record.update(loss=-1.0)),
         r"the history is damaged \(a cost below 0 in the record of epoch 0\)"),
        (FULL_BATCH, lambda meta: meta.pop("rng"), "the random generator's state is missing"),
        (FULL_BATCH, lambda meta: meta["rng"].update(bit_generator="MT19937"),
         r"the random generator's state cannot be restored \(a MT19937 state\)"),
        (FULL_BATCH, lambda meta: meta["rng"].update(uinteger=2**80),
         "the random generator's state cannot be restored"),  # was an OverflowError
    ],
)  # fmt: skip
def test_a_checkpoint_with_damaged_metadata_names_what_is_wrong(
    options, change, message, blobs, tmp_path
):
    """Each check of a checkpoint's metadata, on a real checkpoint with one value changed:
    a DataFileError naming the file and the problem, and the file kept."""
    X, y = blobs
    path = tmp_path / "checkpoint.npz"
    interrupted_checkpoint(blobs, path, **options)
    rewritten_meta(path, change)
    with pytest.raises(DataFileError, match=f"{path}.*{message}"):
        sn.NeuralNet([4, 1], random_state=0).fit(
            X, y, **options, checkpoint=Checkpoint(path, resume=True)
        )
    assert path.is_file()


def small_net() -> sn.NeuralNet:
    return sn.NeuralNet([4, 3], random_state=0)


def test_a_checkpoint_used_again_keeps_nothing_of_its_earlier_fit(three_blobs, tmp_path):
    """Interrupted in its first epoch, with nothing of its own to keep, the second fit
    wrote the first fit's last state as its own: resuming it gave the first model. The
    file now still holds the first run's checkpoint, which the second run refuses."""
    path = tmp_path / "run.npz"
    checkpoint = Checkpoint(path, every=2)
    options = {"epochs": 3, "batch_size": 16}
    small_net().fit(*three_blobs, **options, checkpoint=checkpoint)
    X, y = three_blobs[0][::-1].copy(), three_blobs[1][::-1].copy()  # another run's data
    with pytest.raises(KeyboardInterrupt):
        small_net().fit(X, y, **options, checkpoint=checkpoint, callbacks=[StopAt(step=1)])
    with pytest.raises(InvalidArgumentError, match="belongs to another run"):
        small_net().fit(X, y, **options, checkpoint=Checkpoint(path, resume=True))


def test_a_checkpoint_in_a_missing_folder_is_named_before_any_training(blobs, tmp_path):
    steps = []
    counting = type("Counting", (sn.Callback,), {"on_step_end": lambda s, *a: steps.append(a)})
    with pytest.raises(FileNotFoundError, match=r"its folder .*nowhere does not exist"):
        checkpoint = Checkpoint(tmp_path / "nowhere" / "run.npz")
        sn.NeuralNet([4, 1]).fit(*blobs, epochs=4, batch_size=8, callbacks=[counting()],
                                 checkpoint=checkpoint)  # fmt: skip
    assert steps == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"note": float("nan")}, "Out of range float values"),
        ({"when": np.datetime64("2026-11-26")}, "not JSON serializable"),
        (["a list"], "a list, not a dict"),
    ],
)
def test_checkpoint_extra_must_be_json_when_given(extra, message):
    with pytest.raises(
        InvalidArgumentError, match=f"checkpoint extra must be a dict of JSON.*{message}"
    ):
        Checkpoint("run.npz", extra=extra)


def test_checkpoint_settings_take_numpy_integers_and_refuse_what_is_not_a_checkpoint(blobs):
    assert Checkpoint("run.npz", every=np.int64(5)).every == 5
    with pytest.raises(InvalidTypeError, match=r"checkpoint must be a scratchnet\.Checkpoint"):
        sn.NeuralNet([4, 1]).fit(*blobs, n_iterations=1, checkpoint="run.npz")
    with pytest.raises(InvalidTypeError, match="checkpoint path must be a str, bytes or a path"):
        Checkpoint(None)


def test_a_long_run_resumes(three_blobs, tmp_path):
    """The metadata holds the history: past about 70 epochs it outgrew the 64 KiB a
    model's metadata may take, and the checkpoint was written but never read back (the
    best preset trains 100 epochs)."""
    X, y = three_blobs
    options = {"epochs": 150, "batch_size": len(X) // 2, "validation_fraction": 0.2}
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(KeyboardInterrupt):
        small_net().fit(X, y, **options, checkpoint=Checkpoint(path, every=150),
                   callbacks=[StopAt(epoch=140)])  # fmt: skip
    with np.load(path, allow_pickle=False) as archive:
        assert archive["meta"].nbytes > 1 << 16
    resumed = small_net().fit(X, y, **options, checkpoint=Checkpoint(path, resume=True))
    whole = small_net().fit(X, y, **options)
    np.testing.assert_array_equal(resumed.parameters.flat, whole.parameters.flat)


@pytest.mark.parametrize(
    ("contents", "reason"),
    [("model", "not a scratchnet checkpoint"), ("text", "not a scratchnet checkpoint (not an")],
)
def test_a_new_run_never_replaces_a_file_that_is_not_a_checkpoint(
    blobs, tmp_path, contents, reason
):
    """Checkpoint("model.npz") replaced a saved model with the run's checkpoint."""
    X, y = blobs
    path = tmp_path / "mine.npz"
    if contents == "model":
        sn.NeuralNet([4, 1], random_state=0).fit(X, y, n_iterations=2).save(path)
    else:
        path.write_text("my notes\n")
    kept = path.read_bytes()
    with pytest.raises(InvalidArgumentError) as refused:
        sn.NeuralNet([4, 1], random_state=0).fit(X, y, n_iterations=2, checkpoint=Checkpoint(path))
    assert str(refused.value).startswith(
        f"checkpoint path {path} holds a file that a new run would replace: {reason}"
    )
    assert path.read_bytes() == kept


def test_a_new_run_replaces_the_checkpoint_of_another(blobs, tmp_path):
    X, y = blobs
    path = tmp_path / "c.npz"
    sn.NeuralNet([4, 1], random_state=0).fit(X, y, n_iterations=2, checkpoint=Checkpoint(path))
    net = sn.NeuralNet([5, 1], random_state=1)
    net.fit(X, y, n_iterations=3, checkpoint=Checkpoint(path))
    resumed = sn.NeuralNet([5, 1], random_state=1)
    resumed.fit(X, y, n_iterations=3, checkpoint=Checkpoint(path, resume=True))
    np.testing.assert_array_equal(resumed.parameters.flat, net.parameters.flat)


@pytest.mark.parametrize("kind", ["empty file", "link to nothing"])
def test_a_new_run_writes_its_checkpoint_over_an_empty_file_or_through_a_dangling_link(
    blobs, tmp_path, kind
):
    """An empty file (tempfile.mkstemp's) was refused as 'not an .npz archive', and a
    link to nothing as a file 'that a new run would replace: no such checkpoint file'.
    (Resuming, an empty file is a damaged checkpoint: a test above.)"""
    X, y = blobs
    path, written = tmp_path / "c.npz", tmp_path / "c.npz"
    if kind == "empty file":
        path.write_bytes(b"")
    else:
        written = tmp_path / "target.npz"
        path.symlink_to(written)
    sn.NeuralNet([4, 1], random_state=0).fit(X, y, n_iterations=2, checkpoint=Checkpoint(path))
    assert written.read_bytes()[:4] == b"PK\x03\x04"


def test_a_link_to_an_empty_file_is_someone_elses_file(blobs, tmp_path):
    """Only an empty file itself is taken for a placeholder: the one a link points to
    was filled with the checkpoint."""
    theirs = tmp_path / "theirs"
    theirs.write_bytes(b"")
    (tmp_path / "c.npz").symlink_to(theirs)
    with pytest.raises(InvalidArgumentError, match="holds a file that a new run would replace"):
        sn.NeuralNet([4, 1]).fit(*blobs, n_iterations=2, checkpoint=Checkpoint(tmp_path / "c.npz"))
    assert theirs.read_bytes() == b""


def test_a_link_into_a_missing_folder_is_named_before_training(blobs, tmp_path):
    """It failed only when the first checkpoint was written, after training."""
    (tmp_path / "c.npz").symlink_to(tmp_path / "gone" / "c.npz")
    started = []

    class Start(sn.Callback):
        def on_train_begin(self, epochs, steps_per_epoch):
            started.append(True)

    with pytest.raises(FileNotFoundError, match=r"its folder .*gone does not exist\)$"):
        sn.NeuralNet([4, 1]).fit(*blobs, n_iterations=2, callbacks=[Start()],
                                 checkpoint=Checkpoint(tmp_path / "c.npz"))  # fmt: skip
    assert started == []


def test_a_fifo_at_the_checkpoint_path_is_named_as_such(blobs, tmp_path):
    path = tmp_path / "c.npz"
    os.mkfifo(path)
    with pytest.raises(InvalidArgumentError, match=r"^checkpoint path .*c\.npz: it is a device, "):
        sn.NeuralNet([4, 1]).fit(*blobs, n_iterations=2, checkpoint=Checkpoint(path))
