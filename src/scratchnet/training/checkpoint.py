"""Checkpoints: the whole training state in one file, written atomically, so that a run
stopped by Ctrl-C, SIGTERM or a crash continues to bit-for-bit the model it would have
reached without stopping.

A checkpoint (an archive, see ``archive.py``) holds the parameters, the optimizer's
arrays and counters, the random generator's state, the history, the early-stopping
state and a fingerprint of the run (architecture, training options, data) that a resumed
run must match. States are taken at the end of an epoch, the one point where all of them
agree; on an interruption the newest such state is written.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from ..archive import ArchiveReader, open_archive, write_archive
from ..atomic import refuse_special
from ..errors import DataFileError, InvalidArgumentError
from ..nn.settings import real_number
from ..validation import check_flag, check_path, check_positive_int
from .history import History, history_inconsistency, is_count, is_history, is_number
from .loop import Checkpointer, TrainingConfig
from .state import TrainingState

FORMAT = "scratchnet-checkpoint"
VERSION = 1
LONGEST_RUN = 1e9  # seconds (32 years) no run trains for: 1e308 was printed in 309 digits
MAX_META_BYTES = 1 << 26  # a checkpoint's metadata holds the run's history, about 1 KiB
# a record as NumPy stores it (4 bytes a character): 64 MiB hold some 80,000 records (a
# run of 100 epochs passed the 64 KiB that is plenty for a model's); reading that much
# peaks at 320 MB (a 0.5 MB file holding 256 MiB of it took 1 GB before the limit was cut)
MAX_RECORDS = 50_000  # history records a run with a checkpoint may log: about 800 bytes
# each (every field measured: 2,000 took 1.6 MB), at most 1,260 with the longest numbers


class Checkpoint(Checkpointer):
    """Write the training state to ``path`` every ``every`` epochs and when the run is
    interrupted; with ``resume`` a fit whose checkpoint file exists starts from it.

    ``extra`` is JSON-ready metadata stored alongside (the command line keeps its recipe
    there). ``NeuralNet.fit(..., checkpoint=Checkpoint(...))`` uses it. Each state is
    stored with the seconds spent training to reach it, over every run that led there;
    ``earlier_seconds`` are those of the state a resumed fit starts from (0 otherwise).
    """

    def __init__(
        self, path: str | bytes | os.PathLike, every: int = 1, resume: bool = False, extra=None
    ):
        self.every = check_positive_int(every, "checkpoint every")
        self.path = Path(check_path(path, "checkpoint path"))
        self.resume = check_flag(resume, "resume")
        self.extra = _json_ready(extra or {})
        self._begin({})

    def _begin(self, fingerprint: dict) -> None:
        """Forget any earlier fit's states: each fit writes only its own."""
        self.fingerprint = fingerprint
        self.latest: TrainingState | None = None  # the newest consistent state
        self.latest_seconds = 0.0  # the training seconds that reached it
        self.written_epochs: int | None = None  # of the state in the file, if any
        self.written_steps: int | None = None
        self.epochs_ended = 0  # by this fit, written or not
        self.earlier_seconds = 0.0
        self.started = time.perf_counter()

    # -- used by NeuralNet.fit ---------------------------------------------------------------

    def start(
        self, fresh: TrainingState, fingerprint: dict, config: TrainingConfig, steps: int
    ) -> TrainingState:
        """The state to train from: ``fresh``, or the one in the file when resuming (a
        run of ``config`` with ``steps`` updates an epoch). A folder that does not exist,
        the link's or the one it points into, is named now, before any training. A new
        run writes over an empty file (made by ``tempfile``, say) or an earlier
        checkpoint only; resuming, an empty file is a damaged one."""
        self._begin(fingerprint)
        records = history_records(config.epochs, config.log_every, full_batch=steps == 1)
        if records > MAX_RECORDS:
            least = math.ceil(config.epochs / (MAX_RECORDS - (steps == 1)))
            raise InvalidArgumentError(
                f"log_every={config.log_every} over {config.epochs:,} epochs would log "
                f"{records:,} history records, more than the {MAX_RECORDS:,} a checkpoint "
                f"holds (it could not be read back to resume): log every {least:,} epochs or "
                "more, or train without a checkpoint"
            )
        folder = Path(os.path.realpath(self.path)).parent
        if not folder.is_dir():
            raise FileNotFoundError(
                errno.ENOENT, f"cannot write {self.path} (its folder {folder} does not exist)"
            )
        if not self.resume and self.path.exists() and not _is_empty_file(self.path):
            _check_is_a_checkpoint(self.path)
        if not (self.resume and self.path.exists()):
            return fresh
        restored = read_checkpoint(self.path, fresh, fingerprint, config, steps)
        self.written_epochs = restored.state.epochs_done
        self.written_steps = restored.state.steps_done
        self.earlier_seconds = restored.seconds
        return restored.state

    # -- called by the loop --------------------------------------------------------------------

    def epoch_end(self, state: TrainingState) -> None:
        self.epochs_ended += 1
        if state.epochs_done % self.every == 0:
            self._write(state, self.seconds())
            self.latest = None
        else:
            self.latest, self.latest_seconds = state.snapshot(), self.seconds()

    def interrupted(self) -> None:
        """Write the newest state not yet written (once: a second call, as the command
        that ran the fit stops too, finds nothing new)."""
        if self.latest is not None:
            self._write(self.latest, self.latest_seconds)
            self.latest = None

    def seconds(self) -> float:
        """Training seconds so far: the earlier runs' and this fit's."""
        return self.earlier_seconds + time.perf_counter() - self.started

    def _write(self, state: TrainingState, seconds: float) -> None:
        """Write ``state``'s checkpoint and count it as written once the file is in
        place, even when a Ctrl-C comes between the rename and the end of the write."""
        before = _file_identity(self.path)
        try:
            write_checkpoint(self.path, state, self.fingerprint, self.extra, seconds)
        finally:
            if _file_identity(self.path) != before:  # renamed into place: a new inode
                self.written_epochs, self.written_steps = state.epochs_done, state.steps_done


