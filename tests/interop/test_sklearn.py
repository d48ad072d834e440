"""The scikit-learn estimators: every check of check_estimator, and the tools users put
them in (Pipeline, cross_val_score, GridSearchCV with processes, clone, pandas), on
scikit-learn's bundled digits and synthetic data. Expected values come from
scikit-learn itself (its scaler, splitters and metrics) and from the core network."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import issparse as sparse_issparse
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, log_loss, r2_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import scratchnet as sn
from scratchnet.errors import InvalidArgumentError
from scratchnet.interop.sklearn import ScratchNetClassifier, ScratchNetRegressor

SMALL = {
    "hidden_layer_sizes": (16,), "epochs": 15, "batch_size": 64, "learning_rate": 0.01,
    "random_state": 0,
}  # fmt: skip


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 8x8 digits: 1797 images of 64 features, ten classes."""
    return load_digits(return_X_y=True)


@parametrize_with_checks([ScratchNetClassifier(), ScratchNetRegressor()])
def test_the_scikit_learn_estimator_contract(estimator, check, monkeypatch):
    """Every check passes, none marked as an expected failure. SCIPY_ARRAY_API=1 lets
    check_array_api_input run (it skips otherwise): NumPy input with array-API dispatch
    switched on must give the same results."""
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


def test_in_a_pipeline_it_sees_the_scaled_features(digits):
    X, y = digits
    pipeline = make_pipeline(StandardScaler(), ScratchNetClassifier(**SMALL)).fit(
        X[:1500], y[:1500]
    )
    scaler = StandardScaler().fit(X[:1500])
    alone = ScratchNetClassifier(**SMALL).fit(scaler.transform(X[:1500]), y[:1500])
    np.testing.assert_array_equal(
        pipeline.predict_proba(X[1500:]), alone.predict_proba(scaler.transform(X[1500:]))
    )
    assert pipeline.score(X[1500:], y[1500:]) > 0.9


@pytest.mark.parametrize("estimator", [ScratchNetClassifier, ScratchNetRegressor])
@pytest.mark.parametrize("form", ["csr", "csc", "coo"])
def test_a_sparse_x_trains_and_predicts_as_its_dense_array(digits, estimator, form):
    """A sparse matrix was refused ('dense data is required') where MLPClassifier takes
    one: a ColumnTransformer with a OneHotEncoder hands one on by default."""
    from scipy import sparse

    X, y = digits
    dense = estimator(**SMALL).fit(X[:1500], y[:1500])
    given = estimator(**SMALL).fit(sparse.coo_matrix(X[:1500]).asformat(form), y[:1500])
    np.testing.assert_array_equal(given.coefs_[0], dense.coefs_[0])
    held_out = sparse.coo_matrix(X[1500:]).asformat(form)
    np.testing.assert_array_equal(given.predict(held_out), dense.predict(X[1500:]))


def test_a_one_hot_pipeline_trains_like_its_dense_encoding():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=400), "city": rng.integers(0, 20, 400)})
    y = (frame["x"] + (frame["city"] % 3) > 1).astype(int)

    def encoding(sparse_output):
        one_hot = OneHotEncoder(sparse_output=sparse_output)
        return ColumnTransformer([("n", StandardScaler(), ["x"]), ("c", one_hot, ["city"])])

    fitted = [make_pipeline(encoding(sparse_output), ScratchNetClassifier(**SMALL)).fit(frame, y)
              for sparse_output in (True, False)]  # fmt: skip
    assert sparse_issparse(fitted[0][0].transform(frame))
    np.testing.assert_array_equal(fitted[0].predict_proba(frame), fitted[1].predict_proba(frame))


def test_a_sparse_x_too_large_to_make_dense_is_refused_before_copying():
    from scipy import sparse

    huge = sparse.csr_matrix(([1.0], ([0], [0])), shape=(10**6, 10**7))  # 8e13 bytes dense
    with pytest.raises(InvalidArgumentError, match=r"a dense copy of this sparse X needs about "
                       r"72\.8 TiB of memory, .*; pass fewer rows at a time, or fewer "
                       r"features$"):  # fmt: skip
        ScratchNetRegressor(**SMALL).fit(huge, np.zeros(10**6))


