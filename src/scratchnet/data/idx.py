"""Reader for the IDX format in which MNIST is published.

An IDX file is a 4-byte magic number ``00 00 TT NN`` (TT: element type, NN: number of
dimensions), NN big-endian uint32 sizes, then the elements in C order. MNIST ships its
four files gzip-compressed; both compressed and uncompressed files are accepted.
The data is streamed straight into the array (no intermediate copy of the file).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..atomic import open_regular
from ..errors import DataFileError
from ..validation import check_path

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 1 << 20
MAX_BYTES = 1 << 30  # 1 GiB of data: MNIST's largest file holds 47 MB

# IDX element type code -> big-endian NumPy dtype
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | bytes | os.PathLike, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into an array of its shape and type.

    A header announcing more than ``max_bytes`` of data (default MAX_BYTES, 1 GiB) is
    refused before anything is allocated; pass a larger ``max_bytes`` for larger files.
    The data is then streamed into the array, and must be exactly as long as announced.
    Raises DataFileError naming the file when it is truncated, corrupted, not IDX,
    too large, or when its length does not match the sizes in its header.
    """
    path = Path(check_path(path))
    with _open(path) as stream, _translated_errors(path):
        dtype, shape = _read_header(path, stream)
        expected = math.prod(shape) * dtype.itemsize
        if expected > max_bytes:
            raise DataFileError(
                f"{path}: the header announces shape {shape} ({expected:,} bytes), more than "
                f"the limit of {max_bytes:,} bytes (read_idx(..., max_bytes=) raises it)"
            )
        array = _allocate(path, shape, dtype, expected)
        received = _read_into(stream, memoryview(array).cast("B") if expected else b"")
        if received < expected:
            raise DataFileError(
                f"{path}: truncated: the header promises {expected} bytes of data "
                f"for shape {shape}, the file holds {received}"
            )
        if stream.read(1):
            raise DataFileError(f"{path}: has trailing bytes after the {expected} bytes of data")
    return array.astype(dtype.newbyteorder("="), copy=False)


def _allocate(path: Path, shape: tuple[int, ...], dtype: np.dtype, size: int) -> np.ndarray:
    """An uninitialised array (pages are only touched as data arrives)."""
    try:
        return np.empty(shape, dtype)
    except MemoryError:
        raise DataFileError(
            f"{path}: truncated or corrupted: the header announces shape {shape} "
            f"({size} bytes), more than this machine can hold"
        ) from None
    except ValueError:  # over NumPy's 64 dimensions, or sizes whose product overflows
        raise DataFileError(
            f"{path}: corrupted: its header announces {len(shape)} dimensions of sizes up "
            f"to {max(shape):,}, a shape no array can have"
        ) from None


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with _open_raw(Path(path)) as file:
        for block in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_into(stream: BinaryIO, buffer) -> int:
    """Fill ``buffer`` from ``stream`` a chunk at a time (gzip would otherwise build a
    temporary as large as the request); return how many bytes arrived."""
    filled = 0
    while filled < len(buffer):
        count = stream.readinto(buffer[filled : filled + CHUNK_BYTES])
        if not count:
            break
        filled += count
    return filled


@contextmanager
def _open(path: Path):
    """The file's content as a stream, decompressed on the fly when it is gzip."""
    with _open_raw(path) as file:
        if file.peek(2)[:2] == GZIP_MAGIC:
            with gzip.GzipFile(fileobj=file) as stream:
                yield stream
        else:
            yield file


def _open_raw(path: Path) -> BinaryIO:
    """The file opened for reading; DataFileError naming it if that fails."""
    try:
        return open_regular(path)
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except OSError as error:
        raise DataFileError(f"{path}: cannot be read ({error.strerror or error})") from None


@contextmanager
def _translated_errors(path: Path):
    """Decompression failures become DataFileError naming the file."""
    try:
        yield
    except EOFError:
        raise DataFileError(f"{path}: truncated gzip stream") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DataFileError(f"{path}: corrupted gzip data ({error})") from None


def _read_header(path: Path, stream: BinaryIO) -> tuple[np.dtype, tuple[int, ...]]:
    """Element type and shape from the magic number and the dimension sizes."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataFileError(f"{path}: too short to be an IDX file ({len(magic)} bytes)")
    zero, type_code, ndim = magic[:2], magic[2], magic[3]
    if zero != b"\x00\x00" or type_code not in IDX_DTYPES or ndim == 0:
        raise DataFileError(
            f"{path}: not an IDX file (magic number 0x{magic.hex()}); "
            "it may be corrupted or of another format"
        )
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataFileError(f"{path}: truncated header ({ndim} dimensions announced)")
    shape = tuple(int(size) for size in np.frombuffer(sizes, ">u4"))
    return IDX_DTYPES[type_code], shape
