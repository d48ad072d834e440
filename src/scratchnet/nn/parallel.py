"""Work split into fixed blocks and run on a small pool of threads.

Matrix products are cut into blocks of output rows, each computed by one call to a
single-threaded BLAS; whole-array updates (the optimizer's) into blocks of the flat
parameter array. NumPy releases the GIL in both, so the blocks run side by side. Two
promises follow from cutting by shape alone, never by the number of threads:

- the same bits, however many threads run the blocks (one, two, or what a busy machine
  leaves): a product's every block is the same single-threaded call either way;
- no stall on a busy machine: a thread the system pauses holds up only its own block
  while the others take the rest, where a team of BLAS threads would wait for its
  slowest member at every barrier.

The caller keeps BLAS itself to one thread while a pool is in use (the training loop
does, with threadpoolctl).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

PRODUCT_ROWS = 64  # output rows per block of a product
MIN_BLOCK_FLOPS = 4_000_000  # a product smaller than two such blocks runs as one call
UPDATE_ITEMS = 1 << 16  # elements per block of a whole-array update


class Pool:
    """``threads`` workers (1: everything runs in the calling thread, block by block,
    with the very same results)."""

    def __init__(self, threads: int | None = None):
        self.threads = max(1, threads if threads is not None else os.cpu_count() or 1)
        self.executor = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown()

    def run(self, work: Callable[[int, int], None], n: int, block: int) -> None:
        """work(start, stop) for consecutive blocks of ``block`` items covering range(n)."""
        spans = [(start, min(start + block, n)) for start in range(0, n, block)]
        if self.executor is None or len(spans) == 1:
            for start, stop in spans:
                work(start, stop)
            return
        for future in [self.executor.submit(work, *span) for span in spans]:
            future.result()

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        """out = a @ b, cut into blocks of PRODUCT_ROWS rows of a and out."""
        block = _rows_per_block(*a.shape, b.shape[1])

        def rows(start: int, stop: int) -> None:
            np.matmul(a[start:stop], b, out=out[start:stop])

        self.run(rows, a.shape[0], block)

    def matmul_transposed(
        self, a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool = False
    ) -> None:
        """out = a.T @ b (or out += a.T @ b), cut into blocks of PRODUCT_ROWS columns of
        a, which are rows of out: each block sums over all rows of a and b."""
        block = _rows_per_block(a.shape[1], a.shape[0], b.shape[1])

        def rows(start: int, stop: int) -> None:
            part = a[:, start:stop].T
            if accumulate:
                out[start:stop] += part @ b
            else:
                np.matmul(part, b, out=out[start:stop])

        self.run(rows, a.shape[1], block)

    def update(self, work: Callable[[slice], None], n: int) -> None:
        """work(span) over blocks of UPDATE_ITEMS elements of a flat array of n."""
        self.run(lambda start, stop: work(slice(start, stop)), n, UPDATE_ITEMS)


def _rows_per_block(rows: int, inner: int, columns: int) -> int:
    """PRODUCT_ROWS, or all rows when the product is too small to be worth cutting."""
    if 2 * rows * inner * columns < 2 * MIN_BLOCK_FLOPS:
        return max(rows, 1)
    return PRODUCT_ROWS
