"""The official MNIST files: where to find them, how to verify them, which digits to keep.

Lookup order for each file: the folder given as ``data_dir``, then the folder named by
the environment variable ``SCRATCHNET_DATA_DIR``, then the cache folder
(``$XDG_CACHE_HOME/scratchnet``, by default ``~/.cache/scratchnet``). A file found
nowhere is downloaded into the cache. Every file is checked against the published
SHA-256 before it is read, compressed or not.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import DataFileError, InvalidArgumentError
from ..validation import N_DIGITS, check_digits, check_flag, check_path
from .idx import file_sha256, read_idx

ENV_DATA_DIR = "SCRATCHNET_DATA_DIR"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
IMAGE_SHAPE = (28, 28)


@dataclass(frozen=True)
class MnistFile:
    """One of the four official files, with the SHA-256 of its gzip and raw forms."""

    name: str
    sha256_gz: str
    sha256_raw: str

    @property
    def gz_name(self) -> str:
        return self.name + ".gz"


TRAIN_IMAGES = MnistFile(
    "train-images-idx3-ubyte",
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
)
TRAIN_LABELS = MnistFile(
    "train-labels-idx1-ubyte",
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
)
TEST_IMAGES = MnistFile(
    "t10k-images-idx3-ubyte",
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
)
TEST_LABELS = MnistFile(
    "t10k-labels-idx1-ubyte",
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
)
MNIST_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
SPLITS = {"train": (TRAIN_IMAGES, TRAIN_LABELS), "test": (TEST_IMAGES, TEST_LABELS)}


class MissingDataError(DataFileError):
    """MNIST files found in no folder and not downloadable; ``missing`` lists their
    names, ``searched`` the folders looked in, ``reason`` why no download happened."""

    def __init__(self, missing: list[str], searched: list[Path], reason: str):
        self.missing, self.searched, self.reason = missing, searched, reason
        super().__init__(
            f"MNIST files not found: {', '.join(missing)} ({reason}); searched "
            f"{', '.join(map(str, searched))}; pass the folder holding them as data_dir "
            f"or set ${ENV_DATA_DIR}"
        )


class MNIST(NamedTuple):
    """MNIST restricted to some digits.

    Images are raw uint8 arrays of shape (n, 28, 28). Labels are int64: class indices
    0..k-1 in the order of ``digits`` when relabelled, else the digits themselves. A split
    that was not asked for is empty. ``files`` are the paths the data was read from.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    digits: tuple[int, ...]
    files: tuple[Path, ...] = ()


def load_mnist(
    digits: Sequence[int] = (1, 2),
    data_dir: str | bytes | os.PathLike | None = None,
    *,
    relabel: bool = True,
    download_missing: bool = True,
    splits: str | Sequence[str] = ("train", "test"),
) -> MNIST:
    """The official training and test sets restricted to ``digits``, in file order.

    With ``relabel`` (the default) labels become class indices: ``digits[i] -> i``, so
    the default ``(1, 2)`` maps 1 -> 0 and 2 -> 1; with ``relabel=False`` they are the
    digits themselves (the labels a model needs for ``scratchnet evaluate``, ``predict``
    and ``serve``, which read its classes as digits). Missing files are downloaded into
    the cache unless ``download_missing`` is false. ``splits`` chooses what to read (``"test"`` or
    ``("test",)`` needs only the two test files); a split not read is empty.
    """
    digits = check_digits(digits)
    relabel = check_flag(relabel, "relabel")
    download_missing = check_flag(download_missing, "download_missing")
    if isinstance(splits, str):
        splits = (splits,)
    unknown = set(splits) - SPLITS.keys()
    if unknown or not splits:
        raise InvalidArgumentError(f"splits must be among 'train' and 'test', got {splits!r}")
    wanted = [file for split in SPLITS if split in splits for file in SPLITS[split]]
    paths = locate_files(data_dir, download_missing, wanted)
    arrays = {}
    for split in SPLITS:
        if split in splits:
            arrays[split] = _select(*_read_split(paths, *SPLITS[split]), digits, relabel)
        else:
            arrays[split] = (np.empty((0, *IMAGE_SHAPE), np.uint8), np.empty(0, np.int64))
    return MNIST(*arrays["train"], *arrays["test"], digits, tuple(paths.values()))


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/scratchnet``, falling back to ``~/.cache/scratchnet``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "scratchnet"


