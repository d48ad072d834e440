"""Saving and loading models (.npz without pickle)."""

from __future__ import annotations

import io
import json
import os
import re
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchnet import NeuralNet, NeuralNetRegressor, serialization
from scratchnet.archive import write_archive
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
        pytest.param(os.mkfifo, r"cannot be read \(not a regular file\)", id="a FIFO"),
    ],
)
def test_loading_a_file_that_is_no_model_names_it(
    write, pattern, tmp_path, fails_instead_of_hanging
):
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
    "newer version": (  # a file of a newer scratchnet
        lambda a, m: m.update(version=7),
        r"model format version 7 is newer than this scratchnet reads \(1 and 2\): install the",
    ),
    "unknown version": (
        lambda a, m: m.update(version="2"),
        r"model format version '2' is not supported \(this scratchnet reads 1 and 2\)$",
    ),
    "a version of 2.0": (  # JSON's 2.0 equals 2, as True equals 1
        lambda a, m: m.update(version=2.0),
        r"model format version 2\.0 is not supported \(this scratchnet reads 1 and 2\)$",
    ),
    "a version of 1,000 digits": (  # shown cut to 20 characters, as any other version
        lambda a, m: m.update(version=int("9" * 1000)),
        r"model format version 9{20} is newer than this scratchnet reads \(1 and 2\)",
    ),
    "metadata not json": (lambda a, m: a.update(meta=np.array("{oops")), "no readable metadata"),
    "an integer of 4,400 digits in the metadata": (  # json.loads: a plain ValueError
        lambda a, m: a.update(meta=np.array('{"version": 1' + "0" * 4400 + "}")),
        "no readable metadata",
    ),
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


# -- hostile files: each case found by trying, and fuzzing ----------------------------------


def zip_entries(data: bytes) -> list[tuple[int, int]]:
    """(local header offset, central directory entry offset) of each member."""
    central = [i for i in range(len(data)) if data[i : i + 4] == b"PK\x01\x02"]
    return [(int.from_bytes(data[c + 42 : c + 46], "little"), c) for c in central]


def test_a_flipped_encryption_bit_in_the_zip_directory_is_a_data_file_error(saved_binary):
    data = bytearray(saved_binary.read_bytes())
    _, central = zip_entries(bytes(data))[0]
    data[central + 8] |= 0x01  # general purpose flag: "encrypted"
    saved_binary.write_bytes(bytes(data))
    assert_load_fails(saved_binary, "encrypted")


def test_an_unknown_zip_version_is_a_data_file_error(saved_binary):
    data = bytearray(saved_binary.read_bytes())
    for local, central in zip_entries(bytes(data)):
        data[local + 4] = data[central + 6] = 228  # version needed to extract
    saved_binary.write_bytes(bytes(data))
    assert_load_fails(saved_binary, "damaged|not a scratchnet model")


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda a, m: m.update(n_features=10**15), "integers from 1 to 1048576"),
        (lambda a, m: m.update(layer_sizes=[100_000, 100_000, 1]), "parameters, more than"),
        (lambda a, m: m.update(layer_sizes=[1] * 1000), "list of 1 to 64 sizes"),
        (lambda a, m: m.update(layer_sizes="5,1"), "list of 1 to 64 sizes"),
        (lambda a, m: m.update(n_features=True), "integers from 1"),
        (lambda a, m: m.update(dropout="none"), "dropout is not a number"),
    ],
    ids=[
        "huge n_features",
        "huge layers",
        "too many layers",
        "sizes not a list",
        "bool",
        "dropout",
    ],
)
def test_metadata_outside_its_schema_is_refused_before_any_array_is_read(
    change, pattern, saved_binary
):
    assert_load_fails(rewrite(saved_binary, change), pattern)


def test_deeply_nested_metadata_is_a_data_file_error(saved_binary):
    nested = np.array("[" * 5000 + "]" * 5000)
    assert_load_fails(rewrite(saved_binary, lambda a, m: a.update(meta=nested)), "metadata")


