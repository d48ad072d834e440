"""NeuralNet: fitting, prediction, dtypes, determinism, and every bad-input error."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
import scipy.sparse
from scipy.special import expit

import scratchnet as sn
from scratchnet import Callback, NeuralNet, TrainingDivergedError
from scratchnet.errors import InvalidArgumentError, InvalidTypeError, NotFittedError
from scratchnet.nn.column_groups import grouped

from . import reference


def fitted(X, y, sizes=(8, 1), **fit_options):
    net = NeuralNet(list(sizes), random_state=0)
    fit_options.setdefault("n_iterations", 200)
    fit_options.setdefault("learning_rate", 0.5)
    return net.fit(X, y, **fit_options)


def test_fit_learns_a_separable_problem(blobs):
    X, y = blobs
    net = fitted(X, y)
    assert net.score(X, y) > 0.9
    costs = net.history.column("loss")
    assert costs[-1] < costs[0]


def test_predict_returns_the_training_labels_and_proba_rows_sum_to_one(three_blobs):
    X, y = three_blobs
    net = fitted(X, y, sizes=(10, 3), n_iterations=300)
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba, reference.probabilities(net, X), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(net.predict(X), reference.predictions(net, X))
    assert net.score(X, y) == reference.accuracy(net, X, y) > 0.95


def test_binary_probabilities_have_one_column_per_class(blobs):
    X, y = blobs
    proba = fitted(X, y, n_iterations=5).predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_history_is_logged_every_log_every_iterations_and_at_the_end(blobs):
    X, y = blobs
    net = fitted(X, y, n_iterations=250, log_every=100)
    assert net.history.column("epoch") == [0, 100, 200, 250]  # the weights after as many updates
    assert net.history.column("val_accuracy") == [None] * 4


def test_validation_data_is_measured_at_each_record(blobs):
    X, y = blobs
    net = fitted(X[:80], y[:80], n_iterations=30, log_every=10, validation_data=(X[80:], y[80:]))
    assert len(net.history.column("val_accuracy")) == 4
    last = net.history.records[-1]  # measured with the final weights
    assert last["val_accuracy"] == reference.accuracy(net, X[80:], y[80:])
    assert last["val_loss"] == pytest.approx(reference.cross_entropy(net, X[80:], y[80:]))


def test_fit_twice_gives_identical_results_and_mutates_nothing(blobs):
    X, y = blobs
    sizes = [8, 1]
    X_before, y_before = X.copy(), y.copy()
    net = NeuralNet(sizes, random_state=3)
    first = net.fit(X, y, n_iterations=20).predict_proba(X)
    second = net.fit(X, y, n_iterations=20).predict_proba(X)
    assert np.array_equal(first, second)
    assert sizes == [8, 1]
    assert np.array_equal(X, X_before) and np.array_equal(y, y_before)


def test_same_seed_gives_identical_training(three_blobs):
    X, y = three_blobs
    runs = [
        NeuralNet([6, 3], activation="relu", random_state=9).fit(
            X, y, batch_size=16, epochs=3, optimizer="adam", learning_rate=0.01
        )
        for _ in range(2)
    ]
    assert np.array_equal(runs[0].parameters.flat, runs[1].parameters.flat)
    assert runs[0].history.records == runs[1].history.records


@pytest.mark.parametrize("seed", [1, 2, 2**32 - 1])
def test_the_seed_draws_the_initial_weights(blobs, seed):
    """A step of 1e-300 leaves the weights where they started: LeCun normal draws of
    (fan_out, fan_in) per layer from numpy's Generator seeded with the seed."""
    X, y = blobs
    net = NeuralNet([4, 1], random_state=seed).fit(X, y, n_iterations=1, learning_rate=1e-300)
    rng = np.random.default_rng(seed)
    for layer, (fan_in, fan_out) in zip(net.layers, [(6, 4), (4, 1)], strict=True):
        expected = rng.standard_normal((fan_out, fan_in)).T / np.sqrt(fan_in)
        np.testing.assert_array_equal(layer.weight, expected)
        assert np.all(np.abs(layer.bias) < 1e-290)  # zero, moved by 1e-300 times a gradient


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_of_X_is_kept_end_to_end(blobs, dtype):
    X, y = blobs
    net = fitted(X.astype(dtype), y, n_iterations=10)
    assert net.parameters.flat.dtype == dtype
    assert net.predict_proba(X.astype(dtype)).dtype == dtype
    assert all(layer.weight.dtype == dtype for layer in net.layers)


