"""Files written under names the user chose (the tutorial's figures, predict's previews,
ONNX files): one already there is replaced only if scratchnet wrote it, or with --force.

A rerun then replaces its own outputs, and a file of the user's that happens to have the
same name (their own sigmoid.png, another model given as --out) is never lost. What
marks a file as scratchnet's: for a PNG, its ``Software`` text chunk (``PNG_MARK``,
written by ``plots.save`` and ``images.write_mnist_png``) among its first bytes; for an
ONNX model, its producer name, the second field of the file; for a run's report, its
title. A symbolic link is never counted as scratchnet's, even with --force: writing
through it would replace the file it points to, and removing it is for its owner to do.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from ..atomic import atomic_write, open_regular, refuse_special
from ..data.image_files import SOFTWARE
from ..errors import InvalidArgumentError
from .interrupts import uninterrupted

PNG_MARK = b"tEXtSoftware\x00" + SOFTWARE.encode()
ONNX_MARK = b"\x12" + bytes([len(SOFTWARE)]) + SOFTWARE.encode()  # field 2, its length
REPORT_MARK = b"<title>scratchnet report: "  # in the head of every report.html written
HEAD_BYTES = 4096  # where the marks are looked for: text chunks come before the image
FORCE_HELP = "replace files of the same names that carry no scratchnet mark (default: refuse)"
FORCE_ONE_HELP = "replace a file at --out that carries no scratchnet mark (default: refuse)"


def check_replaceable(
    path: Path, ours: Callable[[bytes], bool], kind: str, option: str, force: bool
) -> None:
    """Refuse to write ``path`` (given as ``option``) over a file that is not one of the
    ``kind`` of file ("an ONNX model") scratchnet writes there (``ours`` tells from the
    file's first bytes), unless ``force``; over a link, a device, a FIFO or a socket,
    even then (nothing is removed or written here)."""
    if path.is_symlink():
        raise InvalidArgumentError(
            f"{option}: {path} is a link; scratchnet neither writes through a link (it would "
            "replace the file it points to) nor removes it: choose another name, or remove "
            "the link"
        )
    refuse_special(path, f"{option}: {path}")
    if force or not path.is_file():  # (a folder: the writer says it cannot write one)
        return
    if not ours(_head(path)):
        raise InvalidArgumentError(
            f"{option}: {path} already exists and is not {kind} scratchnet wrote (it "
            "carries no mark of one: another program's file, another kind of file, or one "
            "from a scratchnet without the mark); choose another name, or pass --force to "
            "replace it"
        )


def png_is_ours(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n") and PNG_MARK in head


def onnx_is_ours(head: bytes) -> bool:
    return ONNX_MARK in head[:64]


def report_is_ours(head: bytes) -> bool:
    return head.startswith(b"<!doctype html>") and REPORT_MARK in head


MARKED_KINDS = {".png": png_is_ours, ".html": report_is_ours}  # a run's files that carry one


def carries_mark(path: Path) -> bool:
    """Whether the regular file ``path`` is a PNG or a report scratchnet wrote (a file of
    any other kind, or a link, is never counted as scratchnet's)."""
    ours = MARKED_KINDS.get(path.suffix)
    return ours is not None and not path.is_symlink() and ours(_head(path))


def lacks_mark(path: Path) -> bool:
    """Whether ``path`` is a regular file of a kind scratchnet marks (a PNG, a report)
    without the mark: a user's own, or one of a scratchnet from before the marks."""
    return path.suffix in MARKED_KINDS and path.is_file() and not carries_mark(path)


def _head(path: Path) -> bytes:
    """The file's first bytes (none if it cannot be read: not a file of scratchnet's)."""
    try:
        with open_regular(path) as file:
            return file.read(HEAD_BYTES)
    except OSError:
        return b""


def replace_together(files: dict[Path, bytes]) -> None:
    """Write ``files`` (path: bytes) together: each to its temporary file, and only once
    they are all on disk are they renamed into place, the first of them last, so that
    a rename that fails leaves the first as it was; a Ctrl-C during the renames is
    ignored (it comes as the files are in place). A failure before the renames (a
    folder in a file's place, a full disk, a Ctrl-C) leaves every file as it was."""
    with contextlib.ExitStack() as renames:  # each atomic_write renames as it exits
        for path, data in files.items():
            file = renames.enter_context(atomic_write(path))
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        with uninterrupted():
            renames.close()