def test_a_member_without_npy_is_refused(saved_binary):
    with zipfile.ZipFile(saved_binary, "a") as archive:
        archive.writestr("notes.txt", "hello")
    assert_load_fails(saved_binary, "unexpected member 'notes.txt'")


@pytest.mark.parametrize("member", ["weight_0", "junk"])
def test_a_huge_compressed_member_is_refused_without_being_read(member, saved_binary):
    """A file of about 200 KB holding a member of 200 MB of zeros: refused from its
    header and the member list, while the memory used stays small."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (5000, 5000)}
    )
    with zipfile.ZipFile(saved_binary, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        if member == "weight_0":  # replace the real one: rewrite without it first
            archive.close()
            saved_binary.write_bytes(
                rewrite(saved_binary, lambda a, m: a.pop("weight_0")).read_bytes()
            )
            archive = zipfile.ZipFile(saved_binary, "a", compression=zipfile.ZIP_DEFLATED)
        with archive.open(f"{member}.npy", "w", force_zip64=True) as stream:
            stream.write(header.getvalue())
            zeros = bytes(1 << 20)
            for _ in range(200):
                stream.write(zeros)
        archive.close()
    assert saved_binary.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        assert_load_fails(saved_binary, r"\(5000, 5000\)|unexpected junk")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


def test_values_that_overflow_the_models_dtype_are_refused(request, tmp_path):
    net, _ = fit_tiny(request, "binary", np.float32)
    net.save(tmp_path / "model.npz")

    def huge(arrays, meta):
        arrays["weight_0"] = arrays["weight_0"].astype(np.float64)
        arrays["weight_0"][0, 0] = 1e300  # finite in float64, inf in float32

    assert_load_fails(
        rewrite(tmp_path / "model.npz", huge), r"NaN or infinite values \(in float32\)"
    )


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda a, m: a.update(weight_0=a["weight_0"].astype(np.complex128)), "dtype complex128"),
        (lambda a, m: a.update(weight_0=a["weight_0"].astype(np.int64)), "dtype int64"),
        (lambda a, m: a.update(classes=np.array([1, 2**63], np.uint64)), "64-bit signed"),
        (lambda a, m: a.update(classes=np.array(["a", "b"])), "dtype <U1"),
    ],
    ids=["complex weights", "integer weights", "classes beyond int64", "string classes"],
)
def test_arrays_of_the_wrong_kind_are_refused(change, pattern, saved_binary):
    assert_load_fails(rewrite(saved_binary, change), pattern)


def with_member(path: Path, name: str, change) -> Path:
    """A copy of the archive at ``path`` whose member ``name`` holds ``change(bytes)``."""
    damaged = path.with_name("damaged.npz")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data) if info.filename == name else data)
    return damaged


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


MAGIC_1_0 = b"\x93NUMPY\x01\x00"


MEMBER_DAMAGE = {
    "npy version 3": (
        lambda b: b"\x93NUMPY\x03\x00" + b[8:],
        r"^: weight_1 is an \.npy file of unsupported version \(3, 0\)$",
    ),
    "header not a dict": (
        lambda b: MAGIC_1_0 + (10).to_bytes(2, "little") + b"not a dict",
        r"^: weight_1 has no valid \.npy header",
    ),
    "objects": (
        lambda b: npy_bytes(np.array([1.0, None], dtype=object)),
        r"^: weight_1 holds objects or records \(object\), which are never read$",
    ),
    "records": (
        lambda b: npy_bytes(np.zeros(3, dtype=[("w", "<f8")])),
        r"^: weight_1 holds objects or records",
    ),
    "Fortran order": (
        lambda b: npy_bytes(np.asfortranarray(np.ones((2, 2)))),
        r"^: weight_1 is stored in Fortran order, which scratchnet never writes$",
    ),
    "trailing bytes": (
        lambda b: b + b"\0\0",
        r"^: weight_1 declares \d+ bytes where its header implies \d+$",
    ),
}


@pytest.mark.parametrize(
    ("change", "pattern"), list(MEMBER_DAMAGE.values()), ids=list(MEMBER_DAMAGE)
)
def test_a_member_that_is_not_a_plain_npy_array_names_its_problem(change, pattern, saved_binary):
    """Each check of a member's .npy bytes, on a saved model with one member replaced."""
    assert_load_fails(with_member(saved_binary, "weight_1.npy", change), pattern)


