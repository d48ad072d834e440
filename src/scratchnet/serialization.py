"""Model files as plain data: metadata, class labels and per-layer arrays in an .npz
archive, without pickle.

The archive holds ``meta`` (a JSON string: format, version, architecture, dtype),
``classes``, and ``weight_<l>`` / ``bias_<l>`` for every layer, so
``np.load(path, allow_pickle=False)`` reads it with nothing but NumPy. This module knows
the file's layout, not the network: ``NeuralNet.save`` and ``NeuralNet.load`` turn a
network into a ``StoredModel`` and back.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .atomic import atomic_write
from .errors import DataFileError, ScratchnetError
from .nn.parameters import Dense
from .validation import check_float_dtype

FORMAT = "scratchnet-model"
ZIP_MAGIC = b"PK\x03\x04"
VERSION = 1


@dataclass(frozen=True)
class StoredModel:
    """What a model file holds: ``meta`` (layer_sizes, n_features, activation, init,
    dropout, dtype), the class labels and each layer's weight and bias."""

    meta: dict
    classes: np.ndarray
    layers: list[Dense]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.meta["dtype"])


def write_model(path: str | os.PathLike, model: StoredModel) -> None:
    """Write ``model`` to ``path`` atomically."""
    meta = {"format": FORMAT, "version": VERSION, **model.meta}
    arrays = {"meta": np.array(json.dumps(meta)), "classes": model.classes}
    for index, layer in enumerate(model.layers):
        arrays[f"weight_{index}"] = layer.weight
        arrays[f"bias_{index}"] = layer.bias
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def read_model(path: str | os.PathLike) -> StoredModel:
    """Read a model file; DataFileError naming the file if it is not a valid one."""
    arrays = _read_archive(path)
    meta = _read_meta(path, arrays)
    try:
        dtype = check_float_dtype(meta["dtype"])
        widths = (meta["n_features"], *meta["layer_sizes"])
        layers = [
            Dense(
                _member(arrays, f"weight_{index}", shape, dtype),
                _member(arrays, f"bias_{index}", shape[1:], dtype),
            )
            for index, shape in enumerate(pairwise(widths))
        ]
        classes = arrays["classes"]
    except (KeyError, TypeError, ScratchnetError) as error:
        raise DataFileError(f"{path}: not a valid scratchnet model ({error})") from None
    return StoredModel(meta, classes, layers)


def _read_archive(path) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as file:
            if file.read(4) != ZIP_MAGIC:
                raise DataFileError(f"{path}: not a scratchnet model (not an .npz archive)")
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such model file") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise DataFileError(f"{path}: not a scratchnet model ({error})") from None
    except ValueError as error:
        if isinstance(error, DataFileError):
            raise
        raise DataFileError(f"{path}: not a scratchnet model ({error})") from None


def _read_meta(path, arrays: dict[str, np.ndarray]) -> dict:
    try:
        meta = json.loads(str(arrays["meta"]))
    except (KeyError, json.JSONDecodeError):
        raise DataFileError(f"{path}: not a scratchnet model (no readable metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataFileError(f"{path}: not a scratchnet model (format {meta!r:.60})")
    if meta.get("version") != VERSION:
        raise DataFileError(f"{path}: model format version {meta.get('version')} is not supported")
    return meta


def _member(arrays: dict[str, np.ndarray], name: str, shape: tuple, dtype: np.dtype):
    """The array ``name``, checked against the shape the metadata implies, in ``dtype``."""
    source = arrays[name]
    if source.shape != tuple(shape):
        raise DataFileError(f"{name} has shape {source.shape} where {tuple(shape)} was expected")
    if not np.all(np.isfinite(source)):
        raise DataFileError(f"{name} holds NaN or infinite values")
    return source.astype(dtype, copy=False)