def test_a_dok_or_lil_matrix_is_checked_for_nan_without_a_warning(digits):
    """scikit-learn cannot look for NaN in these formats ('Can't check dok sparse matrix
    for nan or inf'); they are converted to CSR first."""
    from scipy import sparse

    X, y = digits
    for form in ("dok", "lil"):
        holed = sparse.csr_matrix(X[:200]).asformat(form)
        holed[3, 5] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="NaN"):
                ScratchNetClassifier(**SMALL).fit(holed, y[:200])


def test_cross_val_score_gives_the_scores_of_each_fold_fitted_alone(digits):
    X, y = digits
    model = make_pipeline(StandardScaler(), ScratchNetClassifier(**SMALL))
    scores = cross_val_score(model, X, y, cv=StratifiedKFold(3))
    expected = [
        accuracy_score(y[test], clone(model).fit(X[train], y[train]).predict(X[test]))
        for train, test in StratifiedKFold(3).split(X, y)
    ]
    np.testing.assert_array_equal(scores, expected)
    assert scores.mean() > 0.9


def test_a_grid_search_in_two_processes_finds_what_one_process_finds(digits):
    X, y = digits
    grid = {"hidden_layer_sizes": [(8,), (24,)], "learning_rate": [1e-3, 1e-2]}
    searches = [
        GridSearchCV(ScratchNetClassifier(**{**SMALL, "epochs": 8}), grid, cv=3, n_jobs=jobs)
        for jobs in (1, 2)
    ]
    for search in searches:
        search.fit(X[:900], y[:900])
    alone, parallel = (search.cv_results_ for search in searches)
    np.testing.assert_array_equal(parallel["mean_test_score"], alone["mean_test_score"])
    assert searches[1].best_params_ == searches[0].best_params_
    assert searches[1].best_score_ > 0.85


def test_clone_copies_the_hyperparameters_and_none_of_the_fit(digits):
    X, y = digits
    fitted = ScratchNetClassifier(**SMALL, optimizer=sn.Adam(beta1=0.8)).fit(X[:300], y[:300])
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "net_") and not hasattr(twin, "classes_")


def test_dataframes_give_feature_names_and_string_labels_come_back(digits):
    X, y = digits
    names = [f"pixel_{i}" for i in range(64)]
    frame = pd.DataFrame(X[:600], columns=names)
    labels = pd.Series(np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                                 "eight", "nine"])[y[:600]])  # fmt: skip
    model = ScratchNetClassifier(**SMALL).fit(frame, labels)
    assert model.feature_names_in_.tolist() == names
    assert sorted(model.classes_.tolist()) == model.classes_.tolist() == sorted(set(labels))
    predicted = model.predict(frame)
    assert set(predicted) <= set(labels) and np.mean(predicted == labels) > 0.9
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(frame[names[::-1]])


@pytest.mark.parametrize(
    "labels",
    [np.array([-7, 2**40]), np.array([2**64 - 1, 3], dtype=np.uint64), np.array([True, False])],
    ids=["negative-and-large", "uint64", "bool"],
)
def test_any_integer_labels_are_predicted_as_given(blobs, labels):
    X, y = blobs
    model = ScratchNetClassifier(**SMALL).set_params(epochs=60).fit(X, labels[y])
    assert model.classes_.dtype == labels.dtype
    np.testing.assert_array_equal(model.classes_, np.unique(labels))
    assert model.predict(X).dtype == labels.dtype
    assert model.score(X, labels[y]) > 0.9


def test_the_network_inside_predicts_integer_labels_and_keeps_them_in_its_file(
    three_blobs, tmp_path
):
    X, y = three_blobs  # labels 3, 5, 8
    model = ScratchNetClassifier(**SMALL).fit(X, y)
    assert model.net_.classes.tolist() == [3, 5, 8]
    assert accuracy_score(y, model.net_.predict(X)) > 0.9  # the labels themselves
    model.net_.save(tmp_path / "model.npz")
    assert accuracy_score(y, sn.NeuralNet.load(tmp_path / "model.npz").predict(X)) > 0.9


