"""Archives of named arrays with JSON metadata (.npz files), written atomically and read
as hostile input: every size is checked before anything is allocated.

An archive is a zip file (what ``np.savez`` writes) whose members are ``.npy`` files:
``meta.npy`` holds a JSON document as a 0-d unicode array, every other member one array.
``np.load(path, allow_pickle=False)`` reads it with nothing but NumPy. Reading goes
member by member, and for each member: its name must be expected, its declared size
small enough, its ``.npy`` header (shape, dtype) what the caller asks for, and its data
exactly as long as the header says; only then is its array allocated and filled.
Every failure is one ``DataFileError`` naming the file and the problem.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .atomic import atomic_write, open_regular
from .errors import DataFileError

ZIP_MAGIC = b"PK\x03\x04"
META = "meta"
MAX_META_BYTES = 1 << 16  # 64 KiB of JSON: far more than any metadata written here
MAX_HEADER_BYTES = 1 << 12  # an .npy header describes one shape and dtype
CHUNK_BYTES = 1 << 20

# what zipfile and zlib raise for damaged archives, besides the DataFileError of our checks
DAMAGED_MEMBER = (zipfile.BadZipFile, zlib.error, EOFError)  # a failed CRC-32, bad deflate
# data, data that ends early: a small member is read whole with its header
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,  # an unknown compression method or zip version
    RuntimeError,  # "File is encrypted" (a flipped flag bit)
    struct.error,
    ValueError,
    OSError,
)


def write_archive(path: str | os.PathLike, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (JSON-serialisable, finite numbers only) and ``arrays`` to ``path``
    atomically: a reader sees the old file or the complete new one."""
    text = json.dumps(meta, allow_nan=False)
    with atomic_write(path) as file:
        np.savez(file, **{META: np.array(text)}, **arrays)


