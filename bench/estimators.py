"""scratchnet's scikit-learn estimators against MLPClassifier and MLPRegressor: 5-fold
cross-validated score and fit time on data no one here made (scikit-learn's bundled
digits and diabetes, and all ten MNIST digits).

Both train the same hidden layers for the same number of epochs, each with its own
defaults otherwise (both: ReLU, Adam with lr 0.001, batches of 200 rows). MLP* would
stop once its training loss stalls; that is switched off (tol=0, n_iter_no_change beyond
the epochs), so both run every epoch. Each pipeline scales what needs scaling the same
way for both: the features of digits, and the features and target of diabetes.
"""

from __future__ import annotations

import warnings

import numpy as np

from .common import mnist_data, peak_rss_mb

FOLDS = 5
DATASETS = {  # name -> (task, hidden layer sizes, epochs)
    "digits": ("classification", (100,), 200),
    "diabetes": ("regression", (100,), 200),
    "mnist": ("classification", (100,), 20),
}


def cv_score(impl: str, dataset: str, threads: int) -> dict:
    """Mean 5-fold score (accuracy or R^2) and the fit seconds summed over the folds."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    task, hidden, epochs = DATASETS[dataset]
    X, y = _data(dataset)
    model = _model(impl, task, hidden, epochs, scale=dataset != "mnist")
    folds = (StratifiedKFold if task == "classification" else KFold)(FOLDS, shuffle=True,
                                                                     random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP*'s ConvergenceWarning: it ran every epoch
        result = cross_validate(model, X, y, cv=folds, n_jobs=1)
    fit_seconds = float(np.sum(result["fit_time"]))
    return {
        "fit_seconds": fit_seconds,
        "runs": [fit_seconds],
        "score": float(np.mean(result["test_score"])),
        "rows": len(X),
        "peak_rss_mb": peak_rss_mb(),
    }


def _data(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes, load_digits

    if dataset == "digits":
        return load_digits(return_X_y=True)
    if dataset == "diabetes":
        return load_diabetes(return_X_y=True)
    X, y, _, _ = mnist_data(tuple(range(10)), "float32")  # the 60,000 training images
    return X, y


def _model(impl: str, task: str, hidden: tuple[int, ...], epochs: int, scale: bool):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if impl == "scratchnet":
        from scratchnet.interop.sklearn import ScratchNetClassifier, ScratchNetRegressor

        kind = ScratchNetClassifier if task == "classification" else ScratchNetRegressor
        estimator = kind(hidden_layer_sizes=hidden, epochs=epochs, random_state=0)
    else:
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        kind = MLPClassifier if task == "classification" else MLPRegressor
        estimator = kind(hidden_layer_sizes=hidden, max_iter=epochs, tol=0.0,
                         n_iter_no_change=epochs + 1, random_state=0)  # fmt: skip
    if task == "regression":
        estimator = TransformedTargetRegressor(estimator, transformer=StandardScaler())
    return make_pipeline(StandardScaler(), estimator) if scale else estimator