def test_float32_and_float64_train_to_the_same_predictions(blobs):
    X, y = blobs
    single = fitted(X.astype(np.float32), y)
    double = fitted(X, y)
    np.testing.assert_allclose(single.parameters.flat, double.parameters.flat, rtol=1e-3, atol=1e-4)
    assert np.mean(single.predict(X.astype(np.float32)) == double.predict(X)) > 0.98


def test_layers_have_batch_first_shapes(blobs):
    X, y = blobs
    net = fitted(X, y, sizes=(5, 4, 1), n_iterations=1)
    assert [layer.weight.shape for layer in net.layers] == [(6, 5), (5, 4), (4, 1)]
    assert [layer.bias.shape for layer in net.layers] == [(5,), (4,), (1,)]


def test_summary_lists_layers_and_parameter_count():
    net = NeuralNet([196, 1])
    text = net.summary(784)
    assert "784 -> 196" in text and "196 -> 1" in text and "154,057" in text
    with pytest.raises(NotFittedError, match="not fitted"):
        net.summary()
    for bad in (-3, 0, "6", 2.5):  # -3 printed "-3 -> 196" and "total parameters: -3"...
        with pytest.raises(InvalidArgumentError, match="n_features must be an integer >= 1"):
            net.summary(bad)


def test_summary_says_dropout_without_a_hidden_layer_drops_nothing():
    """It said 'dropout 0.5 after each hidden layer while training' of a network with none."""
    assert NeuralNet([8, 1], dropout=0.5).summary(4).splitlines()[-2] == (
        "dropout 0.5 after each hidden layer while training"
    )
    assert NeuralNet([1], dropout=0.5).summary(4).splitlines()[-2] == (
        "dropout 0.5 set, but there is no hidden layer to drop"
    )


def test_boolean_labels_may_name_their_classes(blobs):
    X, y = blobs
    net = NeuralNet([4, 1], random_state=0).fit(X, y.astype(bool), classes=[False, True],
                                                n_iterations=3)  # fmt: skip
    twin = NeuralNet([4, 1], random_state=0).fit(X, y, classes=[0, 1], n_iterations=3)
    np.testing.assert_array_equal(net.parameters.flat, twin.parameters.flat)


def test_layer_sizes_may_be_a_numpy_array():
    assert NeuralNet(np.array([16, 1])).layer_sizes == (16, 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda X, y: NeuralNet([4, 1]).fit(X, y, optimizer=["adam"]),
        lambda X, y: NeuralNet([4, 1]).fit(X, y, schedule=["cosine"]),
        lambda X, y: NeuralNet([4, 1], activation=["relu"]),
        lambda X, y: NeuralNet([4, 1], init=["he"]),
    ],
    ids=["optimizer", "schedule", "activation", "init"],
)
def test_a_setting_named_by_a_list_is_unknown_not_unhashable(call, blobs):
    with pytest.raises(InvalidArgumentError, match=r"unknown \w+ \['\w+'\]; choose from"):
        call(*blobs)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda net: NeuralNet.load(None), "path must be a str, bytes or a path, got None"),
        (lambda net: net.save(None), "path must be a str, bytes or a path, got None"),
        (lambda net: net.to_onnx(None), "path must be a str, bytes or a path, got None"),
        (lambda net: sn.read_idx(3), "path must be a str, bytes or a path, got 3"),
        (lambda net: sn.load_image(None), "an image must be given by its path or its bytes"),
    ],
    ids=["load", "save", "to_onnx", "read_idx", "load_image"],
)
def test_a_path_that_is_not_one_is_a_type_error_naming_it(call, message, blobs):
    net = fitted(*blobs, n_iterations=1)
    with pytest.raises(InvalidTypeError, match=f"^{message}"):
        call(net)


