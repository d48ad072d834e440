"""Saving and loading models (.npz without pickle)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from scratchnet import NeuralNet, NeuralNetRegressor, serialization
from scratchnet.errors import DataFileError, NotFittedError
from scratchnet.network import Network

ARCHIVE_NAMES = ["bias_0", "bias_1", "classes", "meta", "weight_0", "weight_1"]

# name -> (data fixture, layer sizes, class order given to fit, hidden activation)
MODELS = {
    "binary": ("blobs", [5, 1], [1, 0], "tanh"),
    "softmax": ("three_blobs", [6, 3], [8, 3, 5], "relu"),
}


def fit_tiny(request, kind: str, dtype) -> tuple[NeuralNet, np.ndarray]:
    """A few iterations on a fixture's data: the fitted net and its inputs."""
    fixture, layer_sizes, classes, activation = MODELS[kind]
    X, y = request.getfixturevalue(fixture)
    X = X.astype(dtype)
    net = NeuralNet(layer_sizes, activation=activation, random_state=0)
    return net.fit(X, y, classes=classes, n_iterations=5), X


@pytest.fixture
def saved_binary(request, tmp_path) -> Path:
    net, _ = fit_tiny(request, "binary", np.float64)
    path = tmp_path / "model.npz"
    net.save(path)
    return path


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# -- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_round_trip_predicts_exactly_the_same(kind, dtype, request, tmp_path):
    net, X = fit_tiny(request, kind, dtype)
    net.save(tmp_path / "model.npz")
    loaded = NeuralNet.load(tmp_path / "model.npz")
    probabilities = loaded.predict_proba(X)
    assert probabilities.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(probabilities, net.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_round_trip_keeps_the_architecture_classes_and_weights(kind, dtype, request, tmp_path):
    net, _ = fit_tiny(request, kind, dtype)
    net.save(tmp_path / "model.npz")
    loaded = NeuralNet.load(tmp_path / "model.npz")
    _, layer_sizes, classes, activation = MODELS[kind]
    assert loaded.classes.tolist() == classes
    assert loaded.layer_sizes == tuple(layer_sizes)
    assert loaded.activation == activation
    assert loaded.summary() == net.summary()
    for original, restored in zip(net.layers, loaded.layers, strict=True):
        assert restored.weight.dtype == restored.bias.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(restored.weight, original.weight)
        np.testing.assert_array_equal(restored.bias, original.bias)


def test_archive_is_readable_with_numpy_alone(request, tmp_path):
    net, X = fit_tiny(request, "binary", np.float32)
    net.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ARCHIVE_NAMES
        meta = json.loads(str(archive["meta"]))
        assert archive["classes"].tolist() == [1, 0]
        assert archive["weight_0"].shape == (X.shape[1], 5)
        assert archive["bias_1"].shape == (1,)
        assert archive["weight_0"].dtype == np.float32
    assert meta["format"] == "scratchnet-model"
    assert meta["version"] == 2
    assert meta["output"] == "sigmoid"
    assert meta["layer_sizes"] == [5, 1]
    assert meta["dtype"] == "float32"
    assert meta["activation"] == "tanh"


def test_save_writes_exactly_the_given_path(request, tmp_path):
    """np.savez would append .npz to a file name; save must not."""
    net, X = fit_tiny(request, "softmax", np.float64)
    net.save(tmp_path / "weights.bin")
    assert names_in(tmp_path) == ["weights.bin"]
    np.testing.assert_array_equal(
        NeuralNet.load(tmp_path / "weights.bin").predict(X), net.predict(X)
    )


def test_saving_an_unfitted_model_is_refused(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        NeuralNet([3, 1]).save(tmp_path / "model.npz")
    assert names_in(tmp_path) == []


def test_failed_save_leaves_the_previous_file_untouched(request, tmp_path, monkeypatch):
    net, _ = fit_tiny(request, "binary", np.float64)
    path = tmp_path / "model.npz"
    path.write_bytes(b"the previous model")

    def savez_failing_midway(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", savez_failing_midway)
    with pytest.raises(OSError, match="disk full"):
        net.save(path)
    assert path.read_bytes() == b"the previous model"
    assert names_in(tmp_path) == ["model.npz"]


# -- loading what is not a valid model ----------------------------------------------------


def write_random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(1).bytes(500))


def write_single_array(path: Path) -> None:
    with path.open("wb") as file:
        np.save(file, np.ones((6, 5)))


def write_archive_without_meta(path: Path) -> None:
    with path.open("wb") as file:
        np.savez(file, weight_0=np.ones((6, 5)), classes=np.array([0, 1]))


@pytest.mark.parametrize(
    ("write", "pattern"),
    [
        pytest.param(lambda path: None, "no such model file", id="missing"),
        pytest.param(lambda path: path.write_bytes(b""), "not a scratchnet model", id="empty"),
        pytest.param(write_random_bytes, "not a scratchnet model", id="random-bytes"),
        pytest.param(write_single_array, "not a scratchnet model", id="npy-array"),
        pytest.param(write_archive_without_meta, "no readable metadata", id="no-meta"),
    ],
)
def test_loading_a_file_that_is_no_model_names_it(write, pattern, tmp_path):
    path = tmp_path / "model.npz"
    write(path)
    assert_load_fails(path, pattern)


def assert_load_fails(path: Path, pattern: str) -> None:
    with pytest.raises(DataFileError) as failure:
        NeuralNet.load(path)
    message = str(failure.value)
    assert str(path) in message
    assert re.search(pattern, message.replace(str(path), ""), re.IGNORECASE), message


def rewrite(path: Path, change) -> Path:
    """A copy of the archive at ``path`` with ``change`` applied to its arrays."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    stored_meta = arrays["meta"]
    meta = json.loads(str(stored_meta))
    change(arrays, meta)
    if arrays["meta"] is stored_meta:  # the change did not replace the metadata itself
        arrays["meta"] = np.array(json.dumps(meta))
    damaged = path.with_name("damaged.npz")
    with damaged.open("wb") as file:
        np.savez(file, **arrays)
    return damaged


def set_nan(arrays, meta):
    arrays["weight_1"] = arrays["weight_1"].copy()
    arrays["weight_1"][2, 0] = np.nan


CORRUPTIONS = {
    "other format": (lambda a, m: m.update(format="keras-model"), "not a scratchnet model"),
    "wrong version": (lambda a, m: m.update(version=7), "version 7 is not supported"),
    "metadata not json": (lambda a, m: a.update(meta=np.array("{oops")), "no readable metadata"),
    "meta missing a key": (lambda a, m: m.pop("activation"), "activation"),
    "unknown activation": (lambda a, m: m.update(activation="swish"), "swish"),
    "missing bias": (lambda a, m: a.pop("bias_1"), "bias_1"),
    "weight of wrong shape": (lambda a, m: a.update(weight_0=a["weight_0"][:4]), r"\(4, 5\)"),
    "nan in a weight": (set_nan, "nan|finite"),
    "three classes for one output": (lambda a, m: a.update(classes=np.arange(3)), "class"),
    "repeated classes": (lambda a, m: a.update(classes=np.array([4, 4])), "class"),
    "integer dtype": (lambda a, m: m.update(dtype="int8"), "int8"),
    "unknown output": (lambda a, m: m.update(output="swish"), "output must be one of.*swish"),
    "output of another type": (lambda a, m: m.update(output=[1]), r"output must be.*\[1\]"),
    "softmax of one unit": (lambda a, m: m.update(output="softmax"), "softmax output cannot"),
    "version 1 with its classes missing": (
        lambda a, m: (m.update(version=1), a.pop("classes")),
        "classes",
    ),
}


@pytest.mark.parametrize(("change", "pattern"), list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_loading_a_damaged_model_names_the_file_and_problem(change, pattern, saved_binary):
    assert_load_fails(rewrite(saved_binary, change), pattern)


def test_an_unchanged_rewrite_still_loads(saved_binary):
    """The damage cases above differ from a valid archive by their change alone."""
    rewritten = rewrite(saved_binary, lambda arrays, meta: None)
    assert NeuralNet.load(rewritten).classes.tolist() == [1, 0]


# -- regression models, and files of format version 1 ----------------------------------------


@pytest.fixture
def saved_regressor(waves, tmp_path) -> tuple[NeuralNetRegressor, np.ndarray, Path]:
    X, Y = waves
    net = NeuralNetRegressor([6, 3], activation="relu", random_state=0)
    net.fit(X.astype(np.float32), Y, epochs=2, batch_size=50)
    net.save(tmp_path / "regressor.npz")
    return net, X.astype(np.float32), tmp_path / "regressor.npz"


def test_a_regressor_round_trips_without_classes(saved_regressor):
    net, X, path = saved_regressor
    with np.load(path, allow_pickle=False) as archive:
        assert "classes" not in archive.files
        meta = json.loads(str(archive["meta"]))
    assert (meta["version"], meta["output"]) == (2, "identity")
    for reader in (NeuralNetRegressor, Network):
        loaded = reader.load(path)
        assert type(loaded) is NeuralNetRegressor and loaded.classes is None
        np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_each_class_reads_only_its_kind_of_model(saved_regressor, saved_binary):
    with pytest.raises(DataFileError, match=r"NeuralNetRegressor.*NeuralNetRegressor\.load"):
        NeuralNet.load(saved_regressor[2])
    with pytest.raises(DataFileError, match=r"holds a NeuralNet .*read it with NeuralNet\.load"):
        NeuralNetRegressor.load(saved_binary)
    assert type(Network.load(saved_binary)) is NeuralNet


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_a_version_1_file_is_read_as_before(kind, request, tmp_path):
    """Version 1 had no output key: one output unit meant a sigmoid, more a softmax."""
    net, X = fit_tiny(request, kind, np.float64)
    net.save(tmp_path / "model.npz")
    old = rewrite(tmp_path / "model.npz", lambda a, m: (m.update(version=1), m.pop("output")))
    loaded = NeuralNet.load(old)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert loaded.classes.tolist() == net.classes.tolist()


def test_a_regression_file_with_classes_or_without_an_output_is_refused(saved_regressor):
    path = saved_regressor[2]
    with_classes = rewrite(path, lambda a, m: a.update(classes=np.array([0, 1])))
    with pytest.raises(DataFileError, match="classes"):
        NeuralNetRegressor.load(with_classes)
    without_output = rewrite(path, lambda a, m: m.pop("output"))
    with pytest.raises(DataFileError, match=r"output must be one of.*None"):
        NeuralNetRegressor.load(without_output)
