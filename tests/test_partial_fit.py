"""Training that goes on: partial_fit (one more epoch of the same run) and fit with
warm_start (a new run from the current weights). A run continued in steps ends where
the same run done in one call ends (exactly with mini-batches; full-batch fit multiplies
a column-grouped copy of X, partial_fit X itself); a failed call changes nothing; a
fitted network survives pickling with its training state."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.errors import InvalidArgumentError, TrainingDivergedError
from scratchnet.network import FIT_DEFAULTS

pytestmark = pytest.mark.usefixtures("small_chunks_cut")  # small networks, two parts

MINI_BATCH = {"batch_size": 16, "optimizer": "adam", "learning_rate": 0.01}


def net(sizes=(8, 3), **options):
    options = {"activation": "relu", "init": "he", "random_state": 4, **options}
    return sn.NeuralNet(list(sizes), **options)


def test_epochs_of_partial_fit_are_the_epochs_of_one_fit(three_blobs):
    """The same generator draws the initial weights and each epoch's shuffle and
    dropout masks; Adam's moments and step count carry over."""
    X, y = three_blobs
    whole = net(dropout=0.2).fit(X, y, epochs=4, **MINI_BATCH)
    stepwise = net(dropout=0.2)
    for _ in range(4):
        stepwise.partial_fit(X, y, **MINI_BATCH)
    np.testing.assert_array_equal(stepwise.parameters.flat, whole.parameters.flat)
    assert stepwise.history.records == whole.history.records


def test_partial_fit_after_fit_continues_that_run(three_blobs):
    X, y = three_blobs
    whole = net().fit(X, y, epochs=3, **MINI_BATCH)
    continued = net().fit(X, y, epochs=2, **MINI_BATCH).partial_fit(X, y, **MINI_BATCH)
    np.testing.assert_array_equal(continued.parameters.flat, whole.parameters.flat)
    assert [r["epoch"] for r in continued.history.records] == [1, 2, 3]


def test_partial_fit_without_options_goes_on_with_those_of_the_run(three_blobs, blobs):
    """After a mini-batch Adam fit, and after a partial_fit given a learning rate."""
    X, y = three_blobs
    whole = net().fit(X, y, epochs=3, weight_decay=1e-3, **MINI_BATCH)
    continued = net().fit(X, y, epochs=2, weight_decay=1e-3, **MINI_BATCH).partial_fit(X, y)
    np.testing.assert_array_equal(continued.parameters.flat, whole.parameters.flat)
    X, y = blobs
    whole = net((5, 1)).fit(X, y, n_iterations=2, learning_rate=0.3)
    stepwise = net((5, 1)).partial_fit(X, y, learning_rate=0.3).partial_fit(X, y)
    np.testing.assert_array_equal(stepwise.parameters.flat, whole.parameters.flat)


def test_after_a_scheduled_fit_partial_fit_takes_the_rate_before_the_schedule(blobs):
    X, y = blobs
    fitted = net((5, 1)).fit(X, y, epochs=4, schedule="cosine", **MINI_BATCH)
    assert fitted.history.records[-1]["lr"] < 0.01  # the schedule lowered it
    assert fitted.partial_fit(X, y).history.records[-1]["lr"] == 0.01


def test_a_first_partial_fit_without_options_takes_fits_defaults(blobs):
    X, y = blobs
    first = net((5, 1)).partial_fit(X, y).parameters.flat
    np.testing.assert_array_equal(first, net((5, 1)).fit(X, y, n_iterations=1).parameters.flat)
    fit = inspect.signature(sn.NeuralNet.fit).parameters
    assert fit["optimizer"].default == "gd"
    assert (
        fit["learning_rate"].default,
        fit["batch_size"].default,
        sn.GradientDescent(),
        fit["weight_decay"].default,
    ) == FIT_DEFAULTS


def test_full_batch_steps_record_each_set_of_weights_once(blobs):
    """A full-batch record measures the weights before each update and the final ones
    after the last; continuing, the weights already recorded are not recorded again."""
    X, y = blobs
    whole = net((5, 1)).fit(X, y, n_iterations=3, learning_rate=0.3, log_every=1)
    stepwise = net((5, 1))
    for _ in range(3):
        stepwise.partial_fit(X, y, learning_rate=0.3)
    np.testing.assert_array_equal(stepwise.parameters.flat, whole.parameters.flat)
    assert [r["epoch"] for r in stepwise.history.records] == [0, 1, 2, 3]
    assert stepwise.history.column("loss") == pytest.approx(whole.history.column("loss"))