def test_a_path_given_as_bytes_names_the_file_it_names_as_open_reads_it(blobs, tmp_path):
    """bytes name a file for open(); save, load and the data folder refused them (a
    pathlib TypeError traceback for the data folder)."""
    net = fitted(*blobs, n_iterations=1)
    path = bytes(tmp_path) + b"/caf\xe9.npz"  # not UTF-8: bytes as the file system has them
    net.save(path)
    assert os.listdir(bytes(tmp_path)) == [b"caf\xe9.npz"]
    np.testing.assert_array_equal(NeuralNet.load(path).predict(blobs[0]), net.predict(blobs[0]))
    missing = re.escape(f"data folder {tmp_path}/nowhere does not exist")
    with pytest.raises(sn.DataFileError, match=missing):
        sn.load_mnist(data_dir=os.fsencode(tmp_path / "nowhere"))
    with pytest.raises(InvalidTypeError, match=r"^data folder must be a str, bytes or a path"):
        sn.load_mnist(data_dir=3)


def test_scoring_a_network_not_fitted_yet_says_so(blobs):
    with pytest.raises(NotFittedError, match="not fitted"):
        NeuralNet([5, 1]).score(*blobs)


def test_classes_fix_the_label_order(blobs):
    X, y = blobs
    labels = np.where(y == 1, 2, 1)
    net = fitted(X, labels, classes=[2, 1], n_iterations=50)
    assert net.classes.tolist() == [2, 1]
    proba = net.predict_proba(X)
    assert np.array_equal(net.predict(X), np.where(proba[:, 0] > 0.5, 2, 1))


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (np.zeros(5), InvalidArgumentError, r"X must be 2-D.*\(5,\)"),
        (np.zeros((2, 3, 4)), InvalidArgumentError, r"X must be 2-D.*\(2, 3, 4\)"),
        (np.zeros((0, 3)), InvalidArgumentError, r"X is empty: shape \(0, 3\)"),
        (np.zeros((4, 0)), InvalidArgumentError, r"X is empty: shape \(4, 0\)"),
        (
            np.zeros((4, 3), dtype=np.uint8),
            InvalidTypeError,
            r"^X must hold float32 or float64 values, got uint8; scale raw images with scratchnet"
            r"\.preprocess$",
        ),
        (
            np.zeros((4, 3), dtype=np.int64),  # tabular data, not images
            InvalidTypeError,
            r"got int64; convert it with \.astype\(np\.float32\) \(raw uint8 images: ",
        ),
        (
            np.zeros((4, 3), dtype=object),  # what pandas' nullable Float64 columns give
            InvalidTypeError,
            r"got object; convert its values to numbers first \(a pandas DataFrame: df\.to_numpy\(",
        ),
        (np.array([["a", "b"]]), InvalidTypeError, "float32 or float64"),
        (
            scipy.sparse.csr_matrix(np.eye(4, 3)),
            InvalidTypeError,
            r"^X is a SciPy sparse matrix; scratchnet takes dense arrays: pass its \.toarray\(\)$",
        ),
    ],
    ids=["1-D", "3-D", "no rows", "no columns", "uint8", "int64", "object", "strings", "sparse"],
)
def test_bad_features_are_rejected(X, error, message):
    with pytest.raises(error, match=message):
        NeuralNet([2, 1]).fit(X, np.zeros(X.shape[0], dtype=int))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features_are_rejected_with_their_position(blobs, bad):
    X, y = blobs
    X = X.copy()
    X[7, 2] = bad
    with pytest.raises(InvalidArgumentError, match=r"NaN or infinite.*row 7, column 2"):
        NeuralNet([2, 1]).fit(X, y)
    with pytest.raises(InvalidArgumentError, match="NaN or infinite"):
        fitted(blobs[0], y, n_iterations=1).predict(X)


def test_large_finite_features_are_checked_without_an_overflow_warning(recwarn):
    """Their sum overflows to infinity, which sends the check to look at each value."""
    X = np.full((4, 2), 1e308)
    NeuralNet([2, 1]).fit(X, [0, 1, 0, 1], n_iterations=1)
    assert [str(warning.message) for warning in recwarn] == []


