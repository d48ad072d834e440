"""The IDX reader, on files the tests write themselves (no MNIST data needed)."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchnet.data.idx import file_sha256, read_idx
from scratchnet.errors import DataFileError

UBYTE = 0x08


def idx_header(type_code: int, shape: tuple[int, ...]) -> bytes:
    """Magic number 00 00 TT NN, then one big-endian uint32 per dimension."""
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def ubyte_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array."""
    assert array.dtype == np.uint8
    return idx_header(UBYTE, array.shape) + array.tobytes()


def write(folder: Path, name: str, content: bytes, compress: bool = False) -> Path:
    """Write ``content`` (gzip-compressed if asked) to ``folder / name``."""
    path = folder / (name + ".gz" if compress else name)
    path.write_bytes(gzip.compress(content, mtime=0) if compress else content)
    return path


@pytest.fixture
def images() -> np.ndarray:
    """Five random 28x28 uint8 images."""
    return np.random.default_rng(3).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


@pytest.fixture
def images_gz(tmp_path, images) -> Path:
    """A valid gzip-compressed IDX file of the images."""
    return write(tmp_path, "images-idx3-ubyte", ubyte_idx(images), compress=True)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_uint8_images_round_trip(tmp_path, images, compress):
    path = write(tmp_path, "images-idx3-ubyte", ubyte_idx(images), compress)

    decoded = read_idx(path)

    assert decoded.dtype == np.uint8
    assert decoded.shape == (5, 28, 28)
    np.testing.assert_array_equal(decoded, images)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_uint8_labels_round_trip(tmp_path, compress):
    labels = np.array([5, 0, 4, 1, 9, 2, 1, 3], dtype=np.uint8)
    path = write(tmp_path, "labels-idx1-ubyte", ubyte_idx(labels), compress)

    decoded = read_idx(str(path))

    assert decoded.dtype == np.uint8
    assert decoded.shape == (8,)
    assert decoded.tolist() == [5, 0, 4, 1, 9, 2, 1, 3]


@pytest.mark.parametrize(
    ("type_code", "fmt", "values"),
    [
        (0x09, "b", [-128, -1, 0, 127]),
        (0x0B, "h", [-32768, -2, 258, 32767]),
        (0x0C, "i", [-(2**31), -3, 65536 + 7, 2**31 - 1]),
        (0x0D, "f", [1.5, -2.25, 0.0, 3.0e38]),
        (0x0E, "d", [1.5, -2.25, 1e-300, 1.7e308]),
    ],
    ids=["int8", "int16", "int32", "float32", "float64"],
)
def test_big_endian_types_decode_to_native_values(tmp_path, type_code, fmt, values):
    content = idx_header(type_code, (2, 2)) + struct.pack(f">4{fmt}", *values)
    path = write(tmp_path, "values-idx2", content)

    decoded = read_idx(path)

    assert decoded.shape == (2, 2)
    assert decoded.dtype.isnative
    assert decoded.dtype.itemsize == struct.calcsize(fmt)
    expected = [struct.unpack(fmt, struct.pack(fmt, v))[0] for v in values]  # as stored
    assert decoded.ravel().tolist() == expected


