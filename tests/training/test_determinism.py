"""Same seed, same bits, however many threads run: scratchnet cuts its work into parts by
shape alone and keeps BLAS to one thread, so neither its own threads nor the BLAS thread
setting can change a result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import scratchnet as sn
from scratchnet.network import COMPACT_SHARE
from scratchnet.nn.column_groups import plan_groups
from scratchnet.nn.parallel import PARTS
from scratchnet.nn.propagation import Propagation
from scratchnet.training.threads import one_blas_thread

RUNS = {
    "mini-batch, dropout, adam": (
        {"hidden": [256, 3], "activation": "relu", "dropout": 0.3},
        {"epochs": 2, "batch_size": 256, "optimizer": "adam", "learning_rate": 0.01},
    ),
    "full batch, column groups": (
        {"hidden": [128, 3], "activation": "sigmoid"},
        {"n_iterations": 3, "learning_rate": 0.5},
    ),
}


def data():
    """1500 rows of 400 features (large enough that OpenBLAS would split its products
    over threads): two columns zero everywhere and the last 200 non-zero in 1% of the
    rows (full batch stores them by column groups), three classes."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 400))
    X[:, 200:] *= rng.random((1500, 200)) < 0.01
    X[:, [3, 211]] = 0.0
    return X, rng.integers(0, 3, 1500)


def test_the_full_batch_run_stores_its_rows_by_column_groups():
    X, _ = data()
    plan = plan_groups(X)
    assert len(plan.bounds) > 2 and plan.work <= COMPACT_SHARE * len(X) * 400


def train(name: str) -> np.ndarray:
    network, fit = RUNS[name]
    X, y = data()
    hidden = network["hidden"]
    options = {key: value for key, value in network.items() if key != "hidden"}
    return sn.NeuralNet(hidden, random_state=1, **options).fit(X, y, **fit).parameters.flat


def count_parts(monkeypatch) -> list[int]:
    """The number of parts of every chunk cut from now on (a chunk too small to pay for
    a second thread is one part, and then threads could change nothing)."""
    counts, parts_of = [], Propagation.parts_of

    def counted(propagation, rows):
        parts = parts_of(propagation, rows)
        counts.append(len(parts))
        return parts

    monkeypatch.setattr(Propagation, "parts_of", counted)
    return counts


@pytest.mark.parametrize("name", list(RUNS))
def test_one_or_two_threads_give_the_same_bits(name, monkeypatch):
    monkeypatch.setenv("SCRATCHNET_THREADS", "1")
    one = train(name)
    monkeypatch.setenv("SCRATCHNET_THREADS", "2")
    parts = count_parts(monkeypatch)
    two = train(name)
    np.testing.assert_array_equal(one, two)
    assert max(parts) == PARTS


SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from test_determinism import RUNS, train
print(json.dumps({name: train(name).tolist() for name in RUNS}))
"""


def test_the_blas_thread_setting_of_the_process_changes_nothing(tmp_path):
    """In fresh processes with OpenBLAS told to use 1 and 2 threads."""
    results = []
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, os.path.dirname(__file__)],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        results.append(json.loads(done.stdout))
    assert results[0] == results[1]


def test_predictions_do_not_depend_on_threads(monkeypatch):
    X, y = data()
    net = sn.NeuralNet([128, 3], activation="relu", random_state=0).fit(X, y, n_iterations=1)
    monkeypatch.setenv("SCRATCHNET_THREADS", "1")
    one = net.predict_proba(np.tile(X, (5, 1)))
    monkeypatch.setenv("SCRATCHNET_THREADS", "2")
    parts = count_parts(monkeypatch)
    np.testing.assert_array_equal(net.predict_proba(np.tile(X, (5, 1))), one)
    assert max(parts) == PARTS


def test_training_in_another_thread_keeps_blas_to_one_thread_and_the_same_bits():
    """threadpoolctl lets only the first thread that limited OpenBLAS change its (process-
    wide) pool again: after a fit in the main thread, a fit in a worker thread (a server's,
    joblib's threading backend) ran BLAS on two threads, with other bits."""
    rng = np.random.default_rng(0)
    X, y = rng.random((3000, 784)), rng.integers(0, 10, 3000)

    def fit():
        return sn.NeuralNet([128, 10], activation="relu", init="he", random_state=0).fit(
            X, y, epochs=1, batch_size=128, optimizer="adam"
        )

    in_main = fit()
    seen = {}

    def in_a_worker():
        with one_blas_thread():
            seen["blas threads"] = {info["num_threads"] for info in threadpool_info()
                                    if info["user_api"] == "blas"}  # fmt: skip
        seen["net"], seen["p"] = fit(), in_main.predict_proba(X)

    worker = threading.Thread(target=in_a_worker)
    worker.start()
    worker.join()
    assert seen["blas threads"] == {1}
    np.testing.assert_array_equal(seen["net"].parameters.flat, in_main.parameters.flat)
    np.testing.assert_array_equal(seen["p"], in_main.predict_proba(X))
