"""The output folder of a run, kept so that nothing in it is ever lost.

- A run takes the folder with a lock file (``.scratchnet.lock``, holding its pid and
  host); a second run into a folder whose lock belongs to a live process is refused, a
  lock left by a dead one is taken over and reported.
- A run writes its files into a staging folder inside the output folder (same file
  system, same permissions), then moves each into place with an atomic rename; a failure
  before that leaves the folder as it was.
- A run removes only what it created: its staging folder, its lock, its checkpoint, and
  the output folder itself if it created it and it is empty. Leftovers of a killed run
  (staging folders, temporary files of an atomic write) are removed by the next run into
  the folder, which says so.
- A folder that already holds files is refused unless ``force`` (its files are then
  replaced one by one as the new ones are published; nothing else is touched) or it is
  the folder of the run being resumed.
- Write permission and free space are checked when the folder is taken, before training.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
from datetime import datetime
from pathlib import Path

from ..errors import InvalidArgumentError

LOCK = ".scratchnet.lock"
STAGING_PREFIX = ".staging-"
CHECKPOINT = "checkpoint.npz"
# the temporary files atomic_write leaves behind when its process is killed
ATOMIC_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")


class RunFolderError(InvalidArgumentError):
    """The output folder cannot be used: in use, not a folder, not writable, full."""


class RunFolder:
    """A claimed output folder; ``publish`` moves staged files in, ``release`` lets go
    after success, ``abandon`` after a failure. Use ``claim``."""

    def __init__(self, path: Path, created: list[Path], notes: list[str]):
        self.path = path
        self.created = created  # folders this run made, deepest last
        self.notes = notes  # what the claim found and did (stale locks, leftovers)
        self.staging = path / f"{STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.staging.mkdir()

    @classmethod
    def claim(
        cls, out: Path | None, force: bool = False, resume: bool = False, need_bytes: int = 0
    ) -> RunFolder:
        """Take ``out`` (default: a new timestamped folder under ./runs) for a run that
        will write about ``need_bytes``."""
        out, created = _make_folder(out)
        locked = False
        try:
            notes = _lock(out)
            locked = True
            notes += _clean_leftovers(out)
            if not (force or resume):
                _refuse_results(out)
            _check_space(out, need_bytes)
            return cls(out, created, notes)
        except BaseException:
            if locked:
                (out / LOCK).unlink(missing_ok=True)
            _remove_empty(created)
            raise

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT

    def publish(self) -> None:
        """Move every staged file into the folder, each with an atomic rename."""
        for file in sorted(self.staging.iterdir()):
            os.replace(file, self.path / file.name)

    def release(self) -> None:
        """After success: remove the staging folder, the checkpoint and the lock."""
        shutil.rmtree(self.staging, ignore_errors=True)
        self.checkpoint.unlink(missing_ok=True)
        (self.path / LOCK).unlink(missing_ok=True)

    def abandon(self, keep_checkpoint: bool) -> None:
        """After a failure: remove what this run made (keeping its checkpoint when asked,
        so the run can be resumed) and nothing else."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if not keep_checkpoint:
            self.checkpoint.unlink(missing_ok=True)
        (self.path / LOCK).unlink(missing_ok=True)
        _remove_empty(self.created)


def _make_folder(out: Path | None) -> tuple[Path, list[Path]]:
    """The output folder, created with any missing parents (listed, to undo)."""
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out, suffix = Path("runs") / stamp, 1
        while out.exists():
            suffix += 1
            out = Path("runs") / f"{stamp}-{suffix}"
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--out {out} is a file, not a folder; choose a folder")
    missing = [folder for folder in [out, *out.parents] if not folder.exists()][::-1]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _remove_empty(missing)
        raise RunFolderError(
            f"cannot create the output folder {out} ({error.strerror or error})"
        ) from None
    return out, missing


def _lock(out: Path) -> list[str]:
    """Create the lock file; a lock of a live process refuses, a stale one is taken."""
    notes = []
    for _ in range(2):
        try:
            descriptor = os.open(out / LOCK, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _read_lock(out / LOCK)
            if owner is None or _alive(*owner):
                pid = "another process" if owner is None else f"process {owner[0]} on {owner[1]}"
                raise RunFolderError(
                    f"{out} is in use by a run of {pid} (lock {out / LOCK}); wait for it, or "
                    "choose another --out"
                ) from None
            stale = out / f"{LOCK}.stale-{secrets.token_hex(4)}"
            os.replace(out / LOCK, stale)  # only one claimant wins this rename
            stale.unlink(missing_ok=True)
            notes.append(f"took over the lock of a run that is gone (process {owner[0]})")
            continue
        except PermissionError:
            raise RunFolderError(f"cannot write into {out}: permission denied") from None
        with os.fdopen(descriptor, "w") as file:
            file.write(f"{os.getpid()} {socket.gethostname()}\n")
        return notes
    raise RunFolderError(f"{out} is in use by another run (its lock keeps changing)")


def _read_lock(path: Path) -> tuple[int, str] | None:
    try:
        pid, host = path.read_text().split()
        return int(pid), host
    except (OSError, ValueError):
        return None


def _alive(pid: int, host: str) -> bool:
    """Whether the lock's owner runs (a lock from another host counts as alive)."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_leftovers(out: Path) -> list[str]:
    """Remove the staging folders and temporary files of runs that were killed (the
    lock is ours, so no live run owns them)."""
    removed = []
    for entry in out.iterdir():
        if entry.is_dir() and entry.name.startswith(STAGING_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
        elif entry.is_file() and ATOMIC_TEMPORARY.match(entry.name):
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
    if not removed:
        return []
    return [f"removed what an interrupted run left behind: {', '.join(sorted(removed))}"]


def _refuse_results(out: Path) -> None:
    """A folder holding anything but this run's lock is someone's work."""
    present = sorted(entry.name for entry in out.iterdir() if entry.name != LOCK)
    if present:
        shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
        raise RunFolderError(
            f"--out {out} already holds files ({shown}); choose an empty or new folder, "
            "or add --force to replace the run files in it"
        )


def _check_space(out: Path, need_bytes: int) -> None:
    free = shutil.disk_usage(out).free
    if need_bytes > free:
        raise RunFolderError(
            f"{out} has {free / 2**20:.1f} MiB free, the run needs about "
            f"{need_bytes / 2**20:.1f} MiB"
        )


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders (deepest first) that are empty; keep any that hold anything."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return
