"""The installed ``scratchnet`` command (and ``python -m scratchnet``): ``cli.main`` run
between two Ctrl-C guards.

This module imports nothing heavy, nor does the package's ``__init__``, so the command
starts in a few milliseconds; NumPy and the rest are imported inside ``entry_point``.
"""

from __future__ import annotations

import signal
import sys

from .interrupts import EXIT_INTERRUPTED


def entry_point() -> None:
    """Run the command and exit with its status.

    - A Ctrl-C while the command's modules are still being imported (or its arguments
      parsed), before ``main`` handles interruptions itself, ends with the line
      ``scratchnet: interrupted`` and status 130, not with a traceback from the middle of
      an import.
    - Once ``main`` has returned, the command's outcome is printed and its files are
      complete, but the interpreter still has to shut down. A Ctrl-C pressed then would
      raise KeyboardInterrupt wherever the shutdown is: a traceback after the command's
      output, or an end by SIGINT with no line saying why. From that moment SIGINT is
      ignored.
    """
    try:
        from .cli import main

        status = main()
    except KeyboardInterrupt:
        print("scratchnet: interrupted", file=sys.stderr)
        status = EXIT_INTERRUPTED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)
