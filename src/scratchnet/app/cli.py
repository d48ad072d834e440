"""The ``scratchnet`` command: the parser, the dispatch to each command, and the one
place where errors become what a user sees.

A user error (any ScratchnetError: a bad option, missing or damaged data, a diverging
run; or an OSError: a path that cannot be read or written) ends with one line on stderr,
``scratchnet: error: ...``, and exit status 2. Anything else is a bug and keeps its
traceback. A reader of its output that leaves (``| head``) ends it quietly with status
141, as SIGPIPE ends other tools. Each command lives in its own module under
``commands/``; the installed command runs ``main`` through ``entry.entry_point``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys

from .. import __version__
from ..errors import ScratchnetError
from .arguments import error_message
from .commands import evaluate, export, figures, predict, report, serve, train
from .interrupts import exit_status, stopped_by, stopping_on_signals, uninterrupted

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
COMMANDS = (train, evaluate, report, figures, predict, serve, export)


def output_lost() -> int:
    """The reader of the output left (``scratchnet evaluate | head``): end quietly, with
    the status of a command that SIGPIPE ended, as other tools do. What is still
    buffered for that reader goes to /dev/null, so the interpreter has nothing to
    complain about when it flushes at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a stream without a descriptor
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), exit status 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"scratchnet: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="scratchnet",
        description="A neural network from scratch in NumPy: MNIST digits, end to end.",
    )
    parser.add_argument("--version", action="version", version=f"scratchnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with stopping_on_signals():
        try:
            status = args.handler(args)
            sys.stdout.flush()  # a reader that left shows here, not as the interpreter exits
            return status
        except BrokenPipeError:
            return output_lost()
        except (ScratchnetError, OSError) as error:
            with uninterrupted():
                print(f"scratchnet: error: {error_message(error)}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt as interruption:
            with uninterrupted():
                note = error_message(interruption)
                print(f"scratchnet: {stopped_by(interruption)}" + (f"; {note}" if note else ""),
                      file=sys.stderr)  # fmt: skip
            return exit_status(interruption)
