"""Files on disk: written so that a reader never sees half of one (temporary file, then
rename), and read only when they are regular files (a FIFO would block, a device never
end)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidArgumentError

try:
    import fcntl
except ImportError:  # Windows: no locks on temporary files, and no sweep of them
    fcntl = None

NUL_REASON = "a path cannot hold a NUL character"
SPECIAL_REASON = "it is a device, a FIFO or a socket, not a regular file"
SEPARATORS = tuple(filter(None, (os.sep, os.altsep)))
TEMPORARY = re.compile(r"^\..+\.scratchnet-[0-9a-f]{8}\.tmp$")
LEFTOVER_AGE = 2.0  # seconds since a temporary file last changed before it may be a leftover


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only if the block completes.

    The temporary file sits beside the file it replaces (same file system, so the rename
    is atomic), is named ``.<name>.scratchnet-<8 hex>.tmp`` and locked (flock, where the
    file system has it) until it is renamed, so that a later run into a run folder can
    tell the leftover of a killed writer, which it removes, from the file of one still
    writing (``is_leftover_temporary``), and is created with ordinary permissions (the
    umask applies), or those of the file it replaces. A symbolic link stays: the file it
    points to is the one replaced. A device, FIFO or socket is never replaced (OSError):
    the rename would put a plain file in its place (``--out /dev/null`` run as root would
    lose the system's /dev/null). Its bytes reach the disk before the rename, and the
    rename before return, so a power cut leaves either the old file or the whole new one.
    """
    if _holds_nul(path):
        raise _cannot_write(errno.EINVAL, path, NUL_REASON)
    if not os.fspath(path):  # Path("") is the current folder
        raise _cannot_write(errno.ENOENT, "an empty path", "no file name")
    given, path = path, Path(path)
    if path.name in ("", "..") or path.is_dir():  # '.', '/', '..': a folder has no file name
        raise _cannot_write(errno.EISDIR, path, "it is a folder")
    if os.fsdecode(given).endswith(SEPARATORS):  # which Path drops: 'e.onnx/' is not e.onnx
        raise _cannot_write(errno.EISDIR, given, "a name ending in a separator is a folder's")
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if is_special(target):
        raise _cannot_write(errno.EINVAL, path, SPECIAL_REASON)
    temporary = target.with_name(f".{target.name}.scratchnet-{secrets.token_hex(4)}.tmp")
    renamed = False
    try:
        with open(temporary, "xb") as file:
            _lock(file)  # let go when closed (after the rename), or killed
            _keep_permissions_of(target, file)
            yield file
            file.flush()
            os.fsync(file.fileno())
            os.replace(temporary, target)
            renamed = True
    except OSError as error:
        if renamed:  # closing failed after the rename: the new file is in place, whole
            _sync_folder(target.parent)
            return
        _remove(temporary)
        if error.errno is None or getattr(error, "names_its_file", False):
            raise  # not the system's (raised by the caller's block), or named already (by
            # another atomic_write inside this one's block): not this file's to name
        raise _cannot_write(error.errno, path, _reason(error, target)) from error
    except BaseException:
        _remove(temporary)
        raise
    _sync_folder(target.parent)


def _lock(file: BinaryIO) -> None:
    """Lock the temporary file while it is open, where the system and the file system
    can (not on Windows; not on an NFS mount without locks: its leftovers then stay)."""
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(file.fileno(), fcntl.LOCK_EX)


def is_leftover_temporary(path: Path) -> bool:
    """Whether ``path`` is an atomic_write's temporary file whose writer is gone (killed
    before it could remove it): named so, a regular file LEFTOVER_AGE seconds old (a
    writer may have created it and not yet locked it), and not locked. The lock, unlike
    a process id in the name, holds across process namespaces and reused ids; where it
    cannot be taken or tested, the file is not judged a leftover."""
    if TEMPORARY.match(path.name) is None or fcntl is None:
        return False
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # gone, or a link: not a leftover of ours
        return False
    try:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode) or time.time() - found.st_mtime < LEFTOVER_AGE:
            return False
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)  # (shared: read access will do)
        return True
    except OSError:  # BlockingIOError: its writer holds it; else locks cannot tell
        return False
    finally:
        os.close(descriptor)


def _cannot_write(number: int, path: str | os.PathLike, reason: str) -> OSError:
    """OSError "cannot write PATH (REASON)", of the subclass ``number`` calls for
    (FileNotFoundError, ...), marked as naming its file: an atomic_write around the
    one that raised it passes it on as it is."""
    error = OSError(number, f"cannot write {os.fsdecode(path)} ({reason})")
    error.names_its_file = True
    return error


def is_special(path: str | os.PathLike) -> bool:
    """Whether ``path`` is there and is neither a regular file nor a folder."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def refuse_special(path: str | os.PathLike, named: str) -> None:
    """Refuse (InvalidArgumentError, beginning with ``named``) to read or replace a
    device, a FIFO or a socket at ``path``: a FIFO would block, a device never end."""
    if is_special(path):
        raise InvalidArgumentError(f"{named}: {SPECIAL_REASON}")


def _holds_nul(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a NUL character, which the system calls refuse with a
    ValueError rather than an OSError."""
    return "\0" in os.fsdecode(path)


def _keep_permissions_of(replaced: Path, file: BinaryIO) -> None:
    """Give the new file the read, write and execute bits of the file it replaces, if
    there is one (not its set-user-ID and other special bits)."""
    try:
        mode = os.stat(replaced).st_mode & 0o777
    except FileNotFoundError:
        return
    os.fchmod(file.fileno(), mode)


def _remove(temporary: Path) -> None:
    """Remove the temporary file, if there is one and the folder lets us (a read-only
    file system refuses even to remove what is not there; a leftover is removed by the
    next run into the folder)."""
    with contextlib.suppress(OSError):
        temporary.unlink(missing_ok=True)


def _reason(error: OSError, path: Path) -> str:
    """Why ``path`` could not be written, in the user's terms (never the temporary's
    name). OSError(errno, ...) above is the same subclass (FileNotFoundError, ...)."""
    if isinstance(error, IsADirectoryError):
        return "it is a folder"
    if isinstance(error, FileNotFoundError) and not path.parent.is_dir():
        return f"its folder {path.parent} does not exist"
    if isinstance(error, NotADirectoryError):
        return f"a part of {path.parent} is a file, not a folder"
    return system_reason(error)


def system_reason(error: OSError) -> str:
    """The system's reason for ``error`` as a phrase: 'read-only file system'."""
    return (error.strerror or str(error)).lower()


def _sync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (where the platform allows it)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """``path`` opened for reading in binary, as ``open`` would (IsADirectoryError for
    a folder); OSError "not a regular file" for a FIFO, a device or a socket, found
    without blocking on it; OSError, not ValueError, for a path holding a NUL character."""
    if _holds_nul(path):
        raise OSError(errno.EINVAL, NUL_REASON, os.fspath(path))
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