def test_labels_of_the_wrong_length_are_rejected(blobs):
    X, y = blobs
    with pytest.raises(InvalidArgumentError, match="X has 120 rows but y has 119 labels"):
        NeuralNet([2, 1]).fit(X, y[:-1])


def test_labels_outside_the_classes_are_rejected(blobs):
    X, y = blobs
    with pytest.raises(
        InvalidArgumentError, match=r"^y holds labels \[7\] that are not among the classes"
    ):
        NeuralNet([2, 1]).fit(X, np.where(np.arange(120) == 4, 7, y), classes=[0, 1])
    with pytest.raises(InvalidArgumentError, match=r"^validation y holds labels \[9\] that"):
        NeuralNet([2, 1]).fit(X, y, validation_data=(X, np.full(120, 9)))


@pytest.mark.parametrize("pair", [(1, 2, 3), "Xy", None.__class__])
def test_validation_data_must_be_a_pair(blobs, pair):
    X, y = blobs
    with pytest.raises(InvalidTypeError, match=r"^validation_data must be a pair \(X_val, y_val\)"):
        NeuralNet([2, 1]).fit(X, y, n_iterations=1, validation_data=pair)


def test_validation_comes_from_data_or_a_fraction_not_both(blobs):
    X, y = blobs
    with pytest.raises(InvalidArgumentError, match=r"^give validation_data or validation_fraction"):
        NeuralNet([2, 1]).fit(X, y, n_iterations=1, validation_data=(X, y),
                              validation_fraction=0.2)  # fmt: skip


def test_scoring_labels_the_model_does_not_know_names_them_and_its_classes(blobs):
    """A CLI model predicts the digits 3 and 8; load_mnist((3, 8)) labels them 0 and 1."""
    X, y = blobs
    net = fitted(X, np.where(y == 1, 8, 3), n_iterations=50)
    assert net.score(X, np.where(y == 1, 8, 3)) == reference.accuracy(net, X, np.where(y, 8, 3))
    with pytest.raises(
        InvalidArgumentError,
        match=r"labels the model does not predict: \[0, 1\]; its classes are \[3, 8\]",
    ):
        net.score(X, y)


def test_a_single_sample_gives_one_label_and_one_row_of_probabilities(three_blobs):
    X, y = three_blobs
    net = fitted(X, y, sizes=(10, 3), n_iterations=100)
    label, row = net.predict(X[4]), net.predict_proba(X[4])
    assert label == reference.predictions(net, X[4:5])[0]
    assert row.shape == (3,)
    np.testing.assert_allclose(row, reference.probabilities(net, X[4:5])[0], rtol=1e-12)


@pytest.mark.parametrize("shape", [(5,), (2, 2, 3)])
def test_samples_of_the_wrong_shape_say_what_to_pass(blobs, shape):
    net = fitted(*blobs, n_iterations=1)
    with pytest.raises(InvalidArgumentError, match=r"pass one sample as \(6,\) or samples"):
        net.predict(np.zeros(shape))


def test_repr_shows_the_architecture_and_whether_it_is_fitted(blobs):
    net = NeuralNet([8, 1], activation="tanh", dropout=0.25)
    assert repr(net) == (
        "NeuralNet([8, 1], activation='tanh', init='lecun', dropout=0.25; unfitted)"
    )
    net.fit(*blobs, n_iterations=1)
    assert repr(net).endswith("; fitted on 6 features)")


@pytest.mark.parametrize(
    ("y", "error", "message"),
    [
        (np.full(120, 0.5), InvalidTypeError, "integer class labels"),
        (np.zeros((120, 2)), InvalidArgumentError, "1-D"),
        (np.zeros(120, dtype=int), InvalidArgumentError, r"at least two classes.*\[0\]"),
        (
            np.arange(120, dtype=np.uint64) % 2 + 2**63,
            InvalidArgumentError,
            r"labels outside the int64 range \(largest 9,223,372,036,854,775,807\)",
        ),
        (np.arange(120) % 2 * 1e19, InvalidArgumentError, "labels outside the int64 range"),
    ],
)
def test_bad_labels_are_rejected(blobs, y, error, message):
    with pytest.raises(error, match=message):
        NeuralNet([2, 1]).fit(blobs[0], y)


