"""BLAS kept to one thread while scratchnet runs its own parts side by side (see
``nn/parallel.py``): two threads of OpenBLAS would wait for each other on a busy machine,
and sum in an order that depends on how many there are."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_holders = 0  # blocks inside one_blas_thread, in any thread
_limiter = None


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # finds the loaded BLAS libraries once


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within the block, every BLAS call of the process runs on one thread. Blocks may
    overlap, in one thread or several (a server predicting for concurrent requests):
    the first to enter sets the limit, the last to leave restores the previous one."""
    global _holders, _limiter
    with _lock:
        if _holders == 0:
            _limiter = _controller().limit(limits=1, user_api="blas")
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                _limiter.restore_original_limits()
