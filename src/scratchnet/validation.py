"""Checks at the public boundary: each failure names the bad value."""

from __future__ import annotations

import numbers

import numpy as np

from .preprocessing import FLOAT_DTYPES

RandomStateLike = int | np.random.Generator | np.random.RandomState | None


def check_features(
    x, name: str = "X", n_features: int | None = None, finite: bool = True
) -> np.ndarray:
    """A 2-D float32/float64 array with at least one row and column, all values finite
    (``finite=False`` leaves that check to the caller, e.g. chunk by chunk)."""
    x = np.asarray(x)
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must hold float32 or float64 values, got {x.dtype}; "
            "scale raw images with scratchnet.preprocess"
        )
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"{name} has {x.shape[1]} features, the network expects {n_features}")
    if finite:
        check_finite(x, x, name)
    return x


def check_finite(part: np.ndarray, whole: np.ndarray, name: str) -> None:
    """ValueError naming the first NaN or infinite entry of ``whole`` if ``part`` (all of
    it, or a chunk being used) holds one. One fast pass: a NaN or inf makes the sum
    non-finite; only then (or on a harmless overflow) are the entries examined."""
    if np.isfinite(np.add.reduce(part, axis=None)):
        return
    bad = np.argwhere(~np.isfinite(whole))
    if bad.size:
        row, column = bad[0]
        raise ValueError(
            f"{name} contains NaN or infinite values ({len(bad)} of them; "
            f"first at row {row}, column {column}: {whole[row, column]})"
        )


def check_labels(y, n_samples: int, name: str = "y") -> np.ndarray:
    """A 1-D integer array of ``n_samples`` labels (integral floats are accepted)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,), got shape {y.shape}")
    if len(y) != n_samples:
        raise ValueError(f"X has {n_samples} rows but {name} has {len(y)} labels")
    if y.dtype.kind in "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    return y.astype(np.int64, copy=False)


def check_classes(classes, y: np.ndarray | None = None) -> np.ndarray:
    """Distinct integer class labels, in the given order (default: sorted labels of y)."""
    if classes is None:
        classes = np.unique(y)
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.dtype.kind not in "iu":
        raise TypeError(f"classes must be a 1-D sequence of integers, got {classes!r}")
    if len(np.unique(classes)) != len(classes):
        raise ValueError(f"classes must be distinct, got {classes.tolist()}")
    if len(classes) < 2:
        raise ValueError(f"at least two classes are needed, got {classes.tolist()}")
    return classes.astype(np.int64)


def encode_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Class indices: the position of each label in ``classes``."""
    order = np.argsort(classes)
    positions = np.searchsorted(classes, y, sorter=order)
    positions = np.minimum(positions, len(classes) - 1)
    indices = order[positions]
    unknown = classes[indices] != y
    if np.any(unknown):
        raise ValueError(
            f"labels {np.unique(y[unknown]).tolist()} are not among the classes {classes.tolist()}"
        )
    return indices


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < np.inf:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_non_negative_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < np.inf:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def check_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


def check_random_state(seed: RandomStateLike) -> np.random.Generator | np.random.RandomState:
    """None: fresh entropy; int: a new seeded Generator; a generator: itself."""
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"random_state must be an int, a numpy Generator or RandomState, got {seed!r}")


def check_output_size(n_outputs: int, n_classes: int) -> None:
    if n_outputs == 1 and n_classes != 2:
        raise ValueError(
            f"a single output unit classifies two classes, but there are {n_classes}; "
            f"make the last layer size {n_classes}"
        )
    if n_outputs > 1 and n_outputs != n_classes:
        raise ValueError(
            f"the output layer has {n_outputs} units but there are {n_classes} classes"
        )