def test_whole_number_float_labels_are_the_networks_own_too(three_blobs, tmp_path):
    """Labels 3.0, 5.0, 8.0 (a pandas column of floats, say) reached the network as 0, 1,
    2: its model file and ONNX export predicted 0/1/2 for 3/5/8."""
    X, y = three_blobs
    model = ScratchNetClassifier(**SMALL).fit(X, y.astype(np.float64))
    assert model.classes_.tolist() == [3.0, 5.0, 8.0] and model.classes_.dtype == np.float64
    assert model.net_.classes.tolist() == [3, 5, 8]
    model.net_.save(tmp_path / "model.npz")
    assert accuracy_score(y, sn.NeuralNet.load(tmp_path / "model.npz").predict(X)) > 0.9
    huge = np.array([0.0, 1.0, 2.0**60])[np.searchsorted([3, 5, 8], y)]  # past 2**53
    assert ScratchNetClassifier(**SMALL).fit(X, huge).net_.classes.tolist() == [0, 1, 2]


def test_other_labels_reach_the_network_as_their_positions(blobs):
    X, y = blobs
    model = ScratchNetClassifier(**SMALL).fit(X, np.array(["no", "yes"])[y])
    assert model.net_.classes.tolist() == [0, 1]
    assert accuracy_score(y, model.net_.predict(X)) > 0.9  # "no" is 0, "yes" 1


def test_probabilities_follow_the_classes_and_their_logarithms_are_finite(three_blobs):
    X, y = three_blobs
    model = ScratchNetClassifier(**SMALL).fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    log_proba = model.predict_log_proba(X)
    assert np.all(np.isfinite(log_proba))
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("given", "dtype", "trained"),
    [(np.float32, None, np.float32), (np.int64, None, np.float64),
     (np.float64, None, np.float64), (np.float64, "float32", np.float32)],
)  # fmt: skip
def test_the_network_computes_in_xs_float_type_unless_told(blobs, given, dtype, trained):
    X, y = blobs
    X = (X * 10).astype(given)
    model = ScratchNetClassifier(**SMALL, dtype=dtype).fit(X, y)
    assert model.net_.dtype == trained and model.predict_proba(X).dtype == trained


def test_fitted_attributes_describe_the_training(three_blobs):
    X, y = three_blobs
    model = ScratchNetClassifier(
        hidden_layer_sizes=(12, 6), epochs=40, batch_size=32, learning_rate=0.01,
        validation_fraction=0.2, patience=5, random_state=1,
    ).fit(X, y)  # fmt: skip
    assert model.n_features_in_ == 5 and model.n_outputs_ == 3
    assert len(model.loss_curve_) == len(model.validation_loss_curve_) == model.n_iter_
    assert model.loss_curve_ == model.net_.history.column("loss")
    held_out = model.net_.held_out
    best = model.best_epoch_
    assert model.validation_scores_[best - 1] == accuracy_score(
        y[held_out], model.predict(X[held_out])
    )
    assert [w.shape for w in model.coefs_] == [(5, 12), (12, 6), (6, 3)]
    assert [b.shape for b in model.intercepts_] == [(12,), (6,), (3,)]
    for mine, layer in zip(model.coefs_, model.net_.layers, strict=True):
        np.testing.assert_array_equal(mine, layer.weight)
    with pytest.raises(ValueError, match="read-only"):
        model.coefs_[0][0, 0] = 1.0


def test_without_validation_its_curves_are_none(blobs):
    model = ScratchNetClassifier(**SMALL).fit(*blobs)
    assert model.validation_loss_curve_ is None and model.validation_scores_ is None
    assert model.best_epoch_ is None and model.n_iter_ == SMALL["epochs"]


def test_full_batch_training_curves_hold_the_loss_after_each_epoch(blobs):
    X, y = blobs
    options = {"hidden_layer_sizes": (4,), "batch_size": None, "optimizer": "sgd"}
    model = ScratchNetClassifier(**options, epochs=6, learning_rate=0.1).fit(X, y)
    records = model.net_.history.records
    assert [r["epoch"] for r in records] == list(range(7))  # the initial weights, then 6
    assert model.loss_curve_ == [r["loss"] for r in records[1:]]


