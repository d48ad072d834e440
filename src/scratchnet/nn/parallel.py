"""Work cut into a fixed number of parts and run side by side on a small team of threads.

A chunk of rows is cut into PARTS row ranges (``parts_of``), or left whole when its parts
would have too few rows or too little work for a second thread to pay; each part goes
through the network in its own rows of the buffers, with BLAS kept to one thread, and
the parts' results are added in a fixed order. NumPy releases the GIL in its products
and in its loops over large arrays, so the parts run in parallel. Two promises follow
from cutting by shape alone (the chunk's and the network's), never by the number of
threads:

- the same bits however many threads run the parts (one, two, or what a busy machine
  leaves): every part is the same single-threaded computation either way;
- no stall on a busy machine: a thread the system pauses delays only its own part, where
  a team of BLAS threads waits for its slowest member at every barrier of every product.

The caller keeps BLAS itself to one thread while a team is in use (the training loop and
prediction do, with threadpoolctl).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from ..errors import InvalidArgumentError

PARTS = 2  # the parts a chunk is cut into: fixed, so the bits never depend on threads
MIN_PART_ROWS = 32  # a chunk with fewer rows per part is not cut
MIN_PART_WORK = 1 << 24  # nor one whose parts would do fewer multiply-adds: handing a part
# over and sharing the interpreter cost more than the second thread saves (784-64-10, batch
# 128: 0.61 ms a step on one thread, 0.70 ms in two parts; 784-256-10: 1.91 and 1.58 ms)
MIN_SPLIT_ELEMENTS = 1 << 17  # a smaller flat range is updated by one thread: handing
# half of it to a second costs more than it saves (one-two-fast: 0.64 s split, 0.44 s not)


def parts_of(rows: int, min_rows: int = MIN_PART_ROWS) -> list[slice]:
    """The fixed row ranges a chunk of ``rows`` rows is cut into, none under ``min_rows``."""
    n = PARTS if rows >= PARTS * min_rows else 1
    bounds = [rows * k // n for k in range(n + 1)]
    return [slice(start, stop) for start, stop in pairwise(bounds)]


def fewest_part_rows(work_per_row: int) -> int:
    """The fewest rows worth a part, max(MIN_PART_ROWS, ceil(MIN_PART_WORK / work_per_row)):
    enough rows of ``work_per_row`` multiply-adds each to make MIN_PART_WORK."""
    return max(MIN_PART_ROWS, -(-MIN_PART_WORK // max(work_per_row, 1)))


def halves(n: int) -> list[slice]:
    """A flat range of n elements cut into PARTS pieces (for whole-array updates), or
    left whole when it is too small for a second thread to pay."""
    if n < MIN_SPLIT_ELEMENTS:
        return [slice(0, n)]
    bounds = [n * k // PARTS for k in range(PARTS + 1)]
    return [slice(start, stop) for start, stop in pairwise(bounds)]


def default_threads() -> int:
    """$SCRATCHNET_THREADS if set and not empty (InvalidArgumentError unless a whole
    number of at least 1: a typo must not pass for the default), else the cores this
    process may use, at most PARTS."""
    configured = os.environ.get("SCRATCHNET_THREADS")
    if configured:
        return _configured_threads(configured)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(PARTS, cores))


def _configured_threads(text: str) -> int:
    """The number $SCRATCHNET_THREADS holds (InvalidArgumentError if it is none)."""
    try:
        threads = int(text) if text.isascii() and text.isdigit() else 0
    except ValueError:  # over Python's limit of digits for int(): no number of threads
        threads = 0
    if threads < 1:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise InvalidArgumentError(
            f"SCRATCHNET_THREADS must be a whole number of at least 1, got {shown!r}"
        )
    return threads


class Team:
    """``threads`` threads: the caller and ``threads - 1`` workers that wait for tasks.

    ``run(tasks)`` runs the first task in the calling thread and each other in a worker
    (or, with fewer workers, the rest in the calling thread after it), and returns their
    results in order. Workers are daemon threads, started when first needed; ``close``
    stops them.
    """

    def __init__(self, threads: int | None = None):
        self.threads = default_threads() if threads is None else max(1, threads)
        self.workers: list[_Worker] = []  # started when first needed

    def run(self, tasks: Sequence[Callable[[], object]]) -> list:
        wanted = min(len(tasks), self.threads) - 1
        while len(self.workers) < wanted:
            self.workers.append(_Worker())
        handed = list(zip(self.workers, tasks[1:], strict=False))
        errors = np.geterr()  # NumPy's error handling is per thread: workers take the caller's
        for worker, task in handed:
            worker.start(_with_errors(task, errors))
        try:
            results = [task() for task in [tasks[0], *tasks[1 + len(handed) :]]]
        finally:  # every worker hands its outcome back, even when the caller's task fails
            outcomes = [worker.outcome_when_done() for worker, _ in handed]
        done = [_unwrap(outcome) for outcome in outcomes]
        return [results[0], *done, *results[1:]]

    def map(self, function: Callable[..., object], arguments: Sequence[tuple]) -> list:
        """[function(*args) for args in arguments], the calls run side by side."""
        return self.run([_call(function, args) for args in arguments])

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []


def _unwrap(outcome: tuple[bool, object]):
    ok, value = outcome
    if not ok:
        raise value
    return value


def _call(function: Callable[..., object], args: tuple) -> Callable[[], object]:
    return lambda: function(*args)


def _with_errors(task: Callable[[], object], errors: dict) -> Callable[[], object]:
    def run():
        with np.errstate(**errors):
            return task()

    return run


class _Worker:
    """A thread that runs one task at a time and hands back its result (or error)."""

    def __init__(self):
        self.task: Callable[[], object] | None = None
        self.outcome: tuple[bool, object] = (True, None)
        # Plain locks used as binary semaphores, held while there is nothing to take:
        # start and finish strictly alternate, and a Lock (unlike threading.Semaphore,
        # written in Python) hands over in C: 58 against 80 us per run of two tasks.
        self.ready = _taken_lock()
        self.finished = _taken_lock()
        self.thread = threading.Thread(target=self._serve, daemon=True, name="scratchnet-part")
        self.thread.start()

    def start(self, task: Callable[[], object]) -> None:
        self.task = task
        self.ready.release()

    def outcome_when_done(self) -> tuple[bool, object]:
        """(True, result) or (False, the error it raised), once the task is done."""
        self.finished.acquire()
        return self.outcome

    def stop(self) -> None:
        self.task = None
        # RuntimeError: a task was handed over (a Ctrl-C cut the wait for it) but not yet
        # taken, so ready is already released: the worker takes None instead, and stops
        with contextlib.suppress(RuntimeError):
            self.ready.release()
        self.thread.join()

    def _serve(self) -> None:
        while True:
            self.ready.acquire()
            if self.task is None:
                return
            try:
                self.outcome = (True, self.task())
            except BaseException as error:  # handed to the caller, raised there
                self.outcome = (False, error)
            self.finished.release()


def _taken_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock
