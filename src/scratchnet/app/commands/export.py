"""``scratchnet export``: a saved model as an ONNX file, for onnxruntime and other
ONNX runtimes (needs the onnx extra: ``pip install 'scratchnet[onnx]'``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ...errors import InvalidArgumentError
from ...network import Network
from ..arguments import file_argument, printable
from ..overwrite import FORCE_ONE_HELP, check_replaceable, onnx_is_ours


def add_parser(commands) -> None:
    export = commands.add_parser(
        "export",
        help="write a saved model as an ONNX file",
        description="Write the inference graph of a model saved by 'scratchnet train' (or "
        "NeuralNet.save) as an ONNX file: input X (batch, n_features); outputs "
        "'probabilities' and 'label' for a classifier, 'predictions' for a regressor. "
        "Needs the onnx extra: pip install 'scratchnet[onnx]'.",
    )
    export.add_argument(
        "--model",
        type=file_argument,
        required=True,
        help="the model file to export, e.g. model.npz (required)",
    )
    export.add_argument(
        "--out", type=file_argument, default=Path("model.onnx"), help="the ONNX file to write "
        "(default: model.onnx); a file there is replaced only if scratchnet wrote it",
    )  # fmt: skip
    export.add_argument("--force", action="store_true", help=FORCE_ONE_HELP)
    export.add_argument(
        "--dtype", choices=("float32", "float64"), default=None,
        help="floating-point type of the graph (default: the model's own)",
    )  # fmt: skip
    export.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if _same_file(args.out, args.model):
        raise InvalidArgumentError(
            f"--out {args.out} is the model file itself; give the ONNX file another name"
        )
    net = Network.load(args.model)
    check_replaceable(args.out, onnx_is_ours, "an ONNX model", "--out", args.force)
    net.to_onnx(args.out, args.dtype)
    from ...interop.onnx import OPSET  # imported by to_onnx: the onnx extra is there

    dtype = args.dtype or net.dtype.name
    outputs = "predictions" if net.output == "identity" else "probabilities and label"
    print(printable(
        f"wrote {args.out}: ONNX opset {OPSET}, input X (batch, {net.layers[0].weight.shape[0]}) "
        f"{dtype}, outputs {outputs}"
    ))  # fmt: skip
    return 0


def _same_file(out: Path, model: Path) -> bool:
    """Whether writing ``out`` would replace ``model`` (a link or another name of it)."""
    try:
        return os.path.samefile(out, model)
    except (OSError, ValueError):  # either is missing, unreadable or holds a NUL: the
        return False  # model's error comes on loading, the ONNX file's on writing
