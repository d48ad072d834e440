"""The installed ``scratchnet`` command (and ``python -m scratchnet``): ``cli.main`` run
between two Ctrl-C guards.

This module imports nothing heavy, nor does the package's ``__init__``, so the command
starts in a few milliseconds; NumPy and the rest are imported inside ``entry_point``.
"""

from __future__ import annotations

import contextlib
import os
import sys

from .interrupts import (
    EXIT_BROKEN_PIPE,
    deferred,
    exit_status,
    ignore_stop_signals,
    stop_on_signals,
    stopped_by,
)


def entry_point() -> None:
    """Run the command and exit with its status.

    - Ctrl-C or SIGTERM stops any command: ``main`` says how, with status 130 or 143
      (``serve`` says "stopped", status 0: stopping is how a server ends); one that
      comes while it cleans up is ignored (``interrupts``).
    - One that comes while the command's modules are still being imported (or its
      arguments parsed), before ``main`` handles interruptions itself, ends with the line
      ``scratchnet: interrupted`` (or ``terminated``), not with a traceback from the
      middle of an import.
    - Once ``main`` has returned (or argparse has exited: help, a usage error), the
      command's outcome is printed and its files are complete, but the interpreter still
      has to shut down. A Ctrl-C pressed then would raise KeyboardInterrupt wherever the
      shutdown is: a traceback after the command's output, or an end by SIGINT with no
      line saying why. From that moment SIGINT and SIGTERM are ignored.
    """
    try:
        try:
            stop_on_signals()
            with deferred():
                from .cli import main

            status = main()
        finally:
            ignore_stop_signals()
    except KeyboardInterrupt as interruption:  # before main's own handling, or just after
        print(f"scratchnet: {stopped_by(interruption)}", file=sys.stderr)
        status = exit_status(interruption)
    except SystemExit as leaving:  # argparse's --help, --version and usage errors
        status = leaving.code
    if status == EXIT_BROKEN_PIPE:
        drop_unread_output()
    sys.exit(status)


def drop_unread_output() -> None:
    """Point stdout and stderr at /dev/null once their reader has left: what is still
    buffered for it is dropped, and the interpreter's last flush has nothing to
    complain about. Only here, as the process ends: a program that calls ``cli.main``
    keeps its own descriptors."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # none, or no fd
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
