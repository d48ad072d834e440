"""A run folder's lock: the exclusive claim of one process on it, taken by a run for as
long as it lives and by ``scratchnet report`` while it builds (see run_folder.py)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

from ..atomic import system_reason
from ..errors import InvalidArgumentError
from .interrupts import uninterrupted

LOCK = ".scratchnet.lock"


class RunFolderError(InvalidArgumentError):
    """The output folder cannot be used: in use, not a folder, not writable, full."""


class FolderLock:
    """The exclusive claim of a run on its folder: ``.scratchnet.lock``, held with flock
    for as long as the run lives and saying which process holds it. The kernel drops a
    flock when its process ends, however it ends, so the lock of a killed run is free
    again at once (no guessing from process ids), and two runs can never both hold it."""

    def __init__(self, folder: Path):
        self.folder, self.path = folder, folder / LOCK
        self.descriptor: int | None = None

    def acquire(
        self,
        on_busy: Callable[[str], object] | None = None,
        what_to_do: str = "wait for it, or choose another --out",
    ) -> list[str]:
        """Take the lock (notes: whether a process that is gone had left it behind), or
        refuse it while another process holds it, saying ``what_to_do``; with
        ``on_busy``, tell it who holds it (once), then wait (as long as it takes)."""
        changes = 0  # lock files replaced under us without our waiting for them
        told = False
        while changes < 3:
            try:  # never through a link: the lock's text would overwrite its target
                descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError as error:  # no permission, a read-only file system, ...
                if told and isinstance(error, FileNotFoundError):  # the process waited for
                    self.folder.mkdir(parents=True, exist_ok=True)  # made the folder, and
                    continue  # removed it as it gave up
                raise self._unusable(error) from None
            problem = _not_a_lock_file(os.fstat(descriptor))
            if problem is not None:
                os.close(descriptor)
                raise RunFolderError(
                    f"{self.path} is not scratchnet's lock file ({problem}): move it away"
                )
            waited = False
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                who = _holder(descriptor)
                if on_busy is None:
                    os.close(descriptor)
                    raise RunFolderError(
                        f"{self.folder} is in use by {who} (lock {self.path}); {what_to_do}"
                    ) from None
                if not told:
                    on_busy(who)
                    told = True
                _wait_for_lock(descriptor)
                waited = True
            if not self._still_the_file(descriptor):  # its holder removed it meanwhile
                os.close(descriptor)
                changes += 0 if waited else 1
                continue
            previous = os.pread(descriptor, 200, 0).decode(errors="replace").split()
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
            self.descriptor = descriptor
            if previous:
                return [f"took over the lock of a scratchnet that is gone (process {previous[0]})"]
            return []
        raise RunFolderError(
            f"{self.folder} is in use by another scratchnet (its lock keeps changing)"
        )

    def release(self) -> None:
        """Remove the lock file, then let go of the lock. A lock file that cannot be
        removed (the folder made read-only meanwhile) stays: free once closed, the next
        run takes it over and says so; the error that ended the run is what matters."""
        with uninterrupted():
            if self.descriptor is not None:
                with contextlib.suppress(OSError):
                    self.path.unlink(missing_ok=True)
                os.close(self.descriptor)
                self.descriptor = None

    def _unusable(self, error: OSError) -> RunFolderError:
        if error.errno == errno.ELOOP:
            return RunFolderError(
                f"{self.path} is a symbolic link, not scratchnet's lock file: remove it"
            )
        return RunFolderError(f"cannot write into {self.folder}: {system_reason(error)}")

    def _still_the_file(self, descriptor: int) -> bool:
        try:
            return os.fstat(descriptor).st_ino == os.lstat(self.path).st_ino
        except FileNotFoundError:
            return False


def _not_a_lock_file(status: os.stat_result) -> str | None:
    """Why a file at the lock's name cannot be the lock (None: it can): writing the
    lock's text would change a file elsewhere (a hard link's other names) or nothing."""
    if not stat.S_ISREG(status.st_mode):
        return "a fifo or other special file"
    if status.st_nlink > 1:
        return "a file with other names, hard links, that writing the lock would change"
    return None


def _holder(descriptor: int) -> str:
    """Who holds the lock, as its file says: 'scratchnet process N on HOST'."""
    owner = os.pread(descriptor, 200, 0).decode(errors="replace").split()
    return (
        f"scratchnet process {owner[0]} on {owner[1]}" if len(owner) == 2 else "another scratchnet"
    )


def _wait_for_lock(descriptor: int) -> None:
    """Block until the lock is ours (a Ctrl-C still stops the wait)."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    except BaseException:
        os.close(descriptor)
        raise