def test_another_optimizer_starts_its_state_afresh(blobs):
    """Adam's first step from a fresh state moves every weight by lr times the sign of
    its gradient, m_hat / sqrt(v_hat) = g / |g| (eps aside): so the switch from gradient
    descent to Adam must not carry any state."""
    X, y = blobs
    fitted = net((5, 1), activation="tanh").partial_fit(X, y, learning_rate=0.1)
    before = fitted.parameters.flat.copy()
    fitted.partial_fit(X, y, optimizer="adam", learning_rate=1e-3)
    moved = np.abs(fitted.parameters.flat - before)
    np.testing.assert_allclose(moved[moved > 0], 1e-3, rtol=1e-4)


def test_a_warm_start_goes_on_from_the_current_weights(blobs):
    """Gradient descent has no state: 5 steps, then 3 more from there, are 8 steps."""
    X, y = blobs
    whole = net((5, 1)).fit(X, y, n_iterations=8, learning_rate=0.3)
    warm = net((5, 1)).fit(X, y, n_iterations=5, learning_rate=0.3)
    warm.fit(X, y, n_iterations=3, learning_rate=0.3, warm_start=True)
    np.testing.assert_array_equal(warm.parameters.flat, whole.parameters.flat)
    assert [r["epoch"] for r in warm.history.records] == [0, 3]  # a new run's history


def test_a_warm_start_keeps_the_networks_dtype_and_needs_its_features(blobs):
    X, y = blobs
    fitted = net((5, 1)).fit(X, y, n_iterations=2)
    fitted.fit(X.astype(np.float32), y, n_iterations=2, warm_start=True)
    assert fitted.dtype == np.float64
    with pytest.raises(InvalidArgumentError, match="X has 5 features, the network expects 6"):
        fitted.fit(X[:, :5], y, warm_start=True)
    with pytest.raises(InvalidArgumentError, match="X has 5 features, the network expects 6"):
        fitted.partial_fit(X[:, :5], y)


def test_a_warm_start_of_an_unfitted_network_is_a_cold_start(blobs):
    X, y = blobs
    cold = net((5, 1)).fit(X, y, n_iterations=4)
    warm = net((5, 1)).fit(X, y, n_iterations=4, warm_start=True)
    np.testing.assert_array_equal(warm.parameters.flat, cold.parameters.flat)


@pytest.mark.parametrize("call", ["partial_fit", "warm fit"])
def test_a_diverging_call_leaves_the_network_as_it_was(blobs, call):
    X, y = blobs
    fitted = net((8, 1)).fit(X, y, epochs=2, **MINI_BATCH)
    weights, records = fitted.parameters.flat.copy(), list(fitted.history.records)
    with pytest.raises(TrainingDivergedError, match="smaller learning rate"):
        if call == "partial_fit":
            fitted.partial_fit(X * 1e3, y, learning_rate=1e300)
        else:
            fitted.fit(X * 1e3, y, learning_rate=1e300, n_iterations=20, warm_start=True)
    np.testing.assert_array_equal(fitted.parameters.flat, weights)
    assert fitted.history.records == records
    whole = net((8, 1)).fit(X, y, epochs=3, **MINI_BATCH)  # the kept state still continues
    np.testing.assert_array_equal(
        fitted.partial_fit(X, y, **MINI_BATCH).parameters.flat, whole.parameters.flat
    )


def test_an_interrupted_partial_fit_changes_nothing(three_blobs):
    class Interrupt(sn.Callback):
        def on_step_end(self, epoch, step, loss):
            if step == 13:  # the third step of the second epoch (10 batches of 16 rows)
                raise KeyboardInterrupt

    X, y = three_blobs
    fitted = net().partial_fit(X, y, **MINI_BATCH)
    weights = fitted.parameters.flat.copy()
    with pytest.raises(KeyboardInterrupt):
        fitted.partial_fit(X, y, callbacks=[Interrupt()], **MINI_BATCH)
    np.testing.assert_array_equal(fitted.parameters.flat, weights)
    assert len(fitted.history.records) == 1


