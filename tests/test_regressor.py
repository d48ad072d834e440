"""NeuralNetRegressor: an identity output with squared error, one or several targets,
its records, its score, and every bad-input error. Expected values come from the
reference network (tests/reference.py) and scikit-learn's metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import r2_score

import scratchnet as sn
from scratchnet.errors import InvalidArgumentError, InvalidTypeError, NotFittedError

from . import reference

pytestmark = pytest.mark.usefixtures("small_chunks_cut")  # small networks, two parts

MINI_BATCH = {"epochs": 60, "batch_size": 16, "optimizer": "adam", "learning_rate": 0.01}


def regressor(n_outputs=1, **options):
    return sn.NeuralNetRegressor([32, n_outputs], activation="tanh", random_state=0, **options)


def test_a_regressor_learns_a_smooth_function_and_predicts_with_the_networks_function(waves):
    X, Y = waves
    net = regressor().fit(X[:120], Y[:120, 0], **MINI_BATCH)
    predicted = net.predict(X[120:])
    assert predicted.shape == (30,)
    np.testing.assert_allclose(predicted, reference.logits(net, X[120:])[:, 0], rtol=1e-12)
    assert r2_score(Y[120:, 0], predicted) > 0.9
    assert net.classes is None


def test_several_targets_give_one_column_each(waves):
    X, Y = waves
    net = regressor(3).fit(X, Y, **MINI_BATCH)
    assert net.predict(X).shape == (150, 3)
    assert net.predict(X[7]).shape == (3,)
    np.testing.assert_allclose(net.predict(X[7]), reference.logits(net, X[7:8])[0], rtol=1e-12)
    assert r2_score(Y, net.predict(X)) > 0.9


@pytest.mark.parametrize("columns", [1, 3])
def test_score_is_scikit_learns_r2_averaged_over_the_outputs(waves, columns):
    X, Y = waves
    y = Y[:, 0] if columns == 1 else Y
    net = regressor(columns).fit(X, y, epochs=5, batch_size=32, optimizer="adam")
    assert net.score(X, y) == pytest.approx(r2_score(y, net.predict(X)), rel=1e-12)


def test_an_output_whose_targets_are_all_equal_scores_as_scikit_learn_scores_it(waves):
    """SS_tot = 0: 1 if predicted exactly, else 0 (r2_score's force_finite)."""
    X, Y = waves
    Y = Y.copy()
    Y[:, 1] = 4.0
    net = regressor(3).fit(X, Y, epochs=2, batch_size=50)
    assert net.score(X, Y) == pytest.approx(r2_score(Y, net.predict(X)), rel=1e-12)


def test_records_have_the_loss_as_half_the_mean_squared_error_and_no_accuracy(waves):
    X, Y = waves
    net = regressor(3).fit(
        X[:100], Y[:100], n_iterations=20, learning_rate=0.05, log_every=5,
        validation_data=(X[100:], Y[100:]),
    )  # fmt: skip
    last = net.history.records[-1]
    assert last["epoch"] == 20
    assert last["loss"] == pytest.approx(
        0.5 * np.mean((reference.logits(net, X[:100]) - Y[:100]) ** 2), rel=1e-10
    )
    assert last["val_loss"] == pytest.approx(
        0.5 * np.mean((reference.logits(net, X[100:]) - Y[100:]) ** 2), rel=1e-10
    )
    assert {r["accuracy"] for r in net.history.records} == {None}
    assert {r["val_accuracy"] for r in net.history.records} == {None}


def test_a_validation_fraction_holds_out_that_share_of_all_rows(waves):
    X, Y = waves
    net = regressor().fit(X, Y[:, 0], validation_fraction=0.2, patience=3, **MINI_BATCH)
    assert len(net.held_out) == 30 and len(set(net.held_out.tolist())) == 30
    best = net.history.best_epoch
    best_record = next(r for r in net.history.records if r["epoch"] == best)
    held_out = net.held_out
    expected = 0.5 * np.mean((reference.logits(net, X[held_out])[:, 0] - Y[held_out, 0]) ** 2)
    assert best_record["val_loss"] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_dtype_of_X_is_kept(waves, dtype):
    X, Y = waves
    net = regressor().fit(X.astype(dtype), Y[:, 0], epochs=2, batch_size=50)
    assert net.dtype == dtype and net.predict(X.astype(dtype)).dtype == dtype


def test_progress_lines_of_a_regression_show_costs_only(waves, capsys):
    X, Y = waves
    regressor().fit(X, Y[:, 0], epochs=2, batch_size=50, verbose=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2: batch cost ")
    assert "accuracy" not in capsys.readouterr().err + "".join(lines)


def test_summary_names_the_identity_output():
    assert "identity" in sn.NeuralNetRegressor([8, 2]).summary(5).splitlines()[2]


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y", "error", "message"),
    [
        (np.array(["a"] * 150), InvalidTypeError, "y must hold numbers.*<U1"),
        (np.zeros((150, 2)), InvalidArgumentError, r"2 target column\(s\).*1 unit\(s\)"),
        (np.zeros((150, 1, 1)), InvalidArgumentError, "1-D.*or 2-D"),
        (np.zeros(149), InvalidArgumentError, "X has 150 rows but y has 149 targets"),
        (np.r_[np.zeros(149), np.nan], InvalidArgumentError, "y contains NaN.*row 149"),
        (
            np.r_[np.zeros(149), 1e300],
            InvalidArgumentError,
            r"y holds values too large for float32 \(1 of them; first at row 149, column 0: "
            r"1e\+300\)",
        ),
    ],
)
def test_bad_targets_are_rejected(waves, y, error, message):
    X = waves[0].astype(np.float32)  # 1e300 is finite in float64, infinite in float32
    with pytest.raises(error, match=message):
        regressor().fit(X, y)


def test_classes_are_refused_and_validation_targets_checked(waves):
    X, Y = waves
    with pytest.raises(InvalidArgumentError, match="classes is for classifiers"):
        regressor().fit(X, Y[:, 0], classes=[0, 1])
    with pytest.raises(InvalidArgumentError, match=r"^validation X has 10 rows but validation y"):
        regressor().fit(X, Y[:, 0], validation_data=(X[:10], Y[:9, 0]))
    with pytest.raises(InvalidArgumentError, match=r"^validation y contains NaN.*row 3"):
        regressor().fit(X, Y[:, 0], validation_data=(X[:10], np.r_[Y[:3, 0], np.nan, Y[4:10, 0]]))


def test_scoring_checks_the_targets(waves):
    X, Y = waves
    net = regressor().fit(X, Y[:, 0], epochs=1, batch_size=50)
    with pytest.raises(InvalidArgumentError, match="y contains NaN"):
        net.score(X, np.full(150, np.nan))
    with pytest.raises(InvalidArgumentError, match="X has 150 rows but y has 3 targets"):
        net.score(X, Y[:3, 0])


def test_targets_of_the_wrong_width_get_the_fix_that_applies(waves):
    """Training targets decide an unfitted network's last layer; the targets of a fitted
    one, or validation targets, must fit it (they were told to resize the layer)."""
    X, Y = waves
    two = sn.NeuralNetRegressor([8, 2], random_state=0)
    layer_fix = r"^y has 1 target column\(s\) but the output layer has 2 unit\(s\); make the last"
    with pytest.raises(InvalidArgumentError, match=layer_fix + r" layer size 1$"):
        two.fit(X, Y[:, 0], epochs=1, batch_size=50)
    targets_fix = r"target column\(s\) but the output layer has 2 unit\(s\); give {} 2 column"
    with pytest.raises(InvalidArgumentError, match=targets_fix.format("validation y")):
        two.fit(X, Y[:, :2], epochs=1, batch_size=50, validation_data=(X, Y[:, 0]))
    two.fit(X, Y[:, :2], epochs=1, batch_size=50)
    for act in (lambda: two.score(X, Y[:, 0]), lambda: two.partial_fit(X, Y[:, 0])):
        with pytest.raises(InvalidArgumentError, match=targets_fix.format("y") + r"\(s\), one"):
            act()


def test_predicting_before_fitting_names_the_class(waves):
    with pytest.raises(NotFittedError, match="this NeuralNetRegressor is not fitted yet"):
        regressor().predict(waves[0])


def test_targets_too_large_for_the_models_float32_are_named_as_such(waves):
    X, _ = waves
    targets = np.full(len(X), 1e39)
    targets[:3] = 1.0
    with pytest.raises(
        InvalidArgumentError,
        match=rf"^y holds values too large for float32 \({len(X) - 3} of them; first at row 3, "
        r"column 0: 1e\+39\)",
    ):
        sn.NeuralNetRegressor([4, 1], random_state=0).fit(X.astype(np.float32), targets)


def test_targets_too_large_for_the_initial_weights_are_named_with_the_features(waves):
    """X in [-1.5, 1.5] and targets near 1e160: the first cost is infinite, and the
    message names the targets too, not only the features."""
    X, Y = waves
    with pytest.raises(sn.TrainingDivergedError, match="the features or the targets are too large"):
        sn.NeuralNetRegressor([4, 1], random_state=0).fit(X, Y[:, 0] * 1e160, n_iterations=5)
