"""Sweeps beyond one machine: a GridSearchCV over ScratchNetClassifier runs unchanged on
a dask.distributed cluster through joblib's dask backend (here a local cluster of two
worker processes) and finds exactly what it finds in one process."""

from __future__ import annotations

import logging
import sys

import joblib
import numpy as np
from dask import distributed
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from scratchnet.interop.sklearn import ScratchNetClassifier

GRID = {
    "scratchnetclassifier__hidden_layer_sizes": [(8,), (32,)],
    "scratchnetclassifier__learning_rate": [1e-3, 1e-2],
}


def search() -> GridSearchCV:
    model = ScratchNetClassifier(epochs=10, batch_size=64, random_state=0)
    return GridSearchCV(make_pipeline(StandardScaler(), model), GRID, cv=3, n_jobs=-1)


def test_a_grid_search_on_a_dask_cluster_finds_what_one_process_finds():
    X, y = load_digits(return_X_y=True)
    X, y = X[:900], y[:900]
    alone = search().set_params(n_jobs=1).fit(X, y)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=logging.ERROR,
    )  # fmt: skip
    with cluster, distributed.Client(cluster) as client:
        with joblib.parallel_config(backend="dask"):
            on_cluster = search().fit(X, y)
        workers_used = client.run(lambda: "scratchnet.interop.sklearn" in sys.modules)
    assert len(workers_used) == 2 and any(workers_used.values())
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(on_cluster.cv_results_[key], alone.cv_results_[key])
    assert on_cluster.best_params_ == alone.best_params_
    assert on_cluster.best_score_ > 0.85