class ArchiveReader:
    """An archive opened for checked reading; use ``open_archive``."""

    def __init__(self, path: Path, zip_file: zipfile.ZipFile):
        self.path = path
        self.zip = zip_file
        self.members = self._members()

    def fail(self, problem: str) -> DataFileError:
        """The error to raise for ``problem``, naming the file."""
        return DataFileError(f"{self.path}: {problem}")

    def unsupported_version(self, what: str, version, readable: tuple[int, ...]) -> DataFileError:
        """The error for a ``what`` (a "model format") of a ``version`` not ``readable``:
        one newer than them was written by a newer scratchnet, which reads it."""
        newer = type(version) is int and version > max(readable)  # (True is a bool)
        reads = " and ".join(map(str, readable))
        if newer:
            return self.fail(
                f"{what} version {version!r:.20} is newer than this scratchnet reads ({reads}): "
                "install the newer scratchnet that wrote it"
            )
        return self.fail(
            f"{what} version {version!r:.20} is not supported (this scratchnet reads {reads})"
        )

    def _members(self) -> dict[str, zipfile.ZipInfo]:
        members = {}
        for info in self.zip.infolist():
            name = info.filename.removesuffix(".npy")
            if name == info.filename or name in members:
                raise self.fail(f"unexpected member {info.filename!r} in the archive")
            members[name] = info
        return members

    def expect_members(self, names: set[str]) -> None:
        """The archive holds exactly the members ``names`` (and ``meta``)."""
        present, wanted = set(self.members), {*names, META}
        if present != wanted:
            missing, extra = sorted(wanted - present), sorted(present - wanted)
            detail = "; ".join(
                text
                for text in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                )
                if text
            )
            raise self.fail(f"not a valid archive of its kind ({detail})")

    def meta(self, max_bytes: int = MAX_META_BYTES) -> dict:
        """The JSON metadata, read only if it takes at most ``max_bytes``."""
        if META not in self.members:
            raise self.fail("no readable metadata")
        text = self.read(META, (), lambda dtype: dtype.kind == "U", max_bytes)
        try:
            meta = json.loads(str(text))
        except (ValueError, RecursionError):  # ValueError: not JSON, or an integer over
            # the 4,300 digits Python converts
            raise self.fail("no readable metadata (not a JSON document)") from None
        if not isinstance(meta, dict):
            raise self.fail("no readable metadata (not a JSON object)")
        return meta

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """The shape and dtype a member declares, read from its header alone."""
        with self._stream(name) as stream:
            return _npy_header(stream, self.fail, name)[:2]

    def read(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype_ok: Callable[[np.dtype], bool],
        max_bytes: int | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """The member ``name``, which must have ``shape`` and a dtype that ``dtype_ok``
        accepts, and at most ``max_bytes`` of data; allocated only after those checks.
        With ``out`` (of that shape, C-contiguous), read into it, without a second copy
        when the member has ``out``'s dtype, else cast into it (an overflow is inf)."""
        if out is not None and (out.shape != tuple(shape) or not out.flags.c_contiguous):
            raise ValueError(f"out must be a C-contiguous array of shape {shape}")
        with self._stream(name) as stream:
            dtype = self._checked_header(stream, name, shape, dtype_ok, max_bytes)
            array = out if out is not None and out.dtype == dtype else np.empty(shape, dtype)
            _fill(stream, memoryview(array.reshape(-1)).cast("B"), self.fail, name)
        if out is None or array is out:
            return array
        with np.errstate(over="ignore"):
            np.copyto(out, array, casting="unsafe")
        return out

    def check(self, name: str, shape: tuple[int, ...], dtype_ok: Callable[[np.dtype], bool]):
        """Whether ``read`` would take the member ``name`` (its shape, dtype and size, from
        its header alone): DataFileError if not, so a reader can refuse a file before it
        allocates what it is to read the members into."""
        with self._stream(name) as stream:
            self._checked_header(stream, name, shape, dtype_ok, None)

    def _checked_header(self, stream, name: str, shape, dtype_ok, max_bytes) -> np.dtype:
        """The member's dtype, read from its header at the start of ``stream``, after
        checking the header against ``shape``, ``dtype_ok``, ``max_bytes`` and the size the
        archive records for the member."""
        declared_shape, dtype, header_bytes = _npy_header(stream, self.fail, name)
        if declared_shape != tuple(shape):
            raise self.fail(f"{name} has shape {declared_shape} where {shape} was expected")
        if not dtype_ok(dtype):
            raise self.fail(f"{name} has the unexpected dtype {dtype}")
        size = math.prod(shape) * dtype.itemsize
        if max_bytes is not None and size > max_bytes:
            raise self.fail(f"{name} is too large ({size} bytes, at most {max_bytes})")
        if self.members[name].file_size != header_bytes + size:
            raise self.fail(
                f"{name} declares {self.members[name].file_size} bytes where its header "
                f"implies {header_bytes + size}"
            )
        return dtype

    @contextmanager
    def _stream(self, name: str) -> Iterator[BinaryIO]:
        if name not in self.members:
            raise self.fail(f"the member {name} is missing")
        try:
            with self.zip.open(self.members[name]) as stream:
                yield stream
        except DataFileError:
            raise
        except ZIP_ERRORS as error:
            raise self.fail(f"damaged archive member {name} ({_describe(error)})") from None


@contextmanager
def open_archive(path: str | os.PathLike, what: str) -> Iterator[ArchiveReader]:
    """Open ``path`` for checked reading; ``what`` names the kind of file in errors
    ('model', 'checkpoint')."""
    path = Path(path)
    try:
        file = open_regular(path)
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: a folder, not a {what} file") from None
    except OSError as error:
        raise DataFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    with file:
        if file.read(4) != ZIP_MAGIC:
            raise DataFileError(f"{path}: not a scratchnet {what} (not an .npz archive)")
        file.seek(0)
        try:
            zip_file = zipfile.ZipFile(file)
        except ZIP_ERRORS as error:
            raise DataFileError(f"{path}: not a scratchnet {what} ({_describe(error)})") from None
        with zip_file:
            yield ArchiveReader(path, zip_file)


def _npy_header(stream: BinaryIO, fail, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and header length of an .npy stream, refusing object arrays,
    Fortran order and oversized headers."""
    try:
        version = np.lib.format.read_magic(stream)
        reader = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if reader is None:
            raise fail(f"{name} is an .npy file of unsupported version {version}")
        shape, fortran_order, dtype = reader(stream, max_header_size=MAX_HEADER_BYTES)
        header_bytes = stream.tell()
    except (DataFileError, *DAMAGED_MEMBER):  # the bytes, not the header: the caller says so
        raise
    except (ValueError, TypeError, SyntaxError, *ZIP_ERRORS) as error:
        raise fail(f"{name} has no valid .npy header ({_describe(error)})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise fail(f"{name} holds objects or records ({dtype}), which are never read")
    if fortran_order and len(shape) > 1:
        raise fail(f"{name} is stored in Fortran order, which scratchnet never writes")
    return tuple(int(n) for n in shape), dtype, header_bytes


def _fill(stream: BinaryIO, buffer: memoryview, fail, name: str) -> None:
    """Fill ``buffer`` from ``stream`` a chunk at a time; the data must end exactly."""
    filled = 0
    while filled < len(buffer):
        count = stream.readinto(buffer[filled : filled + CHUNK_BYTES])
        if not count:
            raise fail(f"{name} is truncated ({filled} of {len(buffer)} bytes)")
        filled += count
    if stream.read(1):
        raise fail(f"{name} holds more data than its header says")


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
