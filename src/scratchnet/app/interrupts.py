"""SIGTERM handled like Ctrl-C: both stop a command through KeyboardInterrupt, so that a
run writes its checkpoint and removes what it created before the process ends."""

from __future__ import annotations

import signal

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def exit_status(interruption: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(interruption, Terminated) else EXIT_INTERRUPTED


def stop_at_the_first_signal() -> None:
    """For the command's process: the first Ctrl-C (SIGINT) or SIGTERM raises
    KeyboardInterrupt (Terminated for SIGTERM) in the main thread, and every later one
    is ignored, so that a second Ctrl-C cannot cut short the cleaning up the first one
    started (removing what the run created, keeping its checkpoint, saying how to go on).
    """

    def stop(signum, frame):
        for stopping in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stopping, signal.SIG_IGN)
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    for stopping in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stopping, stop)
