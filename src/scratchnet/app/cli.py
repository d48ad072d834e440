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
import difflib
import sys

from .. import __version__
from ..errors import ScratchnetError
from ..nn.parallel import default_threads
from .arguments import error_message
from .commands import evaluate, export, figures, predict, report, serve, train
from .interrupts import (
    EXIT_BROKEN_PIPE,
    decided,
    exit_status,
    raise_lost_stop,
    stopped_by,
    stopping_on_signals,
    uninterrupted,
)
from .output import messages_may_be_lost, output_named

EXIT_USAGE = 2
COMMANDS = (train, evaluate, report, figures, predict, serve, export)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), exit status 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"scratchnet: error: {message} (see {self.prog} --help)\n")


class CommandParser(Parser):
    """A command's parser refuses what it does not know itself, naming the option it
    comes closest to, and its own --help (argparse leaves unknown words to the top
    parser, whose --help does not list the command's options)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, unknown = super().parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}{self._closest(unknown)}")
        return namespace, unknown

    def _closest(self, words: list[str]) -> str:
        """'; did you mean --learning-rate?' for the first option-like word that is close
        to one of the command's options."""
        options = [option for action in self._actions for option in action.option_strings]
        for word in words:
            if word.startswith("--"):
                close = difflib.get_close_matches(word.split("=")[0], options, n=1, cutoff=0.75)
                if close:
                    return f"; did you mean {close[0]}?"
        return ""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="scratchnet",
        description="A neural network from scratch in NumPy: MNIST digits, end to end.",
    )
    parser.add_argument("--version", action="version", version=f"scratchnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    answers_on_stdout = getattr(args, "answers_on_stdout", False)
    with stopping_on_signals(), messages_may_be_lost(), output_named(answers_on_stdout):
        try:
            default_threads()  # a bad SCRATCHNET_THREADS is said before any work (a server
            # would fail every prediction)
            status = args.handler(args)
            if sys.stdout is not None:  # (None when started with stdout closed)
                sys.stdout.flush()  # a reader that left shows here, not at the exit
            raise_lost_stop()  # one Python swallowed as the command ended stops it still
            return status
        except BrokenPipeError:  # the reader of the output left (| head): end quietly,
            decided()  # as SIGPIPE ends other tools
            return EXIT_BROKEN_PIPE
        except (ScratchnetError, OSError) as error:
            decided()  # its one line is the last: no stop adds another
            with uninterrupted():
                print(f"scratchnet: error: {error_message(error)}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt as interruption:
            decided()  # (a later stop is the same request, or one already answered)
            with uninterrupted():
                note = error_message(interruption)
                print(f"scratchnet: {stopped_by(interruption)}" + (f"; {note}" if note else ""),
                      file=sys.stderr)  # fmt: skip
            return exit_status(interruption)