def test_output_size_must_match_the_classes(three_blobs, blobs):
    X, y = three_blobs
    with pytest.raises(InvalidArgumentError, match=r"single output unit classifies two.*3"):
        NeuralNet([4, 1]).fit(X, y)
    with pytest.raises(
        InvalidArgumentError,
        match=r"output layer has 4 units but there are 2 classes; make the last layer size 2, "
        r"or name all 4 classes with classes=\[\.\.\.\]",
    ):
        NeuralNet([4, 4]).fit(*blobs)
    with pytest.raises(  # named, too few: naming all four helps (a review)
        InvalidArgumentError, match=r"size 2, or name all 4 classes with classes=\[\.\.\.\]$"
    ):
        NeuralNet([4, 4]).fit(*blobs, classes=[0, 1])
    assert NeuralNet([4, 4]).fit(*blobs, classes=[0, 1, 2, 3], n_iterations=1).classes.size == 4
    with pytest.raises(  # narrower than y's classes: naming them cannot help
        InvalidArgumentError, match=r"there are 3 classes; make the last layer size 3$"
    ):
        NeuralNet([4, 2]).fit(*three_blobs)


@pytest.mark.parametrize(
    ("sizes", "error", "message"),
    [
        ([196, 0], InvalidArgumentError, "layer size.*>= 1, got 0"),
        ([-3, 1], InvalidArgumentError, "layer size.*>= 1, got -3"),
        ([2.5, 1], InvalidArgumentError, "layer size.*got 2.5"),
        ([], InvalidArgumentError, "at least the output size"),
        ("196", InvalidTypeError, "sequence of integers"),
    ],
)
def test_bad_layer_sizes_are_rejected(sizes, error, message):
    with pytest.raises(error, match=message):
        NeuralNet(sizes)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"learning_rate": 0}, "learning_rate must be a positive finite number, got 0"),
        ({"learning_rate": -0.1}, "learning_rate must be a positive.*-0.1"),
        ({"learning_rate": np.nan}, "learning_rate must be a positive.*nan"),
        ({"n_iterations": 0}, "n_iterations must be an integer >= 1, got 0"),
        ({"n_iterations": 2.5}, "n_iterations must be an integer >= 1, got 2.5"),
        ({"n_iterations": 5, "epochs": 5}, "n_iterations or epochs, not both"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"log_every": 0}, "log_every must be an integer >= 1"),
    ],
)
def test_bad_training_options_are_rejected(blobs, options, message):
    with pytest.raises(InvalidArgumentError, match=message):
        NeuralNet([2, 1]).fit(*blobs, **options)


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("fit", {"warm_start": "no"}, "warm_start must be True or False, got 'no'"),
        ("fit", {"measure_training": "no"}, "measure_training must be True or False, got 'no'"),
        ("fit", {"verbose": "no"}, "verbose must be True, False or a number, got 'no'"),
        ("partial_fit", {"verbose": "no"}, "verbose must be True, False or a number, got 'no'"),
    ],
)
def test_yes_no_options_refuse_what_is_not_a_truth_value(blobs, method, options, message):
    """The string "no" is true: taken for its truth it would warm-start, print or measure."""
    net = NeuralNet([2, 1], random_state=0).fit(*blobs, n_iterations=2)
    before = net.parameters.flat.copy()
    with pytest.raises(InvalidTypeError, match=f"^{message}$"):
        getattr(net, method)(*blobs, **options)
    np.testing.assert_array_equal(net.parameters.flat, before)


def test_training_memory_refuses_a_column_groups_setting_that_is_not_a_truth_value():
    with pytest.raises(InvalidTypeError, match=r"^column_groups must be True or False, got 'no'"):
        NeuralNet([8, 1]).training_memory(4, column_groups="no")


