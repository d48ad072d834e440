"""Sample weights in fit: the weighted mean loss sum_i w_i L_i / sum_i w_i. Integer
weights train exactly like repeated rows and zero weights like removed rows (full-batch
training sees the same objective); unit weights change nothing; records are weighted
means, checked against the reference network."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.errors import InvalidArgumentError, InvalidTypeError
from scratchnet.training.batching import normalised_weights

from . import reference

pytestmark = pytest.mark.usefixtures("small_chunks_cut")  # small networks, two parts

FULL_BATCH = {"n_iterations": 40, "learning_rate": 0.5}


def net(sizes=(6, 3), **options):
    return sn.NeuralNet(list(sizes), activation="tanh", random_state=2, **options)


def test_integer_weights_train_like_repeated_rows(three_blobs):
    X, y = three_blobs
    counts = np.random.default_rng(0).integers(0, 4, size=len(X))
    weighted = net().fit(X, y, sample_weight=counts, **FULL_BATCH)
    repeated = net().fit(np.repeat(X, counts, axis=0), np.repeat(y, counts), **FULL_BATCH)
    np.testing.assert_allclose(weighted.parameters.flat, repeated.parameters.flat, rtol=1e-10)
    assert weighted.history.records[-1]["loss"] == pytest.approx(
        repeated.history.records[-1]["loss"], rel=1e-12
    )


def test_unit_weights_change_nothing(three_blobs):
    X, y = three_blobs
    options = {"epochs": 3, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01}
    plain = net().fit(X, y, **options)
    weighted = net().fit(X, y, sample_weight=np.ones(len(X)), **options)
    np.testing.assert_array_equal(weighted.parameters.flat, plain.parameters.flat)
    assert weighted.history.records == plain.history.records


RANDOM_WEIGHTS = np.random.default_rng(4).uniform(0.5, 2, size=150)


@pytest.mark.parametrize(
    ("given", "same_as"),
    [(RANDOM_WEIGHTS * 1e307, RANDOM_WEIGHTS), (np.full(150, 1e-310), np.ones(150))],
    ids=["sum overflows", "subnormal"],  # (subnormal weights keep too few bits to vary)
)
@pytest.mark.parametrize("options", [FULL_BATCH, {"epochs": 3, "batch_size": 32}],
                         ids=["full batch", "mini-batch"])  # fmt: skip
def test_only_the_weights_ratios_matter_even_at_the_ends_of_float64(
    three_blobs, given, same_as, options
):
    X, y = three_blobs
    ordinary = net().fit(X, y, sample_weight=same_as, **options)
    extreme = net().fit(X, y, sample_weight=given, **options)
    np.testing.assert_allclose(extreme.parameters.flat, ordinary.parameters.flat, rtol=1e-12)
    assert extreme.history.records[-1]["loss"] == pytest.approx(
        ordinary.history.records[-1]["loss"], rel=1e-12
    )


def test_records_are_weighted_means_of_the_reference_networks_loss_and_accuracy(blobs):
    X, y = blobs
    weights = np.random.default_rng(1).uniform(0, 3, size=len(X))
    fitted = net((5, 1)).fit(X, y, sample_weight=weights, **FULL_BATCH)
    last = fitted.history.records[-1]
    p = reference.probabilities(fitted, X)[np.arange(len(y)), y]
    right = reference.predictions(fitted, X) == y
    assert last["loss"] == pytest.approx(np.average(-np.log(p), weights=weights), rel=1e-10)
    assert last["accuracy"] == pytest.approx(np.average(right, weights=weights), rel=1e-12)


def test_held_out_rows_are_measured_with_their_own_weights(waves):
    X, Y = waves
    weights = np.random.default_rng(3).uniform(0.5, 2, size=len(X))
    fitted = sn.NeuralNetRegressor([8, 1], random_state=0).fit(
        X, Y[:, 0], sample_weight=weights, validation_fraction=0.2, epochs=3, batch_size=20
    )
    rows = fitted.held_out
    squared = (reference.logits(fitted, X[rows])[:, 0] - Y[rows, 0]) ** 2
    expected = np.average(0.5 * squared, weights=weights[rows])
    assert fitted.history.records[-1]["val_loss"] == pytest.approx(expected, rel=1e-10)


def test_in_mini_batches_rows_of_weight_zero_teach_nothing(three_blobs):
    """Whatever rows of weight 0 hold, the run is the same: the same shuffles draw the
    same batches, and those rows add exactly 0 to every gradient."""
    X, y = three_blobs
    weights = np.r_[np.ones(75), np.zeros(75)]
    garbage_X, garbage_y = X.copy(), y.copy()
    garbage_X[75:] = np.random.default_rng(9).normal(scale=50, size=(75, X.shape[1]))
    garbage_y[75:] = garbage_y[75:][::-1]
    options = {"epochs": 3, "batch_size": 10, "optimizer": "adam", "learning_rate": 0.01}
    clean = net(dropout=0.2).fit(X, y, sample_weight=weights, **options)
    dirty = net(dropout=0.2).fit(garbage_X, garbage_y, sample_weight=weights, **options)
    np.testing.assert_array_equal(dirty.parameters.flat, clean.parameters.flat)
    assert dirty.history.records == clean.history.records


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        (np.ones(119), InvalidArgumentError, r"sample_weight must have shape \(120,\).*\(119,\)"),
        (np.ones((120, 1)), InvalidArgumentError, r"shape \(120,\).*\(120, 1\)"),
        (np.r_[np.ones(119), -1], InvalidArgumentError, "non-negative, got -1.0 at row 119"),
        (np.r_[np.nan, np.ones(119)], InvalidArgumentError, "finite.*got nan at row 0"),
        (np.array(["a"] * 120), InvalidTypeError, "sample_weight must hold numbers"),
        (np.zeros(120), InvalidArgumentError, "sample_weight is zero for all 120 rows used here"),
    ],
)
def test_bad_weights_are_rejected(blobs, weights, error, message):
    with pytest.raises(error, match=message):
        net((5, 1)).fit(*blobs, sample_weight=weights)


def test_held_out_rows_that_weigh_nothing_are_refused(blobs):
    X, y = blobs
    fitted = net((5, 1)).fit(X, y, validation_fraction=0.25, n_iterations=1)
    weights = np.ones(len(X))
    weights[fitted.held_out] = 0  # the same seed draws the same split
    with pytest.raises(
        InvalidArgumentError,
        match=r"^sample_weight of the rows held out for validation is zero for all 30 rows",
    ):
        net((5, 1)).fit(X, y, sample_weight=weights, validation_fraction=0.25)


def test_batches_that_weigh_nothing_cost_nothing_and_are_no_yardstick_for_divergence(blobs):
    """Most batches here hold only rows of weight 0 (their cost is exactly 0): a later
    batch's positive cost is not an explosion relative to them."""
    X, y = blobs
    weights = np.r_[np.ones(2), np.zeros(118)]
    fitted = net((5, 1)).fit(X, y, sample_weight=weights, epochs=3, batch_size=10)
    assert len(fitted.history.records) == 3
    assert all(np.isfinite(record["loss"]) for record in fitted.history.records)


