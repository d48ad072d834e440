"""Ctrl-C and SIGTERM: both stop a command through KeyboardInterrupt (Terminated for
SIGTERM), so that a run writes its checkpoint and removes what it created before the
process ends; the first one does, and every later one is ignored, so that a second
Ctrl-C cannot cut short the cleaning up the first one started (removing what the run
created, keeping its checkpoint, saying how to go on)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def exit_status(interruption: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(interruption, Terminated) else EXIT_INTERRUPTED


def stopped_by(interruption: KeyboardInterrupt) -> str:
    """How the command says it was stopped: 'terminated' (SIGTERM) or 'interrupted'."""
    return "terminated" if isinstance(interruption, Terminated) else "interrupted"


def stop_at_the_first_signal() -> dict:
    """Make the first Ctrl-C or SIGTERM raise in the main thread and later ones be
    ignored (see the module's text). A signal the process was started ignoring (a
    background job of a script) stays ignored. Returns the handlers replaced."""

    def stop(signum, frame):
        ignore_stop_signals()
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    replaced = {}
    for stopping in STOP_SIGNALS:
        if signal.getsignal(stopping) is not signal.SIG_IGN:
            replaced[stopping] = signal.signal(stopping, stop)
    return replaced


def ignore_stop_signals() -> None:
    for stopping in STOP_SIGNALS:
        signal.signal(stopping, signal.SIG_IGN)


@contextmanager
def stopping_at_the_first_signal() -> Iterator[None]:
    """``stop_at_the_first_signal`` while inside, the earlier handlers back after: for
    ``cli.main`` called in a process of its caller's (in its main thread; a signal
    reaches no other)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    replaced = stop_at_the_first_signal()
    try:
        yield
    finally:
        for stopping, handler in replaced.items():
            signal.signal(stopping, handler)
