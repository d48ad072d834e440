"""Data sets: MNIST from its official IDX files."""

from .idx import read_idx
from .mnist import MNIST, load_mnist

__all__ = ["MNIST", "load_mnist", "read_idx"]