def test_yes_no_options_take_numpy_booleans(blobs, capsys):
    warm = NeuralNet([2, 1], random_state=0).fit(*blobs, n_iterations=2)
    start = warm.parameters.flat.copy()
    warm.fit(*blobs, n_iterations=1, learning_rate=1e-300, warm_start=np.True_, verbose=np.False_)
    np.testing.assert_allclose(warm.parameters.flat, start, rtol=0, atol=1e-250)  # not new weights
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("callbacks", "message"),
    [
        (Callback(), "callbacks must be a list of sn.Callback objects, got <"),
        (3, "callbacks must be a list of sn.Callback objects, got 3"),
        (
            [object()],
            r"callbacks must be sn.Callback objects \(subclass sn.Callback\), got <object",
        ),
    ],
    ids=["one callback", "a number", "not a callback"],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_callbacks_are_refused_before_training(blobs, callbacks, message, method):
    net = NeuralNet([2, 1], random_state=0)
    with pytest.raises(InvalidTypeError, match=message):
        getattr(net, method)(*blobs, callbacks=callbacks)
    assert net.parameters is None


def test_no_callbacks_may_be_given_as_none(blobs):
    net = NeuralNet([2, 1], random_state=0)
    plain = NeuralNet([2, 1], random_state=0).fit(*blobs, n_iterations=3)
    np.testing.assert_array_equal(net.fit(*blobs, n_iterations=3, callbacks=None).parameters.flat,
                                  plain.parameters.flat)  # fmt: skip


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"activation": "swish"}, InvalidArgumentError, "unknown activation 'swish'"),
        ({"init": "zeros"}, InvalidArgumentError, "unknown init 'zeros'"),
        ({"random_state": "seed"}, InvalidTypeError, "random_state must be an int"),
        ({"random_state": -1}, InvalidArgumentError, r"random_state must be an integer from 0"),
        ({"random_state": 2**32}, InvalidArgumentError, r"to 2\*\*32 - 1 = 4294967295, got 4"),
    ],
)
def test_bad_constructor_options_are_rejected(options, error, message):
    with pytest.raises(error, match=message):
        NeuralNet([2, 1], **options)


def test_predicting_before_fitting_says_so(blobs):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        NeuralNet([2, 1]).predict(blobs[0])


def test_predicting_with_the_wrong_number_of_features_says_so(blobs):
    net = fitted(*blobs, n_iterations=1)
    with pytest.raises(InvalidArgumentError, match="X has 5 features, the network expects 6"):
        net.predict(blobs[0][:, :5])


def test_a_diverging_run_names_the_iteration_and_suggests_a_smaller_rate(blobs):
    X, y = blobs
    with pytest.raises(TrainingDivergedError, match=r"iteration \d+.*smaller learning rate"):
        NeuralNet([8, 1], activation="relu", random_state=0).fit(
            X * 1e3, y, learning_rate=1e300, n_iterations=20
        )


@pytest.mark.parametrize("fraction", [None, 0.25], ids=["every row", "validation fraction"])
def test_full_batch_rows_stored_by_column_groups_train_as_numpy_computes(monkeypatch, fraction):
    """Image-like rows (most columns rarely non-zero), 2500 of them (chunks past the
    first add to the gradient): full-batch training on every row multiplies a copy
    stored by column groups; with a validation fraction the kept rows are read from X.
    Either way the final record holds the final weights' costs, computed plainly."""
    import scratchnet.network

    copies = []
    monkeypatch.setattr(scratchnet.network, "grouped",
                        lambda *args: copies.append(args) or grouped(*args))  # fmt: skip
    rng = np.random.default_rng(8)
    use = np.geomspace(1.0, 0.002, 60)
    X = rng.uniform(0.1, 1.0, (2500, 60)) * (rng.random((2500, 60)) < use)
    X[:, [4, 33]] = 0.0
    y = rng.integers(0, 3, 2500)
    net = NeuralNet([9, 3], activation="tanh", random_state=0)
    net.fit(X, y, n_iterations=3, learning_rate=0.5, validation_fraction=fraction)
    assert len(copies) == (fraction is None)
    if copies:
        assert len(copies[0][1].bounds) > 2  # a later group holding only some rows
    held_out = np.array([], dtype=int) if fraction is None else net.held_out
    kept = np.setdiff1d(np.arange(2500), held_out)
    final = net.history.records[-1]

    def cost(rows):
        p = reference.probabilities(net, X[rows])
        return -np.mean(np.log(p[np.arange(len(rows)), y[rows]]))

    assert final["epoch"] == 3
    assert final["train_loss"] == pytest.approx(cost(kept), rel=1e-12)
    if fraction is not None:
        assert final["val_loss"] == pytest.approx(cost(held_out), rel=1e-12)


