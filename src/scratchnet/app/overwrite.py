"""Files written under names the user chose (the tutorial's figures, predict's previews,
ONNX files): one already there is replaced only if scratchnet wrote it, or with --force.

A rerun then replaces its own outputs, and a file of the user's that happens to have the
same name (their own sigmoid.png, another model given as --out) is never lost. What
marks a file as scratchnet's: for a PNG, its ``Software`` text chunk (``PNG_MARK``,
written by ``plots.save`` and ``images.write_mnist_png``) among its first bytes; for an
ONNX model, its producer name, the second field of the file. A symbolic link is never
counted as scratchnet's: writing through it would replace the file it points to; with
--force the link itself is replaced, by a file of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..atomic import SPECIAL_REASON, is_special, open_regular
from ..data.image_files import SOFTWARE
from ..errors import InvalidArgumentError

PNG_MARK = b"tEXtSoftware\x00" + SOFTWARE.encode()
ONNX_MARK = b"\x12" + bytes([len(SOFTWARE)]) + SOFTWARE.encode()  # field 2, its length
HEAD_BYTES = 4096  # where the marks are looked for: text chunks come before the image
FORCE_HELP = (
    "replace files of the same names that carry no scratchnet mark, and links by "
    "files of their own (default: refuse)"
)


def check_replaceable(path: Path, ours: Callable[[bytes], bool], option: str, force: bool) -> None:
    """Refuse to write ``path`` (given as ``option``) over a file scratchnet did not write
    (``ours`` tells from the file's first bytes), unless ``force``; over a device, FIFO
    or socket, even then. With ``force``, a link at ``path`` is removed, so that the file
    written takes its name and the file it pointed to is left as it is."""
    if is_special(path):
        raise InvalidArgumentError(f"{option}: {path}: {SPECIAL_REASON}")
    if force and path.is_symlink():
        path.unlink()
        return
    if force or not os.path.lexists(path):
        return
    if path.is_dir() and not path.is_symlink():
        return  # the writer says that it cannot write a folder
    if path.is_symlink() or not ours(_head(path)):
        raise InvalidArgumentError(
            f"{option}: {path} already exists and carries no scratchnet mark (another "
            "program's file, a link, or one from a scratchnet without the mark); choose "
            "another name, or pass --force to replace it"
        )


def png_is_ours(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n") and PNG_MARK in head


def onnx_is_ours(head: bytes) -> bool:
    return ONNX_MARK in head[:64]


def _head(path: Path) -> bytes:
    """The file's first bytes (none if it cannot be read: not a file of scratchnet's)."""
    try:
        with open_regular(path) as file:
            return file.read(HEAD_BYTES)
    except OSError:
        return b""
