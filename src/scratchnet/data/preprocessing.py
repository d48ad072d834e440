"""From raw images to the feature matrix the network reads."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError, InvalidTypeError
from ..validation import as_array, check_float_dtype
from .mnist import IMAGE_SHAPE

FLAT_PIXELS = math.prod(IMAGE_SHAPE)  # an MNIST image's pixels in a row


def preprocess(images: np.ndarray, dtype: type | np.dtype | str = np.float64) -> np.ndarray:
    """Scale uint8 pixels to [0, 1] and flatten each image: ``x = pixels / 255``.

    A batch (n, 28, 28) uint8 -> (n, 784) in ``dtype`` (float64 or float32); one image
    (28, 28) -> (784,), ready for ``NeuralNet.predict``; either may have a last, channel
    axis of 1 ((n, 28, 28, 1), (28, 28, 1)), as grey images often do. Images already
    flattened to
    MNIST's 784 pixels, one (784,) or rows of them (n, 784) as in CSV copies of MNIST,
    keep their shape (any other 2-D array is one image). The division is done in
    ``dtype`` itself, so each value is the correctly rounded quotient.
    """
    images = as_array(images, "images")
    dtype = check_float_dtype(dtype)
    if images.dtype != np.uint8:
        raise InvalidTypeError(
            f"images must be raw uint8 pixels, got dtype {images.dtype}" + _uint8_hint(images.dtype)
        )
    if images.ndim in (3, 4) and images.shape[-1] == 1:  # grey, with a channel axis
        images = images[..., 0]
    flattened = images.ndim in (1, 2) and images.shape[-1] == FLAT_PIXELS
    if (images.ndim < 2 and not flattened) or images.ndim > 3:
        raise InvalidArgumentError(
            f"images must have shape (n, height, width), or (height, width) for one image, "
            f"either with a channel axis of 1 at the end or not, or ({FLAT_PIXELS},) and "
            f"(n, {FLAT_PIXELS}) flattened, got {images.shape}"
        )
    if flattened:
        return np.divide(images, dtype.type(255), dtype=dtype)
    if images.ndim == 2:  # one image
        return np.divide(images.reshape(-1), dtype.type(255), dtype=dtype)
    flat = images.reshape(len(images), math.prod(images.shape[1:]))  # (n, 784)
    return np.divide(flat, dtype.type(255), dtype=dtype)


def _uint8_hint(dtype: np.dtype) -> str:
    """What to do with pixels of ``dtype``: integers (a CSV reader's int64) in 0..255
    become uint8; floats this function does not scale."""
    if dtype.kind in "iu":
        return "; integers in 0..255 (a CSV reader's, say): pass images.astype(np.uint8)"
    if dtype.kind == "f":
        return "; floats are not scaled here: divide values in 0..255 by 255 and flatten them"
    return ""
