"""The team that runs a chunk's parts side by side: order, errors, NumPy's error state."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import numpy as np
import pytest

from scratchnet.errors import InvalidArgumentError
from scratchnet.nn.parallel import (
    MIN_SPLIT_ELEMENTS,
    PARTS,
    Team,
    _Worker,
    default_threads,
    halves,
)


def test_results_come_back_in_the_order_of_the_tasks_on_any_team():
    for threads in (1, 2, 3):
        team = Team(threads)
        try:
            assert team.map(lambda k: k * k, [(k,) for k in range(5)]) == [0, 1, 4, 9, 16]
        finally:
            team.close()


def test_tasks_run_on_as_many_threads_as_the_team_has():
    team = Team(2)
    try:
        names = team.map(lambda: threading.current_thread().name, [(), ()])
    finally:
        team.close()
    assert names[0] == threading.current_thread().name
    assert names[1] == "scratchnet-part"


def test_an_error_in_a_worker_is_raised_in_the_caller_and_the_team_goes_on():
    team = Team(2)

    def fail_second(k):
        if k == 1:
            raise ValueError("part 1 failed")
        return k

    try:
        with pytest.raises(ValueError, match="part 1 failed"):
            team.map(fail_second, [(0,), (1,)])
        assert team.map(lambda k: k, [(0,), (1,)]) == [0, 1]
    finally:
        team.close()


def test_an_error_in_the_callers_task_waits_for_the_workers_and_the_team_goes_on():
    """The caller runs part 0 itself; when it fails, the worker's part still finishes
    before the error surfaces, and its result does not leak into the next call."""
    team = Team(2)
    finished = []

    def fail_first(k):
        if k == 0:
            raise ValueError("part 0 failed")
        time.sleep(0.2)
        finished.append(k)
        return "stale"

    try:
        with pytest.raises(ValueError, match="part 0 failed"):
            team.map(fail_first, [(0,), (1,)])
        assert finished == [1]
        assert team.map(lambda k: k, [(0,), (1,)]) == [0, 1]
    finally:
        team.close()


def test_workers_follow_the_callers_numpy_error_state():
    team = Team(2)
    try:
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            team.map(lambda: np.float32(3e38) * np.float32(10), [(), ()])
        with np.errstate(over="ignore"):
            results = team.map(lambda: np.float32(3e38) * np.float32(10), [(), ()])
        assert all(np.isinf(r) for r in results)
    finally:
        team.close()


def test_halves_cover_a_flat_range_once_and_leave_a_small_one_whole():
    n = MIN_SPLIT_ELEMENTS + 11
    spans = halves(n)
    assert len(spans) == PARTS and spans[0].start == 0 and spans[-1].stop == n
    assert all(a.stop == b.start for a, b in pairwise(spans))
    assert halves(MIN_SPLIT_ELEMENTS - 1) == [slice(0, MIN_SPLIT_ELEMENTS - 1)]


def test_the_number_of_threads_can_be_set_and_defaults_to_at_most_the_parts(monkeypatch):
    monkeypatch.setenv("SCRATCHNET_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.delenv("SCRATCHNET_THREADS")
    assert 1 <= default_threads() <= PARTS


@pytest.mark.parametrize("value", ["abc", "0", "-1", "2.0", "\N{FULLWIDTH DIGIT TWO}"])
def test_a_number_of_threads_that_is_none_is_refused_not_taken_for_the_default(monkeypatch, value):
    """A typo ran on the default number of threads without a word."""
    monkeypatch.setenv("SCRATCHNET_THREADS", value)
    with pytest.raises(InvalidArgumentError, match=rf"^SCRATCHNET_THREADS must be a whole "
                       rf"number of at least 1, got '{value}'$"):  # fmt: skip
        default_threads()
    monkeypatch.setenv("SCRATCHNET_THREADS", "")  # set empty: as if unset
    assert 1 <= default_threads() <= PARTS


def test_a_worker_stops_with_a_task_handed_over_but_not_yet_taken():
    """A Ctrl-C can cut the caller's wait after a task was handed over and before the
    worker took it; closing the team must still stop the worker, not raise."""
    worker = _Worker()
    busy = threading.Event()
    worker.start(busy.wait)  # taken at once: the worker blocks in it
    while not worker.ready.locked():
        time.sleep(0.001)
    worker.start(lambda: "never run")  # handed over; the worker is still busy
    threading.Timer(0.05, busy.set).start()
    worker.stop()
    assert not worker.thread.is_alive()