def history_records(epochs: int, log_every: int, full_batch: bool) -> int:
    """How many records a run of ``epochs`` logs at most: one every ``log_every`` epochs
    and one of its last weights (full batch: before the updates of epochs 1, 1 +
    log_every, ..., and after the last), fewer if early stopping ends it."""
    return math.ceil(epochs / log_every) + full_batch


def _json_ready(extra) -> dict:
    """``extra`` if it is a dict that strict JSON can hold (no NaN, no arrays)."""
    try:
        if not isinstance(extra, dict):
            raise TypeError(f"a {type(extra).__name__}, not a dict")
        json.dumps(extra, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidArgumentError(
            f"checkpoint extra must be a dict of JSON values ({error})"
        ) from None
    return extra


def _file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path``, or None if there is none."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def fingerprint_random_state(rng) -> str:
    """A SHA-256 of a generator's state: taken before a run draws anything, it says
    whether two runs start from the same seed."""
    meta, arrays = _rng_state(rng)
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for array in arrays.values():
        digest.update(array.tobytes())
    return digest.hexdigest()


def fingerprint_data(*arrays: np.ndarray) -> str:
    """A SHA-256 over the shapes, dtypes and bytes of ``arrays``: what identifies the data
    a run was trained on."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.shape}{array.dtype.str}".encode())
        flat = np.ascontiguousarray(array).reshape(-1)
        step = max(1, (1 << 22) // max(1, flat.itemsize))
        for start in range(0, flat.size, step):
            digest.update(flat[start : start + step].tobytes())
    return digest.hexdigest()


# -- the file --------------------------------------------------------------------------------


def write_checkpoint(
    path: Path, state: TrainingState, fingerprint: dict, extra: dict, seconds: float = 0.0
) -> None:
    """Write ``state`` (with the run's ``fingerprint`` and ``extra``, and the training
    ``seconds`` that reached it) to ``path``."""
    rng_meta, rng_arrays = _rng_state(state.rng)
    optimizer_arrays = {k: v for k, v in state.optimizer_state.items() if _is_array(v)}
    scalars = {k: v for k, v in state.optimizer_state.items() if not _is_array(v)}
    arrays = {"parameters": state.parameters.flat, **rng_arrays}
    arrays |= {f"optimizer_{k}": v for k, v in optimizer_arrays.items()}
    if state.best is not None:
        arrays["best"] = state.best.flat
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "fingerprint": fingerprint,
        "extra": extra,
        "widths": list(state.parameters.widths),
        "dtype": state.parameters.flat.dtype.name,
        "epochs_done": state.epochs_done,
        "steps_done": state.steps_done,
        "seconds": seconds,
        "history": state.history.to_dict(),
        "best_loss": state.best_loss if math.isfinite(state.best_loss) else None,
        "records_since_best": state.records_since_best,
        "first_loss": state.first_loss,
        "optimizer": scalars,
        "optimizer_arrays": sorted(optimizer_arrays),
        "rng": rng_meta,
    }
    write_archive(path, meta, arrays)


class Restored:
    """A state read from a checkpoint, with the extra and training seconds stored beside
    it."""

    def __init__(self, state: TrainingState, extra: dict, seconds: float):
        self.state, self.extra, self.seconds = state, extra, seconds


def _is_empty_file(path: Path) -> bool:
    """An empty regular file itself (not a link to one: its target is someone's file)."""
    return not path.is_symlink() and path.is_file() and path.stat().st_size == 0


def _check_is_a_checkpoint(path: Path) -> None:
    """A new run writes its checkpoint over an earlier one only: a file of another kind
    at ``path`` (a saved model given by mistake) is refused, never lost."""
    refuse_special(path, f"checkpoint path {path}")
    try:
        with open_archive(path, "checkpoint") as archive:
            if archive.meta(MAX_META_BYTES).get("format") == FORMAT:
                return
        reason = "not a scratchnet checkpoint"
    except DataFileError as error:
        reason = str(error).removeprefix(f"{path}: ")
    raise InvalidArgumentError(
        f"checkpoint path {path} holds a file that a new run would replace: {reason}; give "
        "the checkpoint another path, or remove the file"
    )


def read_checkpoint_extra(path: str | os.PathLike) -> dict:
    """The ``extra`` metadata of a checkpoint, without reading its arrays."""
    with open_archive(path, "checkpoint") as archive:
        return _extra(archive, _meta(archive))


def read_checkpoint(
    path: Path, fresh: TrainingState, fingerprint: dict, config: TrainingConfig, steps: int
) -> Restored:
    """The state in ``path``, restored into ``fresh`` (same architecture and dtype): its
    parameters are overwritten, its generator set to the stored state. A checkpoint of
    another run (its fingerprint not ``fingerprint``: other options, say another
    optimizer, whose state would not fit) is refused as such before its state is read;
    one whose counters cannot be those of a run of ``config`` with ``steps`` updates an
    epoch, or of its own history, is damaged."""
    with open_archive(path, "checkpoint") as archive:
        meta = _meta(archive)
        stored = meta.get("fingerprint")
        if stored is None or stored == {}:
            raise archive.fail("it holds no fingerprint of its run, so no run can resume it")
        if not isinstance(stored, dict):
            raise archive.fail(f"fingerprint must be an object, got {str(stored)[:20]}")
        _check_same_run(path, stored, fingerprint)
        params = fresh.parameters
        if meta.get("widths") != list(params.widths) or meta.get("dtype") != params.flat.dtype.name:
            raise archive.fail(
                f"the checkpoint is of a network {meta.get('widths')} in {meta.get('dtype')}, "
                f"not {list(params.widths)} in {params.flat.dtype.name}"
            )
        optimizer_arrays = _optimizer_arrays(archive, meta, fresh.optimizer_state)
        expected = {"parameters", *(f"optimizer_{k}" for k in optimizer_arrays)}
        expected |= {"best"} if "best" in archive.members else set()
        expected |= {name for name in archive.members if name.startswith("rng_")}
        archive.expect_members(expected)

        def same_dtype(dtype: np.dtype) -> bool:
            return dtype == params.flat.dtype

        archive.read("parameters", (params.count,), same_dtype, out=params.flat)
        best = None
        if "best" in archive.members:
            best = params.zeros_like()
            archive.read("best", (params.count,), same_dtype, out=best.flat)
        optimizer_state = {
            **_checked_scalars(archive, meta.get("optimizer"), fresh.optimizer_state),
            **{k: archive.read(f"optimizer_{k}", (params.count,), same_dtype)
               for k in optimizer_arrays},
        }  # fmt: skip
        arrays = [params.flat, *([] if best is None else [best.flat]),
                  *(optimizer_state[k] for k in optimizer_arrays)]  # fmt: skip
        if not all(np.isfinite(array).all() for array in arrays):
            raise archive.fail("it holds weights or optimizer state that are not finite")
        _restore_rng(archive, fresh.rng, meta.get("rng"))
        state = TrainingState(
            parameters=params,
            optimizer_state=optimizer_state,
            rng=fresh.rng,
            epochs_done=_count(archive, meta, "epochs_done"),
            steps_done=_count(archive, meta, "steps_done"),
            history=_history(archive, meta.get("history")),
            best=best,
            best_loss=_cost(archive, meta, "best_loss", math.inf),
            records_since_best=_count(archive, meta, "records_since_best"),
            first_loss=_cost(archive, meta, "first_loss", None),
        )
        problem = _progress_inconsistency(state, config, steps)
        if problem:
            raise archive.fail(problem)
    return Restored(state, _extra(archive, meta), _seconds(archive, meta))


def _progress_inconsistency(state: TrainingState, config: TrainingConfig, steps: int) -> str | None:
    """Why ``state``'s counters cannot be those of a run of ``config`` with ``steps``
    updates an epoch (None if they can): at most ``config.epochs`` epochs done, each of
    ``steps`` updates, and a history whose last record is of one of the last
    ``log_every`` epochs (a full-batch run records epoch e - 1 as it starts epoch e)."""
    done = state.epochs_done
    if done > config.epochs:
        return f"epochs_done {done} is past the run's {config.epochs} epochs"
    if state.steps_done != done * steps:
        return f"steps_done {state.steps_done} is not {done} epochs of {steps} updates"
    records = state.history.records
    last = records[-1]["epoch"] if records else 0
    if not done - config.log_every <= last <= done:
        return f"epochs_done {done} disagrees with the history (its last record: epoch {last})"
    return None


def _check_same_run(path: Path, stored: dict, fingerprint: dict) -> None:
    if stored == fingerprint:
        return
    differences = sorted(
        key for key in fingerprint.keys() | stored.keys() if fingerprint.get(key) != stored.get(key)
    )
    raise InvalidArgumentError(
        f"{path}: this checkpoint belongs to another run (it differs in "
        f"{', '.join(differences)}); resume with the same data and options, or start a new run"
    )


def _meta(archive: ArchiveReader) -> dict:
    meta = archive.meta(MAX_META_BYTES)
    if meta.get("format") != FORMAT:
        raise archive.fail("not a scratchnet checkpoint")
    if type(meta.get("version")) is not int or meta["version"] != VERSION:  # not True, 1.0
        raise archive.unsupported_version("checkpoint", meta.get("version"), (VERSION,))
    return meta


def _count(archive: ArchiveReader, meta: dict, key: str) -> int:
    value = meta.get(key)
    if not is_count(value):
        raise archive.fail(f"{key} must be a count, got {str(value)[:20]}")
    return value


def _cost(archive: ArchiveReader, meta: dict, key: str, when_none):
    """A cost the run measured (finite, at least 0: a negative first cost made every
    later one look like divergence), or ``when_none`` where none was."""
    value = meta.get(key)
    if value is None:
        return when_none
    if not (is_number(value) and 0 <= value < math.inf):
        raise archive.fail(f"{key} must be a cost, got {str(value)[:20]}")
    return float(value)


def _extra(archive: ArchiveReader, meta: dict) -> dict:
    """The caller's extra metadata, {} if absent."""
    value = meta.get("extra") or {}
    if not isinstance(value, dict):
        raise archive.fail(f"extra must be an object, got {str(value)[:20]}")
    return value


def _seconds(archive: ArchiveReader, meta: dict) -> float:
    """The stored training seconds (0 in a checkpoint written before they were kept)."""
    value = meta.get("seconds", 0.0)
    seconds = real_number(value) if isinstance(value, (int, float)) else None
    if seconds is None or not 0 <= seconds <= LONGEST_RUN:
        raise archive.fail(f"seconds must be a duration of 0 to {LONGEST_RUN:g}, got "
                           f"{str(value)[:20]}")  # fmt: skip
    return seconds


def _optimizer_arrays(archive: ArchiveReader, meta: dict, fresh: dict) -> list[str]:
    """The names of the optimizer's arrays: those of the run's optimizer (``fresh``, its
    initial state), or the file is another optimizer's, or damaged."""
    names = meta.get("optimizer_arrays") or []
    if not isinstance(names, list) or sorted(map(str, names)) != sorted(
        k for k, v in fresh.items() if _is_array(v)
    ):
        raise archive.fail("the optimizer's arrays are not those of this run's optimizer")
    return names


def _checked_scalars(archive: ArchiveReader, scalars, fresh: dict) -> dict:
    """The optimizer's counters (Adam's step): those of the run's optimizer, counts."""
    counters = sorted(k for k, v in fresh.items() if not _is_array(v))
    if not isinstance(scalars, dict) or sorted(scalars) != counters:
        raise archive.fail("the optimizer's counters are not those of this run's optimizer")
    if not all(map(is_count, scalars.values())):
        raise archive.fail("the optimizer's counters are not counts")
    return scalars


def _history(archive: ArchiveReader, stored) -> History:
    """The run's history, of History.to_dict's form and consistent, or the file is
    damaged (a resumed run would publish it, and its report refuse it)."""
    if not is_history(stored):
        raise archive.fail("the history is missing or damaged")
    problem = history_inconsistency(stored)
    if problem is not None:
        raise archive.fail(f"the history is damaged ({problem})")
    return History(stored["records"], stored["best_epoch"], stored["stopped_early"])


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray)


# -- random generators ------------------------------------------------------------------------


def _rng_state(rng) -> tuple[dict, dict[str, np.ndarray]]:
    """A generator's state as JSON-ready metadata, each of its arrays (MT19937's key,
    Philox's counter, ...) left as None there and kept apart as ``rng_<name>``."""
    return _split_arrays(_state_of(rng))


def _state_of(rng) -> dict:
    if isinstance(rng, np.random.RandomState):
        return rng.get_state(legacy=False)
    return rng.bit_generator.state


def _split_arrays(value, path: tuple[str, ...] = ()) -> tuple[object, dict[str, np.ndarray]]:
    """``value`` with its arrays replaced by None, and those arrays by member name."""
    if isinstance(value, np.ndarray):
        return None, {_rng_member(path): value}
    if not isinstance(value, dict):
        return value, {}
    meta, arrays = {}, {}
    for key, item in value.items():
        meta[key], found = _split_arrays(item, (*path, key))
        arrays |= found
    return meta, arrays


def _rng_member(path: tuple[str, ...]) -> str:
    """The member holding the array at ``path`` in a generator's state: ("state", "key")
    is ``rng_key``, ("buffer",) ``rng_buffer``."""
    return "rng_" + "_".join(path[1:] if path[0] == "state" else path)


def _with_arrays(archive: ArchiveReader, stored, current, path: tuple[str, ...] = ()):
    """``stored`` with its arrays read back, each of the shape and dtype of the array at
    the same place in ``current`` (the state of a generator of the same kind)."""
    if isinstance(current, np.ndarray):
        return archive.read(_rng_member(path), current.shape, lambda dtype: dtype == current.dtype)
    if not (isinstance(current, dict) and isinstance(stored, dict)):
        return stored
    return stored | {key: _with_arrays(archive, stored.get(key), item, (*path, key))
                     for key, item in current.items() if key in stored}  # fmt: skip


def _restore_rng(archive: ArchiveReader, rng, stored) -> None:
    if not isinstance(stored, dict):
        raise archive.fail("the random generator's state is missing")
    current = _state_of(rng)
    try:
        if stored.get("bit_generator") != current["bit_generator"]:
            raise ValueError(f"a {stored.get('bit_generator')} state")
        state = _with_arrays(archive, stored, current)
        if isinstance(rng, np.random.RandomState):
            rng.set_state(state)
        else:
            rng.bit_generator.state = state
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise archive.fail(f"the random generator's state cannot be restored ({error})") from None
