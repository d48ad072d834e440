"""scratchnet: a fully connected neural network written from scratch in NumPy."""

from importlib.metadata import PackageNotFoundError, version

from .activations import sigmoid, sigmoid_derivative
from .callbacks import Callback, ProgressBar
from .datasets import MNIST, load_mnist, read_idx
from .errors import DataFileError, TrainingDivergedError
from .history import History
from .losses import binary_cross_entropy
from .network import NeuralNet
from .optimizers import Adam, GradientDescent, Momentum
from .preprocessing import preprocess
from .schedules import Constant, Cosine, StepDecay
from .tutorial import shuffle_like_tutorial, tutorial_random_state

try:
    __version__ = version("scratchnet")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "MNIST",
    "Adam",
    "Callback",
    "Constant",
    "Cosine",
    "DataFileError",
    "GradientDescent",
    "History",
    "Momentum",
    "NeuralNet",
    "ProgressBar",
    "StepDecay",
    "TrainingDivergedError",
    "__version__",
    "binary_cross_entropy",
    "load_mnist",
    "preprocess",
    "read_idx",
    "shuffle_like_tutorial",
    "sigmoid",
    "sigmoid_derivative",
    "tutorial_random_state",
]