def test_sample_weights_of_integers_fit_like_repeated_rows(three_blobs):
    X, y = three_blobs
    counts = np.random.default_rng(2).integers(0, 3, size=len(X))
    options = {**SMALL, "batch_size": 1000}  # one full batch: the same objective
    weighted = ScratchNetClassifier(**options).fit(X, y, sample_weight=counts)
    repeated = ScratchNetClassifier(**options).fit(np.repeat(X, counts, 0), np.repeat(y, counts))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9, atol=1e-12
    )


def test_epochs_of_partial_fit_are_the_epochs_of_one_fit(three_blobs):
    X, y = three_blobs
    whole = ScratchNetClassifier(**SMALL).set_params(epochs=3).fit(X, y)
    stepwise = ScratchNetClassifier(**SMALL)
    for _ in range(3):
        stepwise.partial_fit(X, y, classes=[3, 5, 8])
    np.testing.assert_array_equal(stepwise.predict_proba(X), whole.predict_proba(X))
    assert stepwise.n_iter_ == 3 and stepwise.loss_curve_ == whole.loss_curve_


def test_partial_fit_after_early_stopping_describes_the_weights_it_leaves(three_blobs):
    """best_epoch_ said the fit's best epoch over the next epoch's weights, and the
    validation curves were dropped; partial_fit holds out no rows."""
    X, y = three_blobs
    model = ScratchNetClassifier(**SMALL, validation_fraction=0.25, patience=50)
    model.set_params(epochs=4).fit(X, y)
    fitted = (model.n_iter_, list(model.loss_curve_), list(model.validation_loss_curve_),
              list(model.validation_scores_))  # fmt: skip
    model.partial_fit(X, y)
    assert model.best_epoch_ is None and model.net_.history.best_epoch is None
    assert (model.validation_loss_curve_, model.validation_scores_) == fitted[2:]
    if model.n_iter_ == fitted[0] + 1:  # the run went on (its last epoch was its best)
        assert model.loss_curve_[:-1] == fitted[1]
    else:  # early stopping took the weights back: a new run from them
        assert model.n_iter_ == 1


@pytest.mark.parametrize(
    ("setting", "error", "message"),
    [
        ({"epochs": None}, sn.InvalidArgumentError, "epochs must be an integer >= 1, got None"),
        ({"warm_start": "yes"}, sn.InvalidTypeError, "warm_start must be True or False"),
        ({"verbose": None}, sn.InvalidTypeError, "verbose must be True, False or a number"),
    ],
)
def test_hyperparameters_of_the_wrong_kind_fail_at_fit(blobs, setting, error, message):
    """epochs=None trained fit's own default (20 epochs), 'yes' counted as true."""
    with pytest.raises(error, match=message):
        ScratchNetClassifier(**{**SMALL, **setting}).fit(*blobs)
    ScratchNetClassifier(**SMALL, verbose=0).fit(*blobs)  # as MLPClassifier takes it


def test_a_dtype_asked_for_when_training_goes_on_must_be_the_networks(blobs):
    """It was ignored in silence: training went on in the fitted network's."""
    model = ScratchNetClassifier(**SMALL, warm_start=True).fit(*blobs)
    model.set_params(dtype="float32")
    for go_on in (lambda: model.fit(*blobs), lambda: model.partial_fit(*blobs)):
        with pytest.raises(ValueError, match="goes on with the fitted network's float64"):
            go_on()
    model.set_params(dtype="float64").partial_fit(*blobs)