def test_a_member_whose_bytes_fail_their_checksum_is_a_damaged_member(saved_binary):
    """The zip's CRC-32 catches a byte changed in a member's stored data."""
    with zipfile.ZipFile(saved_binary) as archive:
        info = archive.getinfo("weight_1.npy")
    data = bytearray(saved_binary.read_bytes())
    name_length, extra_length = (
        int.from_bytes(data[info.header_offset + k : info.header_offset + k + 2], "little")
        for k in (26, 28)
    )
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size - 1] ^= 0xFF  # the last byte of the member's data
    saved_binary.write_bytes(bytes(data))
    assert_load_fails(saved_binary, r"^: damaged archive member weight_1 \(.*CRC")


def loads_or_says_why(path: Path) -> None:
    """The one promise for any file: a model with finite weights, or DataFileError."""
    try:
        net = NeuralNet.load(path)
    except DataFileError as error:
        assert str(path) in str(error)
    else:
        assert all(np.all(np.isfinite(layer.weight)) for layer in net.layers)


@pytest.mark.fuzz
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**7), st.integers(1, 255)), min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 10**7)),
)
@settings(deadline=None)
def test_damaged_model_files_load_or_give_a_data_file_error(tmp_path_factory, flips, cut):
    folder = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)), np.arange(20) % 3
    path = folder / "model.npz"
    NeuralNet([3, 3], random_state=0).fit(X, y, n_iterations=1).save(path)
    data = bytearray(path.read_bytes())
    for position, mask in flips:
        data[position % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    path.write_bytes(bytes(data))
    loads_or_says_why(path)


@pytest.mark.fuzz
@given(content=st.binary(max_size=3000))
@settings(deadline=None)
def test_any_bytes_load_or_give_a_data_file_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "model.npz"
    path.write_bytes(b"PK\x03\x04" + content)
    loads_or_says_why(path)


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


def test_loading_reads_the_weights_into_the_model_without_a_second_copy(tmp_path):
    """The file's arrays were read whole, then copied into the model's: a file of 2**28
    parameters (the limit) took twice its 2 GiB. Peak traced allocations stay near one
    copy of the parameters (2,000 x 2,000 in float64: 32 MB)."""
    net = NeuralNet([2000, 1])
    net.fit(np.random.default_rng(0).random((4, 2000)), [0, 1, 0, 1], n_iterations=1)
    weights = net.parameters.flat.nbytes
    net.save(tmp_path / "big.npz")
    tracemalloc.start()
    try:
        loaded = NeuralNet.load(tmp_path / "big.npz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(loaded.parameters.flat, net.parameters.flat)
    assert weights <= peak < 1.25 * weights


def test_a_model_file_of_members_smaller_than_its_metadata_says_is_refused_before_allocating(
    tmp_path,
):
    """Metadata of 16,000 x 16,000 float64 weights over members of one value each: the
    model's 2 GB were allocated before the first member's header was read (a MemoryError
    traceback under a memory limit)."""
    meta = {"format": serialization.FORMAT, "version": serialization.VERSION,
            "layer_sizes": [16000, 1], "n_features": 16000, "activation": "relu",
            "init": "he", "dropout": 0.0, "dtype": "float64", "output": "identity"}  # fmt: skip
    shapes = {"weight_0": (1, 1), "bias_0": (1,), "weight_1": (1, 1), "bias_1": (1,)}
    write_archive(tmp_path / "small.npz", meta, {k: np.zeros(v) for k, v in shapes.items()})
    tracemalloc.start()
    try:
        expected = r"weight_0 has shape \(1, 1\) where \(16000, 16000\)"
        with pytest.raises(DataFileError, match=expected):
            NeuralNetRegressor.load(tmp_path / "small.npz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10**7