def search_folders(data_dir: str | os.PathLike | None) -> list[Path]:
    """The folders searched for the files, in order.

    A folder named by ``data_dir`` must exist; so must the one in $SCRATCHNET_DATA_DIR,
    unless ``data_dir`` is given (it takes precedence, and the variable may be stale).
    """
    folders = []
    if data_dir is not None:
        folders.append(_existing_folder(data_dir, "data folder"))
    environment = os.environ.get(ENV_DATA_DIR)
    if environment:
        if data_dir is None:
            folders.append(_existing_folder(environment, f"${ENV_DATA_DIR} folder"))
        elif Path(environment).expanduser().is_dir():
            folders.append(Path(environment).expanduser())
    return [*folders, cache_dir()]


def _existing_folder(folder: str | os.PathLike, what: str) -> Path:
    folder = Path(check_path(folder, what)).expanduser()
    if not folder.is_dir():
        raise DataFileError(f"{what} {folder} does not exist or is not a folder")
    return folder


def locate_files(
    data_dir: str | os.PathLike | None,
    download_missing: bool = True,
    files: Sequence[MnistFile] = MNIST_FILES,
) -> dict[MnistFile, Path]:
    """Paths of ``files`` (default: all four), downloading what no folder holds."""
    folders = search_folders(data_dir)
    found = {file: _find(file, folders) for file in files}
    missing = [file for file, path in found.items() if path is None]
    if missing:
        found.update(_download_all(missing, folders, download_missing))
    return found


def _find(file: MnistFile, folders: list[Path]) -> Path | None:
    for folder in folders:
        for name in (file.gz_name, file.name):
            if (folder / name).is_file():
                return folder / name
    return None


def _download_all(
    missing: list[MnistFile], folders: list[Path], allowed: bool
) -> dict[MnistFile, Path]:
    names = [file.gz_name for file in missing]
    if not allowed:
        raise MissingDataError(names, folders, "downloads are off")
    from .download import DownloadError, download  # with urllib, ssl and tqdm: 5 MiB a
    # reading of files already on disk should not hold

    try:
        return {
            file: download(file.gz_name, file.sha256_gz, cache_dir(), MIRRORS) for file in missing
        }
    except DownloadError as error:
        raise MissingDataError(names, folders, f"download failed: {error.first_failure}") from None


def read_verified(file: MnistFile, path: Path) -> np.ndarray:
    """Check the file's SHA-256 against the published one (compressed or not), then read it."""
    actual = file_sha256(path)
    if actual not in (file.sha256_gz, file.sha256_raw):
        expected = file.sha256_gz if path.name.endswith(".gz") else file.sha256_raw
        raise DataFileError(
            f"{path}: checksum mismatch (sha256 {actual}, expected {expected}); the file is "
            "truncated, corrupted or not the official MNIST file: delete or replace it"
        )
    return read_idx(path)


def _read_split(
    paths: dict[MnistFile, Path], images_file: MnistFile, labels_file: MnistFile
) -> tuple[np.ndarray, np.ndarray]:
    """The split's images and labels; their checksums vouch for shapes, types and counts."""
    return read_verified(images_file, paths[images_file]), read_verified(
        labels_file, paths[labels_file]
    )


def _select(
    images: np.ndarray, labels: np.ndarray, digits: tuple[int, ...], relabel: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose label is in ``digits``, in file order, relabelled to 0..k-1 if asked."""
    keep = np.isin(labels, digits)
    kept = labels[keep].astype(np.int64)
    if relabel:
        index_of = np.full(N_DIGITS, -1, dtype=np.int64)
        index_of[list(digits)] = np.arange(len(digits))
        kept = index_of[kept]
    return images[keep], kept
