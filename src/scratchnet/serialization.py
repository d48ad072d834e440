"""Model files as plain data: metadata, class labels and per-layer arrays in an .npz
archive, without pickle.

The archive (see ``archive.py``) holds ``meta`` (JSON: format, version, layer_sizes,
n_features, activation, init, dropout, dtype, output), ``classes`` (classifiers only),
and ``weight_<l>`` / ``bias_<l>`` for every layer. This module knows the file's layout,
not the network: ``NeuralNet.save`` and ``NeuralNet.load`` turn a network into a
``StoredModel`` and back.

Version 2 added ``output``, the output layer (sigmoid, softmax, or identity for
regression, whose files hold no classes). Version 1 files, written before regression,
have no ``output``: theirs follows from the last layer size (1: sigmoid, more: softmax),
and they are read as before.

A model file is untrusted input. Reading validates the metadata's schema and limits
first, then each member's declared shape and dtype from its header, and allocates a
member only after that; values must be finite after the cast to the model's dtype.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .archive import ArchiveReader, open_archive, write_archive
from .nn.losses import OUTPUTS, classes_of, output_layer
from .nn.parameters import Parameters, parameter_count
from .validation import FLOAT_DTYPES

FORMAT = "scratchnet-model"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_LAYERS = 64
MAX_WIDTH = 1 << 20  # units of one layer, or input features
MAX_PARAMETERS = 1 << 28  # 268 million: 2 GiB of float64
INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class StoredModel:
    """What a model file holds: ``meta`` (layer_sizes, n_features, activation, init,
    dropout, dtype, output), the class labels (None for regression) and every layer's
    weight and bias, in ``parameters``."""

    meta: dict
    classes: np.ndarray | None
    parameters: Parameters

    @property
    def output(self) -> str:
        return self.meta["output"]


def write_model(path: str | os.PathLike, model: StoredModel) -> None:
    """Write ``model`` to ``path`` atomically."""
    arrays = {} if model.classes is None else {"classes": model.classes}
    for index, layer in enumerate(model.parameters.layers):
        arrays[f"weight_{index}"] = layer.weight
        arrays[f"bias_{index}"] = layer.bias
    write_archive(path, {"format": FORMAT, "version": VERSION, **model.meta}, arrays)


def read_model(path: str | os.PathLike) -> StoredModel:
    """Read a model file; DataFileError naming the file and the problem if it is not a
    valid one."""
    with open_archive(path, "model") as archive:
        meta = archive.meta()
        widths, dtype, output = _check_meta(archive, meta)
        meta = {**meta, "output": output}
        n_layers = len(widths) - 1
        classifies = OUTPUTS[output].classifies
        archive.expect_members(
            ({"classes"} if classifies else set())
            | {f"{kind}_{i}" for i in range(n_layers) for kind in ("weight", "bias")}
        )
        classes = _read_classes(archive, classes_of(widths[-1])) if classifies else None
        for i, (fan_in, fan_out) in enumerate(pairwise(widths)):  # before any allocation
            archive.check(f"weight_{i}", (fan_in, fan_out), _is_float)
            archive.check(f"bias_{i}", (fan_out,), _is_float)
        parameters = Parameters(widths, dtype)  # read into its layers: no second copy
        for i, layer in enumerate(parameters.layers):
            _read_parameters(archive, f"weight_{i}", layer.weight)
            _read_parameters(archive, f"bias_{i}", layer.bias)
    return StoredModel(meta, classes, parameters)


def _check_meta(archive: ArchiveReader, meta: dict) -> tuple[tuple[int, ...], np.dtype, str]:
    """The layer widths (input first), dtype and output layer the metadata declares,
    within limits (a version 1 file's output follows from its last layer size)."""
    if meta.get("format") != FORMAT:
        raise archive.fail(f"not a scratchnet model (format {str(meta.get('format'))[:40]!r})")
    if type(meta.get("version")) is not int or meta["version"] not in READABLE_VERSIONS:  # 2.0
        raise archive.unsupported_version("model format", meta.get("version"), READABLE_VERSIONS)
    sizes, n_features = meta.get("layer_sizes"), meta.get("n_features")
    if not isinstance(sizes, list) or not 1 <= len(sizes) <= MAX_LAYERS:
        raise archive.fail(f"layer_sizes must be a list of 1 to {MAX_LAYERS} sizes")
    widths = (n_features, *sizes)
    if not all(_is_int(width) and 1 <= width <= MAX_WIDTH for width in widths):
        raise archive.fail(
            f"n_features and layer_sizes must be integers from 1 to {MAX_WIDTH}, "
            f"got {str(n_features)[:20]} and {str(sizes)[:80]}"
        )
    count = parameter_count(widths)
    if count > MAX_PARAMETERS:
        raise archive.fail(f"{count:,} parameters, more than the limit of {MAX_PARAMETERS:,}")
    for key in ("activation", "init"):
        if not isinstance(meta.get(key), str):
            raise archive.fail(f"not a valid scratchnet model (no {key} name)")
    if not isinstance(meta.get("dropout"), numbers.Real) or isinstance(meta["dropout"], bool):
        raise archive.fail("not a valid scratchnet model (dropout is not a number)")
    dtype = meta.get("dtype")
    if dtype not in [d.name for d in FLOAT_DTYPES]:
        raise archive.fail(f"dtype must be float32 or float64, got {str(dtype)[:20]!r}")
    if meta["version"] == 1:
        return widths, np.dtype(dtype), output_layer(sizes[-1]).name
    _check_output(archive, meta.get("output"), sizes[-1])
    return widths, np.dtype(dtype), meta["output"]


def _check_output(archive: ArchiveReader, output, n_outputs: int) -> None:
    """A known output layer that fits the last layer size (a sigmoid has one unit, a
    softmax at least two)."""
    if not isinstance(output, str) or output not in OUTPUTS:
        raise archive.fail(f"output must be one of {', '.join(OUTPUTS)}, got {str(output)[:20]!r}")
    regression = not OUTPUTS[output].classifies
    if output_layer(n_outputs, regression).name != output:
        raise archive.fail(f"a {output} output cannot have {n_outputs} unit(s)")


def _read_classes(archive: ArchiveReader, n_classes: int) -> np.ndarray:
    classes = archive.read("classes", (n_classes,), lambda dtype: dtype.kind in "iu")
    if classes.dtype.kind == "u" and classes.size and classes.max() > INT64_MAX:
        raise archive.fail("classes must fit 64-bit signed integers")
    return classes.astype(np.int64)


def _read_parameters(archive: ArchiveReader, name: str, into: np.ndarray) -> None:
    """A weight or bias of real floating type read into ``into`` (cast to its dtype),
    all finite (an overflow in the cast is inf, refused too)."""
    archive.read(name, into.shape, _is_float, out=into)
    if not np.all(np.isfinite(into)):
        raise archive.fail(f"{name} holds NaN or infinite values (in {into.dtype})")


def _is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