def test_partial_fit_refuses_layers_an_activation_or_dropout_set_since_the_fit(blobs):
    """They were ignored in silence, where the learning rate set since is used."""
    model = ScratchNetClassifier(**SMALL).fit(*blobs)
    weights = model.coefs_[0].copy()
    for change, named in [
        ({"hidden_layer_sizes": 17}, r"hidden_layer_sizes=\(17,\) \(the network's: \(16,\)\)"),
        ({"activation": "tanh"}, r"activation='tanh' \(the network's: 'relu'\)"),
        ({"dropout": 0.5}, r"dropout=0\.5 \(the network's: 0\.0\)"),
    ]:  # fmt: skip
        with pytest.raises(InvalidArgumentError, match=rf"^partial_fit goes on training the "
                           rf"fitted network, not one of {named}; set them back"):  # fmt: skip
            model.set_params(**change).partial_fit(*blobs)
        np.testing.assert_array_equal(model.coefs_[0], weights)
        model.set_params(**SMALL, activation="relu", dropout=0.0)
    model.set_params(hidden_layer_sizes=16, learning_rate=0.5).partial_fit(*blobs)
    assert not np.array_equal(model.coefs_[0], weights)
    model.set_params(init="no such init", random_state="unused").partial_fit(*blobs)
    with pytest.raises(InvalidArgumentError, match=r"every layer size .* got 16\.0"):
        model.set_params(hidden_layer_sizes=(16.0,)).partial_fit(*blobs)  # as fit refuses it


def test_one_number_as_sample_weight_weighs_every_row_alike(blobs):
    """As scikit-learn takes it (it was refused as not of shape (n,))."""
    weighted = ScratchNetClassifier(**SMALL).fit(*blobs, sample_weight=2.0)
    plain = ScratchNetClassifier(**SMALL).fit(*blobs)
    np.testing.assert_array_equal(weighted.predict_proba(blobs[0]), plain.predict_proba(blobs[0]))


def test_partial_fit_needs_the_classes_first_and_keeps_them(three_blobs):
    X, y = three_blobs
    with pytest.raises(ValueError, match="classes must be given on the first call"):
        ScratchNetClassifier().partial_fit(X, y)
    model = ScratchNetClassifier(**SMALL).partial_fit(X[y != 8], y[y != 8], classes=[3, 5, 8])
    assert model.classes_.tolist() == [3, 5, 8]
    with pytest.raises(ValueError, match=r"classes \[3, 5\] differ"):
        model.partial_fit(X, y, classes=[3, 5])
    fitted = ScratchNetClassifier(**SMALL).fit(X, y)  # it spoke of "the first call to
    with pytest.raises(
        ValueError,
        match=r"\[3, 5\] differ from those the estimator was "
        r"fitted with, \[3, 5, 8\]$",
    ):  # partial_fit", though none was made
        fitted.partial_fit(X, y, classes=[3, 5])
    with pytest.raises(
        ValueError, match=r"y holds labels \[9\] that are not among the classes \[3, 5, 8\]"
    ):
        model.partial_fit(X, np.where(y == 3, 9, y))


def test_a_warm_start_goes_on_from_the_fitted_weights(blobs):
    """Full-batch gradient descent has no state: 4 epochs, then 3 more, are 7."""
    X, y = blobs
    options = {"hidden_layer_sizes": (4,), "batch_size": None, "optimizer": "sgd",
               "learning_rate": 0.1, "random_state": 0}  # fmt: skip
    whole = ScratchNetClassifier(**options, epochs=7).fit(X, y)
    warm = ScratchNetClassifier(**options, epochs=4, warm_start=True).fit(X, y)
    warm.set_params(epochs=3).fit(X, y)
    np.testing.assert_array_equal(warm.predict_proba(X), whole.predict_proba(X))
    with pytest.raises(ValueError, match=r"warm_start needs the fitted network's layer sizes"):
        warm.set_params(hidden_layer_sizes=(5,)).fit(X, y)


