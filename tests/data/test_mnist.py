"""MNIST loading: digit selection, where the files are looked for, how they are verified.

Tests that use the ``mnist_dir`` fixture read the real files; the others use empty
stand-in files (the lookup never reads a file) or no files at all.
"""

from __future__ import annotations

import gzip
import os
import re
import socket
from pathlib import Path

import numpy as np
import pytest

from scratchnet.data import mnist
from scratchnet.data.mnist import (
    ENV_DATA_DIR,
    MNIST_FILES,
    TEST_LABELS,
    TRAIN_IMAGES,
    MissingDataError,
    cache_dir,
    check_digits,
    load_mnist,
    locate_files,
    search_folders,
)
from scratchnet.errors import DataFileError, InvalidArgumentError, InvalidTypeError

# Facts from the official dataset description, independent of the code under test.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
GZ_NAMES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def expected_cache() -> Path:
    """The cache folder the conftest isolates: $XDG_CACHE_HOME/scratchnet."""
    return Path(os.environ["XDG_CACHE_HOME"]) / "scratchnet"


def stand_ins(folder: Path, names=GZ_NAMES) -> Path:
    """Empty files with the given names: enough for the lookup, which reads nothing."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).touch()
    return folder


def official(mnist_dir: Path, name: str, header_bytes: int) -> np.ndarray:
    """The data of an official file, decoded here without scratchnet."""
    raw = gzip.decompress((mnist_dir / f"{name}.gz").read_bytes())
    return np.frombuffer(raw, dtype=np.uint8, offset=header_bytes)


@pytest.fixture
def no_env(monkeypatch):
    """SCRATCHNET_DATA_DIR unset, whatever the environment of the test run."""
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)


@pytest.fixture(scope="module")
def one_two(mnist_dir):
    """load_mnist with its default digits (1, 2)."""
    return load_mnist(data_dir=mnist_dir)


@pytest.fixture(scope="module")
def one_two_digits(mnist_dir):
    """Digits 1 and 2 with their labels kept as digits."""
    return load_mnist((1, 2), mnist_dir, relabel=False)


# --- real data -----------------------------------------------------------------------


def test_default_is_one_vs_two_relabelled(one_two):
    assert one_two.digits == (1, 2)
    assert one_two.x_train.shape == (12700, 28, 28)
    assert one_two.x_test.shape == (2167, 28, 28)
    assert one_two.x_train.dtype == one_two.x_test.dtype == np.uint8
    assert one_two.y_train.dtype == one_two.y_test.dtype == np.int64
    assert np.bincount(one_two.y_train).tolist() == [6742, 5958]  # 1 -> 0, 2 -> 1
    assert np.bincount(one_two.y_test).tolist() == [1135, 1032]


def test_relabel_false_keeps_the_digits(one_two, one_two_digits):
    assert sorted(set(one_two_digits.y_train.tolist())) == [1, 2]
    np.testing.assert_array_equal(one_two_digits.y_train, one_two.y_train + 1)
    np.testing.assert_array_equal(one_two_digits.y_test, one_two.y_test + 1)
    np.testing.assert_array_equal(one_two_digits.x_train, one_two.x_train)


def test_order_of_digits_defines_class_indices(mnist_dir, one_two_digits):
    two_one = load_mnist((2, 1), mnist_dir)

    assert two_one.digits == (2, 1)
    np.testing.assert_array_equal(two_one.y_train, (one_two_digits.y_train == 1).astype(int))
    np.testing.assert_array_equal(two_one.y_test, (one_two_digits.y_test == 1).astype(int))
    assert np.bincount(two_one.y_train).tolist() == [5958, 6742]


def test_all_ten_digits_give_the_whole_dataset(mnist_dir):
    everything = load_mnist(range(10), mnist_dir)

    assert everything.x_train.shape == (60000, 28, 28)
    assert everything.x_test.shape == (10000, 28, 28)
    assert np.bincount(everything.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(everything.y_test).tolist() == TEST_COUNTS
    assert everything.y_train[:10].tolist() == FIRST_TRAIN_LABELS
    assert everything.y_test[:10].tolist() == FIRST_TEST_LABELS


def test_samples_are_kept_in_file_order(mnist_dir, one_two_digits):
    # The first training labels are 5 0 4 1 9 2 1 3 1 4: the ones and twos are at 3 5 6 8.
    assert one_two_digits.y_train[:4].tolist() == [1, 2, 1, 1]
    assert one_two_digits.y_test[:3].tolist() == [2, 1, 1]  # test labels start 7 2 1 0 4 1
    labels = official(mnist_dir, "train-labels-idx1-ubyte", 8)
    images = official(mnist_dir, "train-images-idx3-ubyte", 16).reshape(-1, 28, 28)
    keep = (labels == 1) | (labels == 2)
    np.testing.assert_array_equal(one_two_digits.x_train, images[keep])
    np.testing.assert_array_equal(one_two_digits.y_train, labels[keep])


def test_uncompressed_files_are_accepted(tmp_path, mnist_dir, one_two):
    for name in GZ_NAMES:
        (tmp_path / name.removesuffix(".gz")).write_bytes(
            gzip.decompress((mnist_dir / name).read_bytes())
        )

    assert sorted(p.name for p in locate_files(tmp_path).values()) == sorted(
        n.removesuffix(".gz") for n in GZ_NAMES
    )
    raw = load_mnist((1, 2), tmp_path)
    for got, want in zip(raw[:4], one_two[:4], strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_gzip_file_under_the_raw_name_is_recognised(tmp_path, mnist_dir, one_two):
    for name in GZ_NAMES:
        (tmp_path / name.removesuffix(".gz")).write_bytes((mnist_dir / name).read_bytes())

    for got, want in zip(load_mnist((1, 2), tmp_path)[:4], one_two[:4], strict=True):
        np.testing.assert_array_equal(got, want)


def flip_middle_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


CORRUPTIONS = {
    "flipped-byte": flip_middle_byte,
    "truncated": lambda data: data[: len(data) // 2],
    "extra-byte": lambda data: data + b"\x00",
    "empty": lambda data: b"",
}


CORRUPTED_COPIES = [
    *(pytest.param(TRAIN_IMAGES, True, kind, id=f"train-images-gz-{kind}") for kind in CORRUPTIONS),
    pytest.param(TEST_LABELS, True, "flipped-byte", id="test-labels-gz-flipped-byte"),
    pytest.param(TEST_LABELS, False, "truncated", id="test-labels-raw-truncated"),
]


@pytest.mark.parametrize(("file", "compressed", "corruption"), CORRUPTED_COPIES)
def test_corrupted_copy_fails_its_checksum(
    tmp_path, monkeypatch, mnist_dir, file, compressed, corruption
):
    # The other three files come from the real folder, searched after data_dir.
    monkeypatch.setenv(ENV_DATA_DIR, str(mnist_dir))
    data = (mnist_dir / file.gz_name).read_bytes()
    if not compressed:
        data = gzip.decompress(data)
    bad = tmp_path / (file.gz_name if compressed else file.name)
    bad.write_bytes(CORRUPTIONS[corruption](data))

    with pytest.raises(DataFileError, match="checksum mismatch") as error:
        load_mnist((1, 2), tmp_path)
    assert str(error.value).startswith(f"{bad}: ")


# --- where the files are looked for ----------------------------------------------------


def test_search_folders_order_is_data_dir_env_cache(tmp_path, monkeypatch):
    data, env = stand_ins(tmp_path / "data", []), stand_ins(tmp_path / "env", [])
    monkeypatch.setenv(ENV_DATA_DIR, str(env))

    assert search_folders(data) == [data, env, expected_cache()]
    assert search_folders(str(data)) == [data, env, expected_cache()]
    assert search_folders(None) == [env, expected_cache()]


@pytest.mark.parametrize("env_value", [None, ""], ids=["unset", "empty"])
def test_only_the_cache_without_data_dir_or_env(monkeypatch, env_value):
    if env_value is None:
        monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    else:
        monkeypatch.setenv(ENV_DATA_DIR, env_value)

    assert search_folders(None) == [expected_cache()]


def test_data_dir_expands_the_home_folder(tmp_path, monkeypatch, no_env):
    monkeypatch.setenv("HOME", str(tmp_path))
    stand_ins(tmp_path / "mnist", [])

    assert search_folders("~/mnist")[0] == tmp_path / "mnist"


def test_cache_dir_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    assert cache_dir() == tmp_path / "xdg" / "scratchnet"


@pytest.mark.parametrize("xdg_value", [None, ""], ids=["unset", "empty"])
def test_cache_dir_falls_back_to_home_cache(tmp_path, monkeypatch, xdg_value):
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg_value is None:
        monkeypatch.delenv("XDG_CACHE_HOME")
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg_value)

    assert cache_dir() == tmp_path / ".cache" / "scratchnet"


@pytest.mark.parametrize(
    ("holders", "winner"),
    [
        (("data", "env", "cache"), "data"),
        (("data", "cache"), "data"),
        (("env", "cache"), "env"),
        (("cache",), "cache"),
    ],
)
def test_first_folder_holding_the_files_wins(tmp_path, monkeypatch, holders, winner):
    folders = {"data": tmp_path / "data", "env": tmp_path / "env", "cache": expected_cache()}
    for name in ("data", "env"):
        folders[name].mkdir()
    monkeypatch.setenv(ENV_DATA_DIR, str(folders["env"]))
    for holder in holders:
        stand_ins(folders[holder])

    found = locate_files(folders["data"], download_missing=False)

    assert sorted(found.values()) == sorted(folders[winner] / name for name in GZ_NAMES)


def test_files_may_come_from_different_folders(tmp_path, monkeypatch):
    data = stand_ins(tmp_path / "data", GZ_NAMES[:1])
    env = stand_ins(tmp_path / "env", GZ_NAMES[1:3])
    stand_ins(expected_cache(), GZ_NAMES[3:])
    monkeypatch.setenv(ENV_DATA_DIR, str(env))

    found = locate_files(data, download_missing=False)

    assert [found[f] for f in MNIST_FILES] == [
        data / GZ_NAMES[0],
        env / GZ_NAMES[1],
        env / GZ_NAMES[2],
        expected_cache() / GZ_NAMES[3],
    ]


def test_gzip_is_preferred_to_raw_in_the_same_folder(tmp_path, no_env):
    stand_ins(tmp_path, GZ_NAMES + [n.removesuffix(".gz") for n in GZ_NAMES])

    found = locate_files(tmp_path, download_missing=False)

    assert sorted(p.name for p in found.values()) == sorted(GZ_NAMES)


def test_raw_file_in_an_earlier_folder_beats_gzip_in_a_later_one(tmp_path, no_env):
    stand_ins(tmp_path, [n.removesuffix(".gz") for n in GZ_NAMES])
    stand_ins(expected_cache())

    found = locate_files(tmp_path, download_missing=False)

    assert sorted(found.values()) == sorted(tmp_path / n.removesuffix(".gz") for n in GZ_NAMES)


@pytest.mark.parametrize("kind", ["missing", "a-file"])
def test_explicit_data_dir_must_be_a_folder(tmp_path, no_env, kind):
    data_dir = tmp_path / "mnist"
    if kind == "a-file":
        data_dir.write_bytes(b"")

    with pytest.raises(
        DataFileError, match=rf"^data folder {re.escape(str(data_dir))} does not exist or is not a"
    ):
        load_mnist((1, 2), data_dir)


def test_env_folder_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "nowhere"))

    with pytest.raises(
        DataFileError, match=rf"\${ENV_DATA_DIR} .*nowhere does not exist or is not a folder"
    ):
        load_mnist((1, 2))


def test_a_stale_env_folder_is_passed_over_when_a_data_dir_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "nowhere"))
    data_dir = tmp_path / "data"
    data_dir.mkdir()

    assert search_folders(data_dir) == [data_dir, cache_dir()]


# --- missing files ---------------------------------------------------------------------


def test_missing_files_without_download_name_them_and_the_remedies(tmp_path, no_env):
    data = stand_ins(tmp_path / "data", GZ_NAMES[:2])

    with pytest.raises(MissingDataError) as error:
        load_mnist((1, 2), data, download_missing=False)

    assert error.value.missing == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert error.value.searched == [data, expected_cache()]
    assert str(error.value) == (
        "MNIST files not found: t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz "
        f"(downloads are off); searched {data}, {expected_cache()}; pass the folder holding "
        f"them as data_dir or set ${ENV_DATA_DIR}"
    )
    assert not expected_cache().exists()  # nothing was downloaded


def test_only_the_files_of_the_splits_asked_for_are_needed(tmp_path, no_env, mnist_dir):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (data / name).symlink_to(mnist_dir / name)
    only_test = load_mnist((3, 8), data, download_missing=False, splits=("test",))
    assert only_test.x_train.shape == (0, 28, 28) and only_test.y_train.shape == (0,)
    assert len(only_test.x_test) == 1010 + 974  # the official counts of 3s and 8s
    assert only_test.files == (
        data / "t10k-images-idx3-ubyte.gz",
        data / "t10k-labels-idx1-ubyte.gz",
    )
    with pytest.raises(MissingDataError, match=r"train-images-idx3-ubyte\.gz"):
        load_mnist((3, 8), data, download_missing=False)
    with pytest.raises(InvalidArgumentError, match="splits must be among"):
        load_mnist((3, 8), data, splits=("validation",))
    alone = load_mnist((3, 8), data, download_missing=False, splits="test")  # one split
    np.testing.assert_array_equal(alone.x_test, only_test.x_test)  # not the letters of "test"
    assert alone.x_train.shape == (0, 28, 28)


@pytest.fixture
def refused_port():
    """A local port whose socket is bound but not listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_download_without_network_gives_one_line_error(tmp_path, monkeypatch, no_env, refused_port):
    monkeypatch.setenv("no_proxy", "*")
    mirrors = (f"http://127.0.0.1:{refused_port}/a/", f"http://127.0.0.1:{refused_port}/b")
    monkeypatch.setattr(mnist, "MIRRORS", mirrors)

    with pytest.raises(MissingDataError) as error:
        load_mnist((1, 2), tmp_path)

    message = str(error.value)
    assert "\n" not in message and len(message) < 400
    assert message.startswith(f"MNIST files not found: {', '.join(GZ_NAMES)} (download failed: ")
    assert "Connection refused" in message
    assert "data_dir" in message and ENV_DATA_DIR in message
    assert list(expected_cache().iterdir()) == []  # no partial or temporary file