def test_each_batch_is_judged_by_its_own_weighted_mean_cost(blobs):
    """One row per batch, most rows weighing a millionth of the others: a batch's cost
    is its weighted mean, so a light first row is no tiny yardstick that makes the cost
    of a heavy row look like an explosion."""
    X, y = blobs
    weights = np.r_[np.ones(2), np.full(118, 1e-6)]
    fitted = net((5, 1)).fit(X, y, sample_weight=weights, epochs=2, batch_size=1)
    assert [record["epoch"] for record in fitted.history.records] == [1, 2]


def test_a_sets_weights_are_normalised_over_its_rows_alone_the_others_weigh_nothing():
    """Held-out rows 1e600 times lighter than the rest: dividing the others by the set's
    largest weight would overflow; they are not the set's, so they weigh 0."""
    weights = np.array([1e300, 3e300, 1e-300, 3e-300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow would warn
        held_out = normalised_weights(weights, np.array([2, 3]), np.float64)
        kept = normalised_weights(weights, np.array([0, 1]), np.float32)
    np.testing.assert_allclose(held_out, [0, 0, 0.5, 1.5], rtol=1e-15)  # w / mean w, by hand
    np.testing.assert_allclose(kept, [0.5, 1.5, 0, 0], rtol=1e-7)
    assert kept.dtype == np.float32
