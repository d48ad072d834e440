"""ONNX export of a fitted network (``pip install 'scratchnet[onnx]'``), for onnxruntime
and every other ONNX runtime.

The graph uses standard operators of opset 17 only, built with ``onnx.helper``: one
``Gemm`` per layer (z = a W + b), the hidden activation (``Sigmoid``, ``Tanh``, ``Relu``,
or for leaky ReLU ``Max(z, Mul(z, alpha))`` as the network computes it: ``LeakyRelu``'s
alpha is a 32-bit attribute, 1.5e-9 off in a float64 graph), and the output:

- two classes (one sigmoid unit): ``probabilities`` = [1 - p, p] (batch, 2) with
  p = sigma(z) = (1 + tanh(z / 2)) / 2, as the network computes it near z = 0; far from
  0, ``predict_proba`` keeps the small probability to relative precision, the graph to
  absolute (1 - p). ``label`` is the second class where z > eps, the dtype's machine
  epsilon, as ``predict`` decides: below it p = 1/2 + z/4 rounds to 1/2, a tie that
  goes to the first class (a runtime's own rounding of p would move that bound)
- more classes: ``probabilities`` = softmax(z) (batch, k)
- classifiers also give ``label`` (batch,): the class label of the largest probability
- regression: ``predictions`` = z (batch, k)

The input ``X`` is (batch, n_features) with a dynamic batch axis, the features as the
network was trained on them (the graph does no preprocessing). Dropout is a training
device only (inverted dropout needs no rescaling), so the graph has none. The model's
metadata holds the class labels (JSON), the output layer and the hidden activation;
its producer version is scratchnet's.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .. import __version__
from . import missing_extra

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as error:
    raise missing_extra("ONNX export", "onnx", error) from None

from ..atomic import atomic_write
from ..errors import InvalidArgumentError, InvalidTypeError
from ..network import Network
from ..nn.activations import get_activation
from ..nn.parameters import parameter_count
from ..validation import check_float_dtype

OPSET = 17
IR_VERSION = 8  # the IR version of opset 17: runtimes of that age read the file too
INPUT = "X"
ELEMENT_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}
MAX_WEIGHT_BYTES = 2**31 - 2**20  # protobuf's 2 GiB, less 1 MiB for the rest of the graph
HIDDEN = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
DOC_STRING = (
    "A fully connected network trained by scratchnet. X holds the features as the "
    "network was trained on them: the graph does no preprocessing (images: the pixels "
    "scaled to [0, 1] by scratchnet.preprocess, if it trained on them so)."
)


def export(net: Network, path: str | os.PathLike, dtype=None) -> None:
    """Write ``net`` as an ONNX model to ``path``, atomically, in ``dtype`` (float32 or
    float64; default: the network's own)."""
    serialized = to_model(net, dtype).SerializeToString()
    with atomic_write(path) as file:
        file.write(serialized)


def to_model(net: Network, dtype=None) -> onnx.ModelProto:
    """The network's inference graph as a checked ONNX model."""
    _check_is_a_network(net)
    dtype = net.dtype if dtype is None else check_float_dtype(dtype)
    _check_fits_onnx(net, dtype)
    builder = _Graph(dtype)
    a = INPUT
    for index, layer in enumerate(net.layers, start=1):
        weight = builder.constant(
            f"W{index}", _cast(layer.weight, dtype, f"layer {index}'s weights")
        )
        bias = builder.constant(f"b{index}", _cast(layer.bias, dtype, f"layer {index}'s biases"))
        a = builder.node("Gemm", [a, weight, bias], f"z{index}")
        if index < len(net.layers):
            a = _hidden_activation(builder, net.activation, a, f"a{index}")
    outputs = _output(builder, net.output, a, net.classes)
    n_features = net.layers[0].weight.shape[0]
    graph = helper.make_graph(
        builder.nodes, "scratchnet", [builder.value(INPUT, ["batch", n_features])], outputs,
        initializer=builder.initializers,
    )  # fmt: skip
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="scratchnet",
        producer_version=__version__, doc_string=DOC_STRING,
    )  # fmt: skip
    model.ir_version = IR_VERSION
    metadata = {"output": net.output, "activation": net.activation}
    if net.classes is not None:
        metadata["classes"] = json.dumps(net.classes.tolist())
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    return model


def _check_is_a_network(net) -> None:
    """InvalidTypeError for anything but a scratchnet network, naming the network inside
    a scikit-learn estimator or pipeline."""
    if isinstance(net, Network):
        return
    last = _last_step(net)
    hint = _network_inside(net if last is None else last, in_pipeline=last is not None)
    raise InvalidTypeError(
        f"ONNX export takes a fitted NeuralNet or NeuralNetRegressor, got "
        f"{type(net).__name__}{hint}"
    )


def _network_inside(estimator, in_pipeline: bool) -> str:
    """Where the network of an estimator that holds one (``net_``) is, or ''."""
    if not hasattr(estimator, "net_"):
        return ""
    hint = f"; export the network inside, {'pipeline[-1].net_' if in_pipeline else 'est.net_'}"
    if hasattr(estimator, "classes_"):
        hint += " (its labels are the positions in classes_ unless those are integers)"
    if in_pipeline:
        hint += (": the steps before it are not part of the graph, so apply them to X before "
                 "the runtime")  # fmt: skip
    return hint


