"""scratchnet: a fully connected neural network written from scratch in NumPy."""

from importlib.metadata import PackageNotFoundError, version

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
from .training.callbacks import Callback, ProgressBar
from .training.checkpoint import Checkpoint
from .training.history import History

try:
    __version__ = version("scratchnet")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "MNIST",
    "Adam",
    "Augment",
    "Callback",
    "Checkpoint",
    "ClassScores",
    "Constant",
    "Cosine",
    "DataFileError",
    "GradientDescent",
    "History",
    "ImageFileError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "MissingExtraError",
    "Momentum",
    "NeuralNet",
    "NeuralNetRegressor",
    "NotFittedError",
    "ProgressBar",
    "Reliability",
    "ScratchnetError",
    "StepDecay",
    "TrainingDivergedError",
    "__version__",
    "binary_cross_entropy",
    "calibration",
    "class_scores",
    "confusion_matrix",
    "image_to_mnist",
    "load_image",
    "load_mnist",
    "preprocess",
    "read_idx",
    "shuffle_like_tutorial",
    "sigmoid",
    "sigmoid_derivative",
    "tutorial_random_state",
]
