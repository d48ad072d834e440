"""Initial weights for a layer of shape (fan_in, fan_out); biases start at zero.

Each initializer draws its (fan_out, fan_in) sample and transposes it: that is the row
order of the tutorial's ``randn(size_of_layers[l], size_of_layers[l - 1])``, so the same
generator state gives the tutorial's weights bit for bit.
"""

from __future__ import annotations

import numpy as np

from .settings import named

RandomSource = np.random.Generator | np.random.RandomState


def lecun(fan_in: int, fan_out: int, rng: RandomSource) -> np.ndarray:
    """LeCun normal: W ~ N(0, 1 / fan_in), drawn as ``randn / sqrt(fan_in)``.

    The tutorial uses this and calls it He or Xavier; it is LeCun's scaling.
    """
    return rng.standard_normal((fan_out, fan_in)).T / np.sqrt(fan_in)


def he(fan_in: int, fan_out: int, rng: RandomSource) -> np.ndarray:
    """He normal: W ~ N(0, 2 / fan_in), suited to ReLU units."""
    return rng.standard_normal((fan_out, fan_in)).T * np.sqrt(2.0 / fan_in)


def glorot(fan_in: int, fan_out: int, rng: RandomSource) -> np.ndarray:
    """Glorot (Xavier) uniform: W ~ U(-l, l), l = sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_out, fan_in)).T


INITIALIZERS = {"lecun": lecun, "he": he, "glorot": glorot}


def get_initializer(name: str):
    """The initializer called ``name`` (one of INITIALIZERS)."""
    return named(name, INITIALIZERS, "init")
