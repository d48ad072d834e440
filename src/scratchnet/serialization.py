"""Saving and loading models as .npz archives, without pickle.

The archive holds ``meta`` (a JSON string: format, version, architecture, dtype),
``classes``, and ``weight_<l>`` / ``bias_<l>`` for every layer, so
``np.load(path, allow_pickle=False)`` reads it with nothing but NumPy.
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from .atomic import atomic_write
from .parameters import Parameters
from .preprocessing import check_float_dtype
from .validation import check_classes, check_output_size

FORMAT = "scratchnet-model"
ZIP_MAGIC = b"PK\x03\x04"
VERSION = 1


def save_model(net, path: str | os.PathLike) -> None:
    """Write ``net`` (fitted) to ``path`` atomically."""
    parameters = net._fitted()
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "layer_sizes": list(net.layer_sizes),
        "n_features": parameters.widths[0],
        "activation": net.activation,
        "init": net.init,
        "dropout": net.dropout,
        "dtype": parameters.flat.dtype.name,
    }
    arrays = {"meta": np.array(json.dumps(meta)), "classes": net.classes}
    for index, layer in enumerate(parameters.layers):
        arrays[f"weight_{index}"] = layer.weight
        arrays[f"bias_{index}"] = layer.bias
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def load_model(path: str | os.PathLike):
    """Read a model written by ``save_model``; ValueError if it is not one."""
    from .network import NeuralNet

    arrays = _read_archive(path)
    meta = _read_meta(path, arrays)
    try:
        net = NeuralNet(
            meta["layer_sizes"],
            activation=meta["activation"],
            init=meta["init"],
            dropout=meta["dropout"],
        )
        dtype = check_float_dtype(meta["dtype"])
        parameters = Parameters((meta["n_features"], *meta["layer_sizes"]), dtype)
        for index, layer in enumerate(parameters.layers):
            _fill(layer.weight, arrays[f"weight_{index}"], f"weight_{index}")
            _fill(layer.bias, arrays[f"bias_{index}"], f"bias_{index}")
        net.classes = check_classes(arrays["classes"])
        check_output_size(net.layer_sizes[-1], len(net.classes))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: not a valid scratchnet model ({error})") from None
    net.parameters = parameters
    return net


def _read_archive(path) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as file:
            if file.read(4) != ZIP_MAGIC:
                raise ValueError("not an .npz archive")
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise ValueError(f"{path}: no such model file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{path}: not a scratchnet model ({error})") from None


def _read_meta(path, arrays: dict[str, np.ndarray]) -> dict:
    try:
        meta = json.loads(str(arrays["meta"]))
    except (KeyError, json.JSONDecodeError):
        raise ValueError(f"{path}: not a scratchnet model (no readable metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a scratchnet model (format {meta!r:.60})")
    if meta.get("version") != VERSION:
        raise ValueError(f"{path}: model format version {meta.get('version')} is not supported")
    return meta


def _fill(target: np.ndarray, source: np.ndarray, name: str) -> None:
    if source.shape != target.shape:
        raise ValueError(f"{name} has shape {source.shape} where {target.shape} was expected")
    if not np.all(np.isfinite(source)):
        raise ValueError(f"{name} holds NaN or infinite values")
    target[...] = source
