"""Output that cannot be written.

- A reader of the output that leaves (``scratchnet train | head -1``): the command goes
  on without it, and ends as SIGPIPE ends other tools only once its work is done.
  Whether a closed pipe shows at the first line after the reader left or only when a
  buffer of them fills depends on buffering (``PYTHONUNBUFFERED``, ``python -u``); a
  run must not be lost either way, so every write to stdout that meets the closed pipe
  is dropped, and the command says afterwards that the reader left.
- Messages on stderr that cannot be written (a log redirected to a full disk, stderr
  closed: ``2>&-``) are lost, not the run (``messages_may_be_lost``).
- Output that cannot be written otherwise (``> file`` on a full disk) stops the
  command with an error that names stdout (``output_named``), not the disk of its files;
  so does the first line of a command whose answer is its output (predict, evaluate)
  when stdout was closed from the start (``>&-``), as with ``ls``: it must not end with
  status 0 and nothing said. The others (train, report, figures, export: their work is
  their files; serve: its work is its answers) run without printing, as they always did.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TextIO

STDOUT = "the command's output (stdout)"


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


class _MessagesMayBeLost:
    """stderr (or None, when the process started with it closed), whose writes and
    flushes that fail are dropped."""

    def __init__(self, stream: TextIO | None):
        self.stream = stream

    def write(self, text: str) -> int:
        with suppress(OSError, ValueError):  # ValueError: the file was closed
            if self.stream is not None:
                self.stream.write(text)
        return len(text)

    def flush(self) -> None:
        with suppress(OSError, ValueError):
            if self.stream is not None:
                self.stream.flush()

    def isatty(self) -> bool:
        return self.stream is not None and self.stream.isatty()

    def __getattr__(self, name: str):  # fileno, encoding: the stream's
        return getattr(self.stream, name)


@contextmanager
def messages_may_be_lost() -> Iterator[None]:
    """Run the block with stderr's failing writes dropped: progress, notes and errors
    that cannot be shown are lost, and the command goes on (its exit status still says
    how it ended)."""
    original = sys.stderr
    sys.stderr = _MessagesMayBeLost(original)
    try:
        yield
    finally:
        sys.stderr = original


class _NamedOutput:
    """stdout, whose failures but a closed pipe name it: "the command's output (stdout):
    No space left on device", not a bare "No space left on device"."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        with _naming():
            return self.stream.write(text)

    def flush(self) -> None:
        with _naming():
            self.stream.flush()

    def __getattr__(self, name: str):  # isatty, fileno, encoding: the stream's
        return getattr(self.stream, name)


class _ClosedOutput:
    """The stdout of a process started without one: each write fails, naming it."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "closed since the command started", STDOUT)

    def flush(self) -> None:
        """Nothing was written: nothing is lost."""

    def isatty(self) -> bool:
        return False


@contextmanager
def _naming() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise  # the reader left: the command ends quietly
    except OSError as error:
        raise OSError(error.errno, error.strerror, STDOUT) from None


@contextmanager
def output_named(answers_on_stdout: bool = False) -> Iterator[None]:
    """Run the block with stdout's failures naming it; for a command whose answer is its
    output, a stdout closed from the start fails as its first line is written."""
    original = sys.stdout
    if original is not None:
        sys.stdout = _NamedOutput(original)
    elif answers_on_stdout:
        sys.stdout = _ClosedOutput()
    try:
        yield
    finally:
        sys.stdout = original
