"""The ``scratchnet`` command: the parser, the dispatch to each command, and the one
place where errors become what a user sees.

A user error (any ScratchnetError: a bad option, missing or damaged data, a diverging
run; or an OSError: a path that cannot be read or written) ends with one line on stderr,
``scratchnet: error: ...``, and exit status 2. Anything else is a bug and keeps its
traceback. Each command lives in its own module under ``commands/``.

``entry_point`` is the installed command (and ``python -m scratchnet``): ``main``, then
the exit with its status, deaf to a Ctrl-C that comes after the command's last line.
"""

from __future__ import annotations

import argparse
import signal
import sys

from .. import __version__
from ..errors import ScratchnetError
from .arguments import error_message
from .commands import evaluate, export, figures, predict, report, serve, train
from .interrupts import Terminated, exit_status

EXIT_USAGE = 2
COMMANDS = (train, evaluate, report, figures, predict, serve, export)


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
    try:
        return args.handler(args)
    except (ScratchnetError, OSError) as error:
        print(f"scratchnet: error: {error_message(error)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as interruption:
        what = "terminated" if isinstance(interruption, Terminated) else "interrupted"
        note = error_message(interruption)
        print(f"scratchnet: {what}" + (f"; {note}" if note else ""), file=sys.stderr)
        return exit_status(interruption)


def entry_point() -> None:
    """Run the command and exit with its status.

    Once ``main`` has returned, the command's outcome is printed and its files are
    complete, but the interpreter still has to shut down. A Ctrl-C pressed then would
    raise KeyboardInterrupt wherever the shutdown is: a traceback after the command's
    output, or an end by SIGINT with no line saying why. From that moment SIGINT is
    ignored.
    """
    status = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)