def test_a_warm_start_trains_with_the_hyperparameters_set_now(blobs):
    """The weights carry over; dropout, the learning rate and the rest are those of the
    new call. At a learning rate of 1e-12, an epoch of Adam moves each weight by at most
    about 1e-12 per step: the weights stay those of the fit before (new ones would differ
    by the size of the weights), and the dropout of the new call raises the cost the
    epoch's batches had on those weights (without it, the batches' mean cost is the log
    loss of the fitted model, by scikit-learn)."""
    X, y = blobs
    fitted = ScratchNetClassifier(**SMALL, warm_start=True).fit(X, y)
    start = [w.copy() for w in fitted.coefs_]
    fitted_loss = log_loss(y, fitted.predict_proba(X))
    epoch = {"epochs": 1, "learning_rate": 1e-12}
    dropped = clone(fitted).set_params(warm_start=True).fit(X, y)
    dropped.set_params(dropout=0.5, **epoch).fit(X, y)
    kept = clone(fitted).set_params(warm_start=True).fit(X, y).set_params(**epoch).fit(X, y)
    assert dropped.net_.dropout == 0.5 and kept.net_.dropout == 0.0
    for model in (dropped, kept):
        steps = model.net_.history.records[-1]["step"]  # the new fit's, from 0
        assert steps == -(-len(X) // SMALL["batch_size"])
        for weight, before in zip(model.coefs_, start, strict=True):
            assert not np.array_equal(weight, before)  # it trained
            np.testing.assert_allclose(weight, before, rtol=0, atol=2e-12 * steps)
    assert kept.net_.history.records[-1]["loss"] == pytest.approx(fitted_loss, rel=1e-9)
    assert dropped.net_.history.records[-1]["loss"] > 1.2 * fitted_loss


def test_a_regressor_fits_one_or_several_targets(waves):
    X, Y = waves
    options = {"hidden_layer_sizes": (32,), "activation": "tanh", "epochs": 150, "batch_size": 16,
               "learning_rate": 0.01, "random_state": 0}  # fmt: skip
    one = ScratchNetRegressor(**options).fit(X[:120], Y[:120, 0])
    assert one.predict(X[120:]).shape == (30,)
    assert one.score(X[120:], Y[120:, 0]) == pytest.approx(
        r2_score(Y[120:, 0], one.predict(X[120:])), rel=1e-12
    )
    assert one.score(X[120:], Y[120:, 0]) > 0.9
    several = ScratchNetRegressor(**options).fit(X[:120], Y[:120])
    assert several.predict(X[120:]).shape == (30, 3) and several.n_outputs_ == 3
    assert several.score(X[120:], Y[120:]) > 0.9


@pytest.mark.parametrize("columns", [1, 3])
def test_the_regressors_validation_scores_are_r2_of_the_held_out_rows(waves, columns):
    """One target: r2_score; several: its variance-weighted average. Weighted rows give
    the weighted R^2."""
    X, Y = waves
    y = Y[:, 0] if columns == 1 else Y
    weights = np.random.default_rng(5).uniform(0.5, 2.0, size=len(X))
    model = ScratchNetRegressor(hidden_layer_sizes=(16,), epochs=20, batch_size=16,
                                learning_rate=0.01, validation_fraction=0.25, patience=100,
                                random_state=0).fit(X, y, sample_weight=weights)  # fmt: skip
    rows = model.net_.held_out
    expected = r2_score(y[rows], model.predict(X[rows]), sample_weight=weights[rows],
                        multioutput="variance_weighted")  # fmt: skip
    assert model.validation_scores_[model.best_epoch_ - 1] == pytest.approx(expected, rel=1e-9)


def test_a_regressor_is_contract_compatible_with_pandas(waves):
    X, Y = waves
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = ScratchNetRegressor(**SMALL).fit(frame, pd.Series(Y[:, 0]))
    assert model.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    assert model.predict(frame).shape == (150,)


def test_a_fitted_estimator_pickles_with_its_network(three_blobs):
    X, y = three_blobs
    model = ScratchNetClassifier(**SMALL).fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
    copy.partial_fit(X, y)
    model.partial_fit(X, y)
    np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))


def test_weights_before_fit_say_the_estimator_is_not_fitted():
    for name in ("coefs_", "intercepts_"):
        with pytest.raises(AttributeError, match=rf"^{name} is set by fit: this estimator is not"):
            getattr(ScratchNetClassifier(), name)


def test_an_estimator_pickled_with_stored_weights_loads_with_views(three_blobs):
    """Estimators pickled before coefs_ became views of net_ hold arrays of their own."""
    X, y = three_blobs
    model = ScratchNetClassifier(**SMALL).fit(X, y)
    model.__dict__["coefs_"] = [np.zeros(1)]  # as an earlier version pickled it
    loaded = pickle.loads(pickle.dumps(model))
    assert "coefs_" not in loaded.__dict__
    assert np.shares_memory(loaded.coefs_[0], loaded.net_.layers[0].weight)


