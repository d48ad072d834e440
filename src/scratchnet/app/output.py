"""A reader of the output that leaves (``scratchnet train | head -1``): the command goes
on without it, and ends as SIGPIPE ends other tools only once its work is done.

Whether a closed pipe shows at the first line after the reader left or only when a
buffer of them fills depends on buffering (``PYTHONUNBUFFERED``, ``python -u``); a run
must not be lost either way, so every write to stdout that meets the closed pipe is
dropped, and the command says afterwards that the reader left.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class _ReaderMayLeave:
    """stdout, whose writes and flushes after the reader left are dropped."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.reader_left = False

    def write(self, text: str) -> int:
        if not self.reader_left:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self.reader_left = True
        return len(text)

    def flush(self) -> None:
        if not self.reader_left:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.reader_left = True

    def __getattr__(self, name: str):  # isatty, fileno, encoding: the stream's
        return getattr(self.stream, name)


@contextmanager
def finishing_without_the_reader() -> Iterator[None]:
    """Run the block with stdout's closed pipe dropped; if the reader left, raise
    BrokenPipeError after the block (the command line ends with status 141)."""
    if sys.stdout is None:  # started with stdout closed: nothing to guard
        yield
        return
    guarded = _ReaderMayLeave(sys.stdout)
    sys.stdout = guarded
    try:
        yield
    finally:
        sys.stdout = guarded.stream
    if guarded.reader_left:
        raise BrokenPipeError(errno.EPIPE, "the reader of the output left")