def test_partial_fit_of_a_loaded_model_starts_from_its_weights(blobs, tmp_path):
    X, y = blobs
    fitted = net((5, 1)).fit(X, y, n_iterations=4, learning_rate=0.3)
    fitted.save(tmp_path / "model.npz")
    loaded = sn.NeuralNet.load(tmp_path / "model.npz").partial_fit(X, y, learning_rate=0.3)
    whole = net((5, 1)).fit(X, y, n_iterations=5, learning_rate=0.3)
    np.testing.assert_array_equal(loaded.parameters.flat, whole.parameters.flat)


def test_after_early_stopping_took_the_weights_back_partial_fit_starts_a_new_run(
    three_blobs, tmp_path
):
    """The records after the best epoch describe weights that were dropped: going on
    from the kept weights is a new run, as from a saved model, not epoch last + 1."""
    X, y = three_blobs
    fitted = net().fit(X, y, epochs=40, validation_fraction=0.3, patience=2, **MINI_BATCH)
    assert fitted.history.best_epoch < fitted.history.records[-1]["epoch"]
    fitted.save(tmp_path / "best.npz")
    fitted.partial_fit(X, y, **MINI_BATCH)
    assert [r["epoch"] for r in fitted.history.records] == [1]
    loaded = sn.NeuralNet.load(tmp_path / "best.npz")
    loaded.random_state = fitted.random_state
    loaded.partial_fit(X, y, **MINI_BATCH)
    np.testing.assert_array_equal(loaded.parameters.flat, fitted.parameters.flat)


def test_the_classes_of_a_continued_run_are_the_fitted_ones(three_blobs):
    X, y = three_blobs
    fitted = net().partial_fit(X, y, classes=[8, 5, 3], **MINI_BATCH)
    assert fitted.partial_fit(X[y != 3], y[y != 3], **MINI_BATCH).classes.tolist() == [8, 5, 3]
    with pytest.raises(InvalidArgumentError, match=r"classes \[3, 5, 8\] differ.*\[8, 5, 3\]"):
        fitted.partial_fit(X, y, classes=[3, 5, 8])
    with pytest.raises(
        InvalidArgumentError, match=r"^y holds labels \[4\] that are not among the classes"
    ):
        fitted.partial_fit(X, np.where(y == 3, 4, y))


def test_a_regressor_continues_too(waves):
    X, Y = waves
    whole = sn.NeuralNetRegressor([8, 3], random_state=1).fit(X, Y, epochs=3, **MINI_BATCH)
    stepwise = sn.NeuralNetRegressor([8, 3], random_state=1)
    for _ in range(3):
        stepwise.partial_fit(X, Y, **MINI_BATCH)
    np.testing.assert_array_equal(stepwise.parameters.flat, whole.parameters.flat)


def test_a_pickled_network_predicts_and_continues_like_the_original(three_blobs):
    """Pickling keeps the weights as views of one flat array, which training updates."""
    X, y = three_blobs
    fitted = net().fit(X, y, epochs=2, **MINI_BATCH)
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(copy.predict_proba(X), fitted.predict_proba(X))
    copy.partial_fit(X, y, **MINI_BATCH)
    fitted.partial_fit(X, y, **MINI_BATCH)
    np.testing.assert_array_equal(copy.predict_proba(X), fitted.predict_proba(X))
    assert np.shares_memory(copy.layers[0].weight, copy.parameters.flat)


def test_a_network_pickled_before_it_kept_its_step_options_goes_on(blobs):
    """Unpickled without the attribute, as a network pickled by an earlier version."""
    X, y = blobs
    fitted = net((5, 1)).fit(X, y, n_iterations=2, learning_rate=0.3)
    state = fitted.__dict__.copy()
    del state["_steps"]
    older = object.__new__(sn.NeuralNet)
    older.__dict__.update(state)
    older.partial_fit(X, y)  # fit's defaults: gradient descent at 0.1
    assert older.history.records[-1]["lr"] == 0.1
