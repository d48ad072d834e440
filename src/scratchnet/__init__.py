"""scratchnet: a fully connected neural network written from scratch in NumPy.

The public names below are imported when first used (PEP 562), so ``import scratchnet``
and the ``scratchnet`` command start without NumPy: the command imports the rest inside
``app.entry.entry_point``, where a Ctrl-C pressed while it starts is a one-line interruption
rather than a traceback from the middle of an import.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # type checkers take it as True; not importing typing keeps the
# time before the command's signal handlers are in place short

# public name -> the module that defines it, relative to this package
_PUBLIC = {
    "Augment": "data.augment",
    "read_idx": "data.idx",
    "image_to_mnist": "data.images",
    "load_image": "data.images",
    "MNIST": "data.mnist",
    "load_mnist": "data.mnist",
    "preprocess": "data.preprocessing",
    "shuffle_like_tutorial": "data.tutorial",
    "tutorial_random_state": "data.tutorial",
    "DataFileError": "errors",
    "ImageFileError": "errors",
    "InvalidArgumentError": "errors",
    "InvalidTypeError": "errors",
    "MissingExtraError": "errors",
    "NotFittedError": "errors",
    "ScratchnetError": "errors",
    "TrainingDivergedError": "errors",
    "ClassScores": "metrics",
    "Reliability": "metrics",
    "calibration": "metrics",
    "class_scores": "metrics",
    "confusion_matrix": "metrics",
    "NeuralNet": "network",
    "NeuralNetRegressor": "network",
    "sigmoid": "nn.activations",
    "sigmoid_derivative": "nn.activations",
    "binary_cross_entropy": "nn.losses",
    "Adam": "nn.optimizers",
    "GradientDescent": "nn.optimizers",
    "Momentum": "nn.optimizers",
    "Constant": "nn.schedules",
    "Cosine": "nn.schedules",
    "StepDecay": "nn.schedules",
    "Callback": "training.callbacks",
    "ProgressBar": "training.callbacks",
    "StopTraining": "training.callbacks",
    "Checkpoint": "training.checkpoint",
    "History": "training.history",
}

__all__ = sorted([*_PUBLIC, "__version__"])

if TYPE_CHECKING:  # what editors and type checkers see; _PUBLIC must list the same names
    from .data.augment import Augment
    from .data.idx import read_idx
    from .data.images import image_to_mnist, load_image
    from .data.mnist import MNIST, load_mnist
    from .data.preprocessing import preprocess
    from .data.tutorial import shuffle_like_tutorial, tutorial_random_state
    from .errors import (
        DataFileError,
        ImageFileError,
        InvalidArgumentError,
        InvalidTypeError,
        MissingExtraError,
        NotFittedError,
        ScratchnetError,
        TrainingDivergedError,
    )
    from .metrics import ClassScores, Reliability, calibration, class_scores, confusion_matrix
    from .network import NeuralNet, NeuralNetRegressor
    from .nn.activations import sigmoid, sigmoid_derivative
    from .nn.losses import binary_cross_entropy
    from .nn.optimizers import Adam, GradientDescent, Momentum
    from .nn.schedules import Constant, Cosine, StepDecay
    from .training.callbacks import Callback, ProgressBar, StopTraining
    from .training.checkpoint import Checkpoint
    from .training.history import History

    __version__: str


def __getattr__(name: str):
    """A public name, imported from its module on first use and kept here; or one of
    scratchnet's subpackages or modules, imported (``scratchnet.nn`` without importing
    it first), never ``__main__``, which would run the command line."""
    if name == "__version__":
        value = _installed_version()
    elif name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    elif name in _submodules():
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def _submodules() -> set[str]:
    import pkgutil

    return {module.name for module in pkgutil.iter_modules(__path__)} - {"__main__"}


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scratchnet")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