# --- digits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ((1, 2), (1, 2)),
        ([7, 3], (7, 3)),
        (range(10), tuple(range(10))),
        ((np.int64(4), np.uint8(9)), (4, 9)),
        (np.array([3, 8]), (3, 8)),
    ],
)
def test_check_digits_accepts_distinct_digits(digits, expected):
    chosen = check_digits(digits)

    assert chosen == expected
    assert all(type(d) is int for d in chosen)


@pytest.mark.parametrize(
    ("digits", "error", "match"),
    [
        ((1, 10), ValueError, r"unknown digits \[10\]: MNIST has the digits 0 to 9"),
        ((-1, 2), ValueError, r"unknown digits \[-1\]"),
        ((1, 2, 1), ValueError, r"digits given more than once: \[1\]"),
        ((3,), ValueError, r"at least two digits are needed to classify, got \[3\]"),
        ((), ValueError, r"at least two digits are needed to classify, got \[\]"),
        ((1, 2.0), TypeError, r"digits must be integers, got \[1, 2.0\]"),
        ((True, 2), TypeError, r"digits must be integers"),
        ("12", TypeError, r"digits must be a sequence of integers, got '12'"),
        (b"\x01\x02", TypeError, r"digits must be a sequence of integers"),
        (12, TypeError, r"digits must be a sequence of integers, got 12"),
        ({1, 2}, TypeError, r"digits must be a sequence of integers"),
    ],
)
def test_check_digits_rejects(digits, error, match):
    with pytest.raises(error, match=match):
        check_digits(digits)


def test_load_mnist_checks_digits_before_looking_for_files(tmp_path):
    with pytest.raises(InvalidArgumentError, match="digits given more than once"):
        load_mnist((2, 2), tmp_path / "does-not-exist")


@pytest.mark.parametrize("option", ["relabel", "download_missing"])
def test_yes_no_options_refuse_strings_before_reading_anything(tmp_path, option, monkeypatch):
    """relabel="no" would be true: labels 0/1 where the digits were asked for."""
    monkeypatch.setattr(mnist, "locate_files", lambda *args: pytest.fail("files looked for"))
    with pytest.raises(InvalidTypeError, match=f"^{option} must be True or False, got 'no'$"):
        load_mnist((1, 2), tmp_path, **{option: "no"})
