"""Training beside a busy process: the 784-256-10 Adam epoch while another process keeps
one core fully busy (as a browser or an IDE would), against the same epoch idle."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

from .minibatch import epoch_seconds

BUSY_LOOP = "while True: pass"


@contextmanager
def busy_core():
    """A process spinning on one core for as long as the block runs."""
    spinner = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def busy_epoch_seconds(impl: str, hidden: list[int], epochs: int, busy: bool, threads: int):
    """Seconds per epoch (median after a warm-up epoch), with or without a busy core."""
    if not busy:
        return epoch_seconds(impl, hidden, epochs, threads)
    with busy_core():
        return epoch_seconds(impl, hidden, epochs, threads)