def test_inputs_whose_products_overflow_are_refused_without_a_warning(blobs, recwarn):
    """Finite rows of 3e38 overflow float32 in the first product, and ReLU carries the
    infinities on (a sigmoid would saturate, correctly): no NaN probabilities and no label
    picked from them, but one message naming the rows."""
    X, y = blobs
    net = NeuralNet([8, 1], activation="relu", random_state=0)
    net.fit(X.astype(np.float32), y, n_iterations=5)
    huge = np.full((3, 6), 3e38, np.float32)
    huge[0] = 0.5  # a row that goes through
    for method in (net.predict, net.predict_proba):
        with pytest.raises(
            InvalidArgumentError,
            match=r"^the network's outputs overflow float32 for 2 row\(s\) of X \(first row 1\): "
            r"X is too large for its weights",
        ):
            method(huge)
    assert [str(warning.message) for warning in recwarn] == []


def test_values_too_large_for_the_models_float32_are_named_as_such(blobs):
    """1e39 is finite in float64 and infinite in float32: the message says so, with the
    value as given (not 'NaN or infinite: inf')."""
    X, y = blobs
    net = fitted(X.astype(np.float32), y, n_iterations=5)
    query = np.ones((2, 6))
    query[1, 2] = 1e39
    too_large = (
        r"^X holds values too large for float32 \(1 of them; first at row {}, column 2: 1e\+39\)"
    )
    with pytest.raises(InvalidArgumentError, match=too_large.format(1)):
        net.predict(query)
    with pytest.raises(InvalidArgumentError, match=too_large.format(121)):  # after X's 120
        net.fit(np.vstack([X, query]), np.r_[y, 0, 1], n_iterations=1, warm_start=True)
    with pytest.raises(InvalidArgumentError, match="^validation " + too_large[1:].format(1)):
        NeuralNet([4, 1]).fit(X.astype(np.float32), y, validation_data=(query, [0, 1]))


def test_ragged_rows_are_one_clear_error_in_fit_and_predict(blobs):
    X, y = blobs
    ragged = [[0.1, 0.2], [0.3]]
    with pytest.raises(InvalidArgumentError, match=r"^X cannot be made an array \(are its rows"):
        NeuralNet([2, 1]).fit(ragged, [0, 1])
    net = fitted(X, y, n_iterations=2)
    with pytest.raises(InvalidArgumentError, match=r"^X cannot be made an array"):
        net.predict(ragged)
    with pytest.raises(InvalidArgumentError, match=r"^y cannot be made an array"):
        NeuralNet([2, 1]).fit(X[:2], [[0], [1, 1]])


def test_an_array_that_fails_to_convert_itself_is_one_clear_error():
    """A torch tensor that requires grad raises RuntimeError from its __array__; the
    rows-of-different-lengths guess is for ragged lists only."""

    class Refusing:
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad.")

    with pytest.raises(
        InvalidArgumentError, match=r"^X cannot be made an array: Can't call numpy\(\) on"
    ):
        NeuralNet([2, 1]).fit(Refusing(), [0, 1])


def test_one_image_given_to_predict_is_told_to_be_flattened(blobs):
    net = NeuralNet([3, 2], random_state=0).fit(np.zeros((4, 784)), [0, 1, 0, 1], n_iterations=1)
    with pytest.raises(
        InvalidArgumentError,
        match=r"^X has shape \(28, 28\); pass one sample as \(784,\) or samples as rows "
        r"\(n, 784\) \(scratchnet\.preprocess flattens images\)$",
    ):
        net.predict(np.zeros((28, 28)))
    table = NeuralNet([3, 1], random_state=0).fit(np.eye(4), [0, 1, 0, 1], n_iterations=1)
    with pytest.raises(InvalidArgumentError, match=r"^X has 2 features, the network expects 4$"):
        table.predict(np.zeros((2, 2)))  # two rows of a table, not an image


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
@pytest.mark.parametrize("kind", ["csr_matrix", "csr_array"])
def test_predicting_on_a_sparse_matrix_names_it(blobs, method, kind):
    net = fitted(*blobs, n_iterations=1)
    with pytest.raises(InvalidTypeError, match=r"^X is a SciPy sparse matrix; .*\.toarray\(\)$"):
        getattr(net, method)(getattr(scipy.sparse, kind)(blobs[0]))


