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
_earlier: list[tuple[object, int]] = []  # each BLAS library and its threads before the first


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # finds the loaded BLAS libraries once


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within the block, every BLAS call of the process runs on one thread. Blocks may
    overlap, in one thread or several (a server predicting for concurrent requests):
    the first to enter sets the limit, the last to leave restores the previous one."""
    global _holders
    with _lock:
        if _holders == 0:
            libraries = _controller().select(user_api="blas").lib_controllers
            _earlier[:] = [(library, library.num_threads) for library in libraries]
            for library, _ in _earlier:
                _set_threads(library, 1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                for library, threads in _earlier:
                    _set_threads(library, threads)


def _set_threads(library, threads: int) -> None:
    """Set a BLAS library's threads from whichever thread this runs in. threadpoolctl
    lets only the first thread that ever limited OpenBLAS's pool (shared by the whole
    process) change it again, and ignores the others: a fit run in any other thread
    (a worker, a server's) would then run BLAS on every core, summing in another order.
    For OpenBLAS on pthreads (NumPy's wheels) the limit is process-wide, as the blocks
    mean it (they count their holders across threads), so it is set directly, where
    threadpoolctl has a direct way. (Libraries on OpenMP, and MKL, limit the calling
    thread alone.)"""
    set_directly = getattr(library, "_real_set_num_threads", library.set_num_threads)
    set_directly(threads)
