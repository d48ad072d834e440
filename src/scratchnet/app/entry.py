"""The installed ``scratchnet`` command (and ``python -m scratchnet``): ``cli.main`` run
between two Ctrl-C guards.

This module imports nothing heavy, nor does the package's ``__init__``, so the command
starts in a few milliseconds; NumPy and the rest are imported inside ``entry_point``.
"""

from __future__ import annotations

import signal
import sys

from .interrupts import Terminated, exit_status, stop_at_the_first_signal


def entry_point() -> None:
    """Run the command and exit with its status.

    - The first Ctrl-C or SIGTERM stops any command (``main`` says how, status 130 or
      143); later ones are ignored while it cleans up (``stop_at_the_first_signal``).
    - One that comes while the command's modules are still being imported (or its
      arguments parsed), before ``main`` handles interruptions itself, ends with the line
      ``scratchnet: interrupted`` (or ``terminated``), not with a traceback from the
      middle of an import.
    - Once ``main`` has returned, the command's outcome is printed and its files are
      complete, but the interpreter still has to shut down. A Ctrl-C pressed then would
      raise KeyboardInterrupt wherever the shutdown is: a traceback after the command's
      output, or an end by SIGINT with no line saying why. From that moment SIGINT and
      SIGTERM are ignored.
    """
    stop_at_the_first_signal()
    try:
        from .cli import main

        status = main()
    except KeyboardInterrupt as interruption:
        what = "terminated" if isinstance(interruption, Terminated) else "interrupted"
        print(f"scratchnet: {what}", file=sys.stderr)
        status = exit_status(interruption)
    for stopping in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stopping, signal.SIG_IGN)
    sys.exit(status)