def test_a_big_endian_array_is_float64_as_any_other(blobs):
    """Data read from a big-endian file (dtype '>f8') trains and predicts as its
    native-order copy does."""
    X, y = blobs
    swapped = X.astype(">f8")
    one = fitted(swapped, y, n_iterations=5)
    other = fitted(X, y, n_iterations=5)
    np.testing.assert_array_equal(one.predict_proba(swapped), other.predict_proba(X))


@pytest.mark.parametrize(("dtype", "logit"), [(np.float32, 1e-8), (np.float64, 1e-17)])
def test_a_logit_whose_probability_rounds_to_one_half_is_a_tie_for_every_reader(
    blobs, dtype, logit
):
    """sigmoid(1e-8) is 0.5 in float32: predict picks the first class, as predict_proba's
    argmax and ONNX's ArgMax do (it picked the second, by z > 0)."""
    X, y = blobs
    net = NeuralNet([4, 1], random_state=0).fit(X.astype(dtype), np.where(y, 7, 3), n_iterations=2)
    for layer in net.layers:
        layer.weight[...] = 0
    net.layers[-1].bias[...] = logit
    probabilities = net.predict_proba(X[:2].astype(dtype))
    assert probabilities.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert net.predict(X[:2].astype(dtype)).tolist() == [3, 3]
    net.layers[-1].bias[...] = 1e-3  # a probability above one half: the second class
    assert net.predict(X[:2].astype(dtype)).tolist() == [7, 7]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_class_probabilities_are_precise_far_from_one_half(blobs, dtype):
    """Both columns to the dtype's relative precision (SciPy's expit as reference): the
    first was 1 - sigma(z), exactly 0 from z = 17 in float32, so log_loss had -inf."""
    X, y = blobs
    net = NeuralNet([4, 1], random_state=0).fit(X.astype(dtype), y, n_iterations=2)
    for layer in net.layers:
        layer.weight[...] = 0
    logits = np.array([40.0, -40.0, 25.0, -3.0])
    rows = X[:4].astype(dtype)
    expected = np.stack([expit(-logits), expit(logits)], axis=1)
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    for row, logit, wanted in zip(rows, logits, expected, strict=True):
        net.layers[-1].bias[...] = logit
        np.testing.assert_allclose(net.predict_proba(row), wanted, rtol=rtol, atol=0)
        np.testing.assert_allclose(
            np.exp(net.predict_log_proba(row)), wanted, rtol=2 * rtol, atol=0
        )


@pytest.mark.parametrize("sizes", ["8,1", 8, {8, 1}, b"\x08\x01"])
def test_layer_sizes_must_be_a_sequence(sizes):
    with pytest.raises(InvalidTypeError, match=r"^layer_sizes must be a sequence of integers"):
        NeuralNet(sizes)


def test_augmenting_needs_images_of_the_distortions_size(blobs):
    X, y = blobs
    with pytest.raises(
        InvalidArgumentError,
        match=r"^augment distorts images of 28x28 = 784 pixels, but X has 6 features",
    ):
        NeuralNet([2, 1]).fit(X, y, n_iterations=1, augment="affine")


def test_ragged_sample_weights_and_classes_are_one_clear_error(blobs):
    X, _ = blobs
    with pytest.raises(InvalidArgumentError, match=r"^sample_weight cannot be made an array"):
        NeuralNet([2, 1]).fit(X[:2], [0, 1], sample_weight=[[1.0], [1.0, 2.0]])
    with pytest.raises(InvalidArgumentError, match=r"^classes cannot be made an array"):
        NeuralNet([2, 1]).fit(X[:2], [0, 1], classes=[[0], [1, 2]])
