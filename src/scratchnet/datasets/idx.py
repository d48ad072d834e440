"""Reader for the IDX format in which MNIST is published.

An IDX file is a 4-byte magic number ``00 00 TT NN`` (TT: element type, NN: number of
dimensions), NN big-endian uint32 sizes, then the elements in C order. MNIST ships its
four files gzip-compressed; both compressed and uncompressed files are accepted.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataFileError

GZIP_MAGIC = b"\x1f\x8b"

# IDX element type code -> big-endian NumPy dtype
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into an array of its shape and type.

    Raises DataFileError naming the file when it is truncated, corrupted, not IDX,
    or when its length does not match the sizes in its header.
    """
    path = Path(path)
    return decode_idx(read_file_bytes(path), path)


def decode_idx(raw: bytes, path: Path) -> np.ndarray:
    """Decode the bytes of an IDX file (``path`` only names it in error messages).

    A uint8 file is returned as a read-only view of the decoded bytes (no copy).
    """
    content = _decompress(raw, path)
    dtype, shape = _parse_header(path, content)
    offset = 4 + 4 * len(shape)
    expected = math.prod(shape) * dtype.itemsize
    actual = len(content) - offset
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing bytes"
        raise DataFileError(
            f"{path}: {problem}: the header promises {expected} bytes of data "
            f"for shape {shape}, the file holds {actual}"
        )
    array = np.frombuffer(content, dtype=dtype, offset=offset).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_file_bytes(path: Path) -> bytes:
    """The file's bytes; DataFileError naming the file if it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except OSError as error:
        raise DataFileError(f"{path}: cannot be read ({error.strerror or error})") from None


def _decompress(raw: bytes, path: Path) -> bytes:
    """The content itself: ``raw`` decompressed when it is gzip."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataFileError(f"{path}: truncated gzip stream") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DataFileError(f"{path}: corrupted gzip data ({error})") from None


def _parse_header(path: Path, content: bytes) -> tuple[np.dtype, tuple[int, ...]]:
    """Element type and shape from the magic number and the dimension sizes."""
    if len(content) < 4:
        raise DataFileError(f"{path}: too short to be an IDX file ({len(content)} bytes)")
    zero, type_code, ndim = content[:2], content[2], content[3]
    if zero != b"\x00\x00" or type_code not in IDX_DTYPES or ndim == 0:
        raise DataFileError(
            f"{path}: not an IDX file (magic number 0x{content[:4].hex()}); "
            "it may be corrupted or of another format"
        )
    if len(content) < 4 + 4 * ndim:
        raise DataFileError(f"{path}: truncated header ({ndim} dimensions announced)")
    shape = tuple(int(size) for size in np.frombuffer(content, ">u4", count=ndim, offset=4))
    return IDX_DTYPES[type_code], shape
