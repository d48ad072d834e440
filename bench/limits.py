"""Whether OpenBLAS's products give the same bits on one thread and on several: the
promise scratchnet's fixed row parts keep, which two BLAS threads would break."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from .common import mnist_data

ROWS, HIDDEN = 64, 256  # one part of a batch of 128, and the 784-256-10 hidden layer


def blas_bits(threads: int) -> dict:
    """For one part's forward product x @ W_1 and its weight-gradient product
    x.T @ delta, on MNIST rows: are the results on one BLAS thread and on ``threads``
    bit for bit the same?"""
    x = mnist_data(tuple(range(10)), "float32")[0][:ROWS]
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((x.shape[1], HIDDEN)).astype(np.float32)
    delta = rng.standard_normal((ROWS, HIDDEN)).astype(np.float32)
    results = []
    for count in (1, threads):
        with threadpool_limits(limits=count, user_api="blas"):
            results.append((x @ weight, x.T @ delta))
    (forward_one, gradient_one), (forward_many, gradient_many) = results
    return {
        "forward_same": bool(np.array_equal(forward_one, forward_many)),
        "gradient_same": bool(np.array_equal(gradient_one, gradient_many)),
    }