def test_zero_items_decode_to_an_empty_array(tmp_path):
    path = write(tmp_path, "empty-idx3-ubyte", idx_header(UBYTE, (0, 28, 28)))

    decoded = read_idx(path)

    assert decoded.shape == (0, 28, 28)
    assert decoded.dtype == np.uint8


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_truncated_data_is_reported_with_sizes(tmp_path, images, compress):
    content = ubyte_idx(images)[:-1]
    path = write(tmp_path, "images-idx3-ubyte", content, compress)

    with pytest.raises(
        DataFileError, match=r"truncated: .* promises 3920 bytes .* holds 3919"
    ) as e:
        read_idx(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_trailing_bytes_are_reported(tmp_path, images, compress):
    content = ubyte_idx(images) + b"\x00\x00"
    path = write(tmp_path, "images-idx3-ubyte", content, compress)

    with pytest.raises(DataFileError, match="has trailing bytes after the 3920 bytes") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_truncated_header_is_reported(tmp_path):
    content = idx_header(UBYTE, (5, 28, 28))[:-2]  # the last size is cut
    path = write(tmp_path, "images-idx3-ubyte", content)

    with pytest.raises(DataFileError, match=r"truncated header \(3 dimensions announced\)") as e:
        read_idx(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize(
    ("content", "magic"),
    [
        (b"hello, this is a text file\n", "68656c6c"),
        (bytes.fromhex("9c3e51a2d4f7001b8e6c"), "9c3e51a2"),
        (bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00", "00000701"),  # unknown type
        (bytes([0, 0, UBYTE, 0]), "00000800"),  # zero dimensions
        (bytes([0, 1, UBYTE, 1]) + struct.pack(">I", 1) + b"\x00", "00010801"),
    ],
    ids=["text", "random-bytes", "unknown-type", "zero-dims", "nonzero-prefix"],
)
def test_not_an_idx_file(tmp_path, content, magic):
    path = write(tmp_path, "notes.txt", content)

    with pytest.raises(DataFileError, match=rf"not an IDX file \(magic number 0x{magic}\)") as e:
        read_idx(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x08"], ids=["empty", "three-bytes"])
def test_too_short_to_be_idx(tmp_path, content):
    path = write(tmp_path, "short-idx1-ubyte", content)

    with pytest.raises(DataFileError, match=rf"too short to be an IDX file \({len(content)} bytes"):
        read_idx(path)


@pytest.mark.parametrize("where", ["middle", "crc-trailer"])
def test_corrupted_gzip(images_gz, where):
    raw = bytearray(images_gz.read_bytes())
    start = len(raw) // 2 if where == "middle" else len(raw) - 8
    for i in range(start, start + 4):
        raw[i] ^= 0xFF
    images_gz.write_bytes(bytes(raw))

    with pytest.raises(DataFileError, match="corrupted gzip data") as e:
        read_idx(images_gz)
    assert str(images_gz) in str(e.value)


def test_gzip_cut_in_half_is_truncated(images_gz):
    raw = images_gz.read_bytes()
    images_gz.write_bytes(raw[: len(raw) // 2])

    with pytest.raises(DataFileError, match="truncated gzip stream") as e:
        read_idx(images_gz)
    assert str(images_gz) in str(e.value)


def test_missing_file(tmp_path):
    path = tmp_path / "absent-idx1-ubyte.gz"

    with pytest.raises(DataFileError, match="no such file") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_unreadable_path_is_reported(tmp_path):
    with pytest.raises(DataFileError, match="cannot be read") as e:
        read_idx(tmp_path)  # a folder, not a file
    assert str(tmp_path) in str(e.value)


def test_file_sha256_hashes_the_bytes(tmp_path):
    path = write(tmp_path, "blob", b"scratchnet" * 1000)
    assert file_sha256(path) == hashlib.sha256(b"scratchnet" * 1000).hexdigest()


# -- bounded reads, and fuzzing ----------------------------------------------------------------


def test_a_header_announcing_more_than_the_limit_is_refused_before_allocating(tmp_path):
    """A 1 KB gzip file whose header promises 60000 x 10000 x 10000 bytes."""
    path = write(tmp_path, "bomb-idx3-ubyte", idx_header(UBYTE, (60000, 10000, 10000)), True)
    assert path.stat().st_size < 1024
    with pytest.raises(DataFileError, match=r"6,000,000,000,000 bytes\), more than the limit"):
        read_idx(path)


@pytest.mark.parametrize(
    ("shape", "fragment"),
    [
        ((0, 2**32 - 1, 2**32 - 1), "3 dimensions of sizes up to 4,294,967,295"),  # 0 bytes
        ((1,) * 255, "255 dimensions of sizes up to 1"),  # 1 byte, over NumPy's 64 dimensions
    ],
)
def test_a_shape_no_array_can_have_is_named_as_such(tmp_path, shape, fragment):
    """Not "more than this machine can hold": it announces 0 or 1 bytes."""
    path = write(tmp_path, "odd-idx", idx_header(UBYTE, shape) + bytes(1))
    with pytest.raises(DataFileError, match=f"{fragment}, a shape no array can have$"):
        read_idx(path)


def test_the_limit_can_be_raised_and_the_length_is_still_checked(tmp_path, images):
    path = write(tmp_path, "images-idx3-ubyte", ubyte_idx(images), compress=True)
    with pytest.raises(DataFileError, match="more than the limit of 1,000 bytes"):
        read_idx(path, max_bytes=1000)
    np.testing.assert_array_equal(read_idx(path, max_bytes=images.nbytes), images)


def valid_or_data_file_error(path: Path) -> None:
    """The one promise for any file: an array, or DataFileError naming the file."""
    try:
        read_idx(path, max_bytes=1 << 20)
    except DataFileError as error:
        assert str(path) in str(error)


@pytest.mark.fuzz
@given(content=st.binary(max_size=2000), compress=st.booleans())
@settings(deadline=None)
def test_any_bytes_read_as_an_array_or_a_data_file_error(tmp_path_factory, content, compress):
    folder = tmp_path_factory.mktemp("fuzz")
    valid_or_data_file_error(write(folder, "any-idx", content, compress))


@pytest.mark.fuzz
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=4),
    cut=st.integers(0, 10**6),
    compress=st.booleans(),
)
@settings(deadline=None)
def test_damaged_idx_files_read_as_an_array_or_a_data_file_error(
    tmp_path_factory, flips, cut, compress
):
    rng = np.random.default_rng(0)
    content = bytearray(ubyte_idx(rng.integers(0, 256, (3, 5, 4), dtype=np.uint8)))
    if compress:
        content = bytearray(gzip.compress(bytes(content), mtime=0))
    for position, mask in flips:
        content[position % len(content)] ^= mask
    content = content[: max(1, cut % (len(content) + 1))]
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "damaged-idx"
    path.write_bytes(bytes(content))
    valid_or_data_file_error(path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, fails_instead_of_hanging):
    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    with pytest.raises(DataFileError, match=r"cannot be read \(not a regular file\)"):
        read_idx(tmp_path / "train-images-idx3-ubyte")