@pytest.mark.parametrize("duplicate", [lambda m: pickle.loads(pickle.dumps(m)), copy.deepcopy])
def test_a_copied_estimators_weights_stay_read_only_views_of_its_network(three_blobs, duplicate):
    """They were the pickled arrays: writable, and apart from the copy's net_."""
    X, y = three_blobs
    twin = duplicate(ScratchNetClassifier(**SMALL).fit(X, y))
    for arrays, name in ((twin.coefs_, "weight"), (twin.intercepts_, "bias")):
        for array, layer in zip(arrays, twin.net_.layers, strict=True):
            assert np.shares_memory(array, getattr(layer, name))
            assert not array.flags.writeable


# -- bad input: checked when fitting, with the core's messages --------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"activation": "swish"}, sn.InvalidArgumentError, "unknown activation 'swish'"),
        ({"dtype": "int8"}, sn.InvalidTypeError, "dtype must be float32 or float64"),
        ({"learning_rate": -1}, sn.InvalidArgumentError, "learning_rate must be a positive"),
        ({"patience": 3}, sn.InvalidArgumentError, r"validation data \(validation_fraction\):"),
        ({"hidden_layer_sizes": (0,)}, sn.InvalidArgumentError, "layer size.*got 0"),
        ({"hidden_layer_sizes": None}, sn.InvalidTypeError, "an int or a sequence of ints"),
        ({"hidden_layer_sizes": "64"}, sn.InvalidTypeError, "an int or a sequence of ints"),
        ({"hidden_layer_sizes": 0}, sn.InvalidArgumentError, "layer size.*got 0"),
    ],
)
def test_bad_hyperparameters_are_refused_by_fit_not_by_the_constructor(
    blobs, options, error, message
):
    model = ScratchNetClassifier(**options)
    with pytest.raises(error, match=message):
        model.fit(*blobs)


def test_a_fit_that_fails_leaves_a_fitted_estimator_as_it_was(three_blobs):
    X, y = three_blobs
    model = ScratchNetClassifier(**SMALL).fit(X, y)
    before = {name: getattr(model, name) for name in ("classes_", "n_features_in_", "net_")}
    predicted = model.predict(X)
    with pytest.raises(sn.InvalidArgumentError, match="epochs"):  # checked after the labels
        model.set_params(epochs=0).fit(X[:, :4], np.array(list("xyz"))[y % 3])
    assert all(getattr(model, name) is kept for name, kept in before.items())
    np.testing.assert_array_equal(model.predict(X), predicted)


def test_a_first_fit_that_fails_leaves_the_estimator_unfitted(blobs):
    model = ScratchNetClassifier(epochs=0)
    with pytest.raises(sn.InvalidArgumentError, match="epochs"):
        model.fit(*blobs)
    assert not hasattr(model, "classes_")
    with pytest.raises(NotFittedError):
        model.predict(blobs[0])


def test_a_warm_start_after_a_failed_call_fits_the_labels_given_now(blobs, three_blobs):
    model = ScratchNetClassifier(**SMALL, warm_start=True)
    with pytest.raises(sn.InvalidArgumentError, match="learning_rate"):
        model.set_params(learning_rate=-1).fit(*blobs)
    X, y = three_blobs
    model.set_params(learning_rate=0.01).fit(X, y)
    assert model.classes_.tolist() == [3, 5, 8]
    assert model.score(X, y) > 0.9


def test_a_warm_start_may_see_some_of_its_classes_and_no_other(three_blobs):
    """A label it had never seen got the message of an unknown label, which did not say
    that the warm start keeps the fitted classes."""
    X, y = three_blobs  # labels 3, 5, 8
    model = ScratchNetClassifier(**SMALL, warm_start=True).fit(X, y)
    model.fit(X[y != 8], y[y != 8])
    assert model.classes_.tolist() == [3, 5, 8]
    with pytest.raises(InvalidArgumentError, match=r"^warm_start goes on with the fitted "
                       r"classes \[3, 5, 8\]; y holds others, \[4\] \(set"):  # fmt: skip
        model.fit(X, np.where(y == 8, 4, y))
    model.set_params(warm_start=False).fit(X, np.where(y == 8, 4, y))
    assert model.classes_.tolist() == [3, 4, 5]