def _last_step(pipeline):
    """The estimator at the end of a scikit-learn Pipeline (its ``steps``, a list of
    (name, estimator) pairs), or None for anything else."""
    steps = getattr(pipeline, "steps", None)
    if isinstance(steps, list) and steps and isinstance(steps[-1], (tuple, list)):
        return steps[-1][1] if len(steps[-1]) == 2 else None
    return None


def _cast(values: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """``values`` in ``dtype``; InvalidArgumentError where one is too large for it (a
    float64 weight past float32's 3.4e38 would be infinite in the graph)."""
    if not np.all(np.isfinite(values)):  # weights set by hand: a fit ends with finite ones
        raise InvalidArgumentError(f"{name} hold values that are not finite (NaN or infinite)")
    with np.errstate(over="ignore"):
        cast = values.astype(dtype)
    if not np.all(np.isfinite(cast)):
        largest = float(np.max(np.abs(values)))
        raise InvalidArgumentError(
            f"{name} hold values too large for {dtype.name} (up to {largest:.6g}): export "
            "the model in float64"
        )
    return cast


def _check_fits_onnx(net: Network, dtype: np.dtype) -> None:
    """An ONNX file is one protobuf message, which cannot pass 2 GiB: the weights, with
    room for the rest of the graph, must fit (checked before building any of it)."""
    count = parameter_count((net.layers[0].weight.shape[0], *net.layer_sizes))
    if count * dtype.itemsize <= MAX_WEIGHT_BYTES:
        return
    smaller = " (export it in float32)" if count * 4 <= MAX_WEIGHT_BYTES else ""
    raise InvalidArgumentError(
        f"the model's {count:,} weights take {count * dtype.itemsize:,} bytes in "
        f"{dtype.name}, more than the {MAX_WEIGHT_BYTES:,} an ONNX file can hold{smaller}"
    )


class _Graph:
    """Nodes and constants of a graph being built, with unique names."""

    def __init__(self, dtype: np.dtype):
        self.dtype, self.element_type = dtype, ELEMENT_TYPES[dtype]
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def value(self, name: str, shape: list, element_type: int | None = None):
        return helper.make_tensor_value_info(name, element_type or self.element_type, shape)


def _hidden_activation(builder: _Graph, name: str, z: str, output: str) -> str:
    if name == "leaky_relu":  # max(z, alpha z), alpha in the graph's dtype
        alpha = builder.constant(f"{output}_alpha", np.array(get_activation(name).alpha,
                                                             builder.dtype))  # fmt: skip
        scaled = builder.node("Mul", [z, alpha], f"{output}_scaled")
        return builder.node("Max", [z, scaled], output)
    return builder.node(HIDDEN[name], [z], output)


def _second_class_where_above_the_tie(builder: _Graph, z: str) -> str:
    """The class index (batch,) of a sigmoid unit: 1 where z > eps, as ``predict``
    decides (``BinaryCrossEntropy.predicted_indices``), whatever the runtime's Tanh
    rounds near 0 (onnxruntime's float32 Tanh is not correctly rounded)."""
    eps = builder.constant("tie_bound", np.array(np.finfo(builder.dtype).eps, builder.dtype))
    above = builder.node("Greater", [z, eps], "above_the_tie")
    flat = builder.constant("flat", np.array([-1], dtype=np.int64))
    index = builder.node("Cast", [above], "index_column", to=TensorProto.INT64)
    return builder.node("Reshape", [index, flat], "index")


def _output(builder: _Graph, output: str, z: str, classes) -> list:
    """The graph's outputs for the output layer called ``output``."""
    if output == "identity":
        builder.node("Identity", [z], "predictions")
        return [builder.value("predictions", ["batch", "outputs"])]
    if output == "sigmoid":  # p = (1 + tanh(z / 2)) / 2
        half = builder.constant("half", np.array(0.5, builder.dtype))
        tanh = builder.node("Tanh", [builder.node("Mul", [z, half], "half_z")], "tanh_half_z")
        p = builder.node("Add", [builder.node("Mul", [tanh, half], "half_tanh"), half], "p")
        one = builder.constant("one", np.ones((1, 1), builder.dtype))
        q = builder.node("Sub", [one, p], "q")
        builder.node("Concat", [q, p], "probabilities", axis=1)
        index = _second_class_where_above_the_tie(builder, z)
    else:
        builder.node("Softmax", [z], "probabilities", axis=1)
        index = builder.node("ArgMax", ["probabilities"], "index", axis=1, keepdims=0)
    labels = builder.constant("classes", np.asarray(classes, dtype=np.int64))
    builder.node("Gather", [labels, index], "label", axis=0)
    return [
        builder.value("probabilities", ["batch", len(classes)]),
        builder.value("label", ["batch"], TensorProto.INT64),
    ]