def test_a_partial_fit_that_fails_leaves_the_regressor_unfitted(waves):
    X, y = waves
    model = ScratchNetRegressor(learning_rate=-1)
    with pytest.raises(sn.InvalidArgumentError, match="learning_rate"):
        model.partial_fit(X, y)
    assert not hasattr(model, "n_features_in_")
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_a_partial_fit_on_other_targets_names_the_regressors_own(waves):
    """It said 'make the last layer size 1', a setting the estimator does not have."""
    X, Y = waves
    model = ScratchNetRegressor(epochs=1).partial_fit(X, Y[:, :2])
    with pytest.raises(
        sn.InvalidArgumentError,
        match=r"^y has 1 target column\(s\) but this regressor was fitted on 2; partial_fit ",
    ):
        model.partial_fit(X, Y[:, 0])
    assert model.n_outputs_ == 2 and model.predict(X).shape == (len(X), 2)


def test_one_class_is_refused(blobs):
    with pytest.raises(ValueError, match=r"y holds one class only \('a'\)"):
        ScratchNetClassifier().fit(blobs[0], np.full(120, "a"))


def test_without_scikit_learn_the_module_names_the_extra_to_install(monkeypatch):
    """One line, naming what to install (simulated: scikit-learn made unimportable)."""
    monkeypatch.setitem(sys.modules, "sklearn.base", None)
    monkeypatch.delitem(sys.modules, "scratchnet.interop.sklearn")
    with pytest.raises(sn.MissingExtraError, match=r"^the scikit-learn interface \(ScratchNet"
                       r"Classifier, ScratchNetRegressor\) needs the optional sklearn extra .*"
                       r"pip install 'scratchnet\[sklearn\]'$"):  # fmt: skip
        import scratchnet.interop.sklearn  # noqa: F401


def test_importing_scratchnet_imports_no_optional_library():
    code = (
        "import sys, scratchnet, scratchnet.network; "
        "print(sorted(m for m in ('sklearn', 'onnx', 'onnxruntime', 'torch', 'dask', "
        "'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


def test_an_estimator_whose_network_holds_positions_goes_on_with_them(three_blobs):
    """As estimators pickled by earlier versions have it: labels 3, 5, 8 in classes_,
    positions 0, 1, 2 in net_. A warm fit and partial_fit go on with the positions."""
    X, y = three_blobs
    model = ScratchNetClassifier(**SMALL, warm_start=True).fit(X, y)
    positions = sn.NeuralNet([16, 3], activation="relu", init="glorot", random_state=0)
    positions.fit(X, np.searchsorted([3, 5, 8], y), epochs=15, batch_size=64,
                  optimizer="adam", learning_rate=0.01)  # fmt: skip
    model.net_ = positions
    model.fit(X, y)
    model.partial_fit(X, y)
    assert model.net_.classes.tolist() == [0, 1, 2]
    assert model.score(X, y) > 0.9


def test_a_partial_fit_with_batch_size_none_is_one_full_batch_step(blobs):
    X, y = blobs
    model = ScratchNetClassifier(**SMALL).set_params(batch_size=10, epochs=1).fit(X, y)
    steps = model.net_.history.records[-1]["step"]
    assert steps == len(X) // 10  # 120 rows in batches of 10
    model.set_params(batch_size=None).partial_fit(X, y)
    assert model.net_.history.records[-1]["step"] == steps + 1


def test_every_refusal_of_the_estimators_is_of_scratchnets_error_family():
    """A user-fixable problem is a ScratchnetError (and still the ValueError scikit-learn
    expects): the first partial_fit without classes, later classes that differ, a label
    never seen."""
    from scratchnet.errors import ScratchnetError

    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ScratchnetError, match="classes must be given"):
        ScratchNetClassifier(epochs=1).partial_fit(X, y)
    model = ScratchNetClassifier(epochs=1).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ScratchnetError, match="differ"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(
        ScratchnetError, match=r"y holds labels \[5\] that are not among the classes \[0, 1\]"
    ):
        model.partial_fit(X, np.array([0, 1, 0, 5]))
    assert issubclass(InvalidArgumentError, ValueError)
