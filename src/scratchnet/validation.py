"""Checks at the public boundary, one home per rule: each failure names the bad value.

Every check raises a member of the error family in ``errors.py`` (a subclass of
ValueError or TypeError). Checks that name options take a ``spell`` function, so the
command line words the same rule with its own option names.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Sequence

import numpy as np

from .errors import InvalidArgumentError, InvalidTypeError
from .nn.losses import classes_of
from .nn.settings import check_positive_int, real_number

RandomStateLike = int | np.random.Generator | np.random.RandomState | None
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
N_DIGITS = 10


def python_name(name: str) -> str | None:
    """How the library spells a parameter: as it is. (An interface without the parameter
    spells it None.)"""
    return name


def check_flag(value, name: str, numbers_too: bool = False) -> bool:
    """``value`` as a bool, if it is one (NumPy's included; with ``numbers_too`` an
    integer as well, as scikit-learn's ``verbose`` takes); else InvalidTypeError, since
    any other value, the string "no" say, would be taken for its truth."""
    if isinstance(value, (bool, np.bool_)) or (numbers_too and isinstance(value, numbers.Integral)):
        return bool(value)
    accepted = "True, False or a number" if numbers_too else "True or False"
    raise InvalidTypeError(f"{name} must be {accepted}, got {value!r}")


def as_array(values, name: str) -> np.ndarray:
    """``values`` as a NumPy array; InvalidArgumentError for what NumPy cannot make one of
    (nested lists of different lengths, say), and for a masked array with entries masked
    (np.asarray would hand over the values under the mask as if they were data; a list
    of masked rows is not looked into); InvalidTypeError for a SciPy sparse matrix."""
    if type(values).__module__.startswith("scipy.sparse"):  # NumPy makes an object of it
        raise InvalidTypeError(
            f"{name} is a SciPy sparse matrix; scratchnet takes dense arrays: pass its .toarray()"
        )
    if np.ma.isMaskedArray(values) and np.ma.is_masked(values):
        raise InvalidArgumentError(
            f"{name} is a masked array with masked entries, whose values would be used as "
            "they are: fill them (values.filled(...)) or drop those rows first"
        )
    try:
        return np.asarray(values)
    except (ValueError, TypeError, RuntimeError) as error:  # RuntimeError: a tensor's own
        ragged = "inhomogeneous" in str(error)
        hint = " (are its rows of different lengths?)" if ragged else ""
        raise InvalidArgumentError(f"{name} cannot be made an array{hint}: {error}") from None


def check_features(
    x, name: str = "X", n_features: int | None = None, finite: bool = True
) -> np.ndarray:
    """A 2-D float32/float64 array with at least one row and column, all values finite
    (``finite=False`` leaves that check to the caller, e.g. chunk by chunk)."""
    x = as_array(x, name)
    if x.dtype.kind == "f" and not x.dtype.isnative:  # read from a big-endian file, say
        x = x.astype(x.dtype.newbyteorder("="))
    if x.dtype not in FLOAT_DTYPES:
        raise InvalidTypeError(
            f"{name} must hold float32 or float64 values, got {x.dtype}; {_to_floats(x.dtype)}"
        )
    if x.ndim != 2:
        raise InvalidArgumentError(
            f"{name} must be 2-D (n_samples, n_features), got shape {x.shape}"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InvalidArgumentError(f"{name} is empty: shape {x.shape}")
    if n_features is not None and x.shape[1] != n_features:
        raise InvalidArgumentError(
            f"{name} has {x.shape[1]} features, the network expects {n_features}"
        )
    if finite:
        check_finite(x, x, name)
    return x


def _to_floats(dtype: np.dtype) -> str:
    """How to turn values of ``dtype`` into the floats a network takes."""
    if dtype == np.uint8:
        return "scale raw images with scratchnet.preprocess"
    if dtype.kind == "O":  # a DataFrame of pandas' nullable dtypes with missing values too
        return ("convert its values to numbers first (a pandas DataFrame: "
                "df.to_numpy(dtype='float32', na_value=np.nan), then fill or drop the missing "
                "values)")  # fmt: skip
    return "convert it with .astype(np.float32) (raw uint8 images: scratchnet.preprocess)"


def check_finite(part: np.ndarray, whole: np.ndarray, name: str, given=None) -> None:
    """ValueError naming the first NaN or infinite entry of ``whole`` if ``part`` (all of
    it, or a chunk being used) holds one. One fast pass: a NaN or inf makes the sum
    non-finite; only then (or on a harmless overflow) are the entries examined.

    ``given``: the array ``whole`` was cast from (same shape), if any; an entry finite
    there is one too large for ``whole``'s dtype, and the message says so."""
    with np.errstate(over="ignore", invalid="ignore"):  # large finite values may sum to
        # infinity, or to inf - inf = NaN
        if np.isfinite(np.add.reduce(part, axis=None)):
            return
    bad = np.argwhere(~np.isfinite(whole))
    if not bad.size:
        return
    row, column = bad[0]
    if given is not None and np.isfinite(given[row, column]):
        too_large = np.isfinite(given) & ~np.isfinite(whole)
        raise InvalidArgumentError(
            f"{name} holds values too large for {whole.dtype.name} ({np.count_nonzero(too_large)} "
            f"of them; first at row {row}, column {column}: {given[row, column]:.6g}); scale "
            f"them, or use a float64 model"
        )
    raise InvalidArgumentError(
        f"{name} contains NaN or infinite values ({len(bad)} of them; "
        f"first at row {row}, column {column}: {whole[row, column]})"
    )


def check_labels(y, n_samples: int, name: str = "y") -> np.ndarray:
    """A 1-D integer array of ``n_samples`` labels (integral floats are accepted)."""
    y = as_array(y, name)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise InvalidArgumentError(f"{name} must be 1-D (n_samples,), got shape {y.shape}")
    if len(y) != n_samples:
        raise InvalidArgumentError(
            f"{_features_of(name)} has {n_samples} rows but {name} has {len(y)} labels"
        )
    if y.dtype.kind in "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        if y.size and not (y.min() >= -(2.0**63) and y.max() < 2.0**63):
            raise _beyond_int64(name)
        y = y.astype(np.int64)
    if y.dtype.kind not in "iub":
        raise InvalidTypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    _check_fits_int64(y, name)
    return y.astype(np.int64, copy=False)


def _features_of(name: str) -> str:
    """The features that go with the labels or targets called ``name``: 'validation X'
    with 'validation y'."""
    return name.removesuffix("y") + "X" if name.endswith("y") else "X"


def _check_fits_int64(labels: np.ndarray, name: str) -> None:
    """Unsigned labels above the largest int64 would wrap around when converted."""
    if labels.dtype.kind == "u" and labels.size and labels.max() > np.iinfo(np.int64).max:
        raise _beyond_int64(name)


def _beyond_int64(name: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{name} holds labels outside the int64 range (largest {np.iinfo(np.int64).max:,}), "
        "the labels scratchnet takes; number the classes 0, 1, ..."
    )


def check_targets(
    y, n_samples: int, n_outputs: int, name: str = "y", layers_follow: bool = True
) -> np.ndarray:
    """Real-valued regression targets: (n_samples,) for one output, or (n_samples,
    n_outputs); their finiteness is checked once they have the network's dtype. Targets
    of another width are refused with the fix: the last layer's size where the layers
    follow the targets (an unfitted network's training targets), else the targets'
    width."""
    y = as_array(y, name)
    if y.dtype.kind not in "iufb":
        raise InvalidTypeError(
            f"{name} must hold numbers (regression targets), got dtype {y.dtype}"
        )
    if y.ndim not in (1, 2):
        raise InvalidArgumentError(
            f"{name} must be 1-D (n_samples,) or 2-D (n_samples, n_outputs), got shape {y.shape}"
        )
    if len(y) != n_samples:
        raise InvalidArgumentError(
            f"{_features_of(name)} has {n_samples} rows but {name} has {len(y)} targets"
        )
    columns = 1 if y.ndim == 1 else y.shape[1]
    if columns != n_outputs:
        fix = (f"make the last layer size {columns}" if layers_follow else
               f"give {name} {n_outputs} column(s), one per output unit")  # fmt: skip
        raise InvalidArgumentError(
            f"{name} has {columns} target column(s) but the output layer has {n_outputs} "
            f"unit(s); {fix}"
        )
    return y


def check_sample_weight(weights, n_samples: int) -> np.ndarray:
    """One finite, non-negative weight per row, as float64 (their sum is checked where
    the rows they weigh are known)."""
    weights = as_array(weights, "sample_weight")
    if weights.dtype.kind not in "iufb":
        raise InvalidTypeError(f"sample_weight must hold numbers, got dtype {weights.dtype}")
    if weights.ndim != 1 or len(weights) != n_samples:
        raise InvalidArgumentError(
            f"sample_weight must have shape ({n_samples},), one weight per row of X, "
            f"got shape {weights.shape}"
        )
    weights = weights.astype(np.float64)
    bad = np.flatnonzero(~(np.isfinite(weights) & (weights >= 0)))
    if bad.size:
        raise InvalidArgumentError(
            f"sample_weight must be finite and non-negative, got {weights[bad[0]]} at row {bad[0]}"
        )
    return weights


def check_classes(classes, y: np.ndarray | None = None) -> np.ndarray:
    """Distinct integer class labels, in the given order (default: sorted labels of y)."""
    if classes is None:
        classes = np.unique(y)
    classes = as_array(classes, "classes")
    if classes.shape == (0,):
        raise InvalidArgumentError("at least two classes are needed, got []")
    if classes.ndim != 1 or classes.dtype.kind not in "iub":  # booleans, as labels are
        raise InvalidTypeError(f"classes must be a 1-D sequence of integers, got {classes!r}")
    _check_fits_int64(classes, "classes")
    if len(np.unique(classes)) != len(classes):
        raise InvalidArgumentError(f"classes must be distinct, got {classes.tolist()}")
    if len(classes) < 2:
        raise InvalidArgumentError(f"at least two classes are needed, got {classes.tolist()}")
    return classes.astype(np.int64)


def encode_labels(y: np.ndarray, classes: np.ndarray, name: str = "y") -> np.ndarray:
    """Class indices: the position of each label (of ``y``, called ``name``) in ``classes``."""
    order = np.argsort(classes)
    positions = np.searchsorted(classes, y, sorter=order)
    positions = np.minimum(positions, len(classes) - 1)
    indices = order[positions]
    unknown = classes[indices] != y
    if np.any(unknown):
        raise InvalidArgumentError(
            f"{name} holds labels {np.unique(y[unknown]).tolist()} that are not among the "
            f"classes {classes.tolist()}"
        )
    return indices


def check_path(value, name: str = "path"):
    """``value`` if it can name a file (a str or an os.PathLike), bytes as the str the
    file system's encoding makes of them (as ``open`` reads them), else InvalidTypeError."""
    if isinstance(value, bytes):
        return os.fsdecode(value)
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidTypeError(f"{name} must be a str, bytes or a path, got {value!r}")
    return value


def check_positive_float(value, name: str) -> float:
    number = real_number(value)
    if number is None or not 0 < number < np.inf:
        raise InvalidArgumentError(f"{name} must be a positive finite number, got {value!r}")
    return number


def check_non_negative_float(value, name: str) -> float:
    number = real_number(value)
    if number is None or not 0 <= number < np.inf:
        raise InvalidArgumentError(f"{name} must be a non-negative finite number, got {value!r}")
    return number + 0.0  # -0.0 as 0.0: a range (-x, x) of x = -0.0 would run backwards


def check_fraction(value, name: str) -> float:
    number = real_number(value)
    if number is None or not 0 < number < 1:
        raise InvalidArgumentError(f"{name} must be a number in (0, 1), got {value!r}")
    return number


MAX_SEED = 2**32 - 1  # the largest seed NumPy's legacy RandomState (the tutorial's) takes


def check_seed(value, name: str = "seed") -> int:
    """An integer seed in [0, MAX_SEED]: every recipe accepts it, the tutorial's legacy
    stream included, so a seed means the same thing whatever it seeds."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or not 0 <= value <= MAX_SEED):  # fmt: skip
        raise InvalidArgumentError(
            f"{name} must be an integer from 0 to 2**32 - 1 = {MAX_SEED}, got {value!r}"
        )
    return int(value)


def check_random_state(seed: RandomStateLike) -> np.random.Generator | np.random.RandomState:
    """None: fresh entropy; int: a new seeded Generator; a generator: itself."""
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(check_seed(seed, "random_state"))
    if seed is None:
        return np.random.default_rng()
    raise InvalidTypeError(
        f"random_state must be an int, a numpy Generator or RandomState, got {seed!r}"
    )


def check_output_size(n_outputs: int, n_classes: int, hint: str = "") -> None:
    """The output layer must tell apart exactly ``n_classes`` classes; ``hint`` is added
    to the message when the layer is wider (naming more classes can help then)."""
    if classes_of(n_outputs) == n_classes:
        return
    if n_outputs == 1:
        raise InvalidArgumentError(
            f"a single output unit classifies two classes, but there are {n_classes}; "
            f"make the last layer size {n_classes}"
        )
    wider = hint if n_outputs > n_classes else ""
    raise InvalidArgumentError(
        f"the output layer has {n_outputs} units but there are {n_classes} classes; make the "
        f"last layer size {n_classes}{wider}"
    )


def check_float_dtype(dtype) -> np.dtype:
    """The dtype as np.dtype if it is float32 or float64."""
    try:
        resolved = None if dtype is None else np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved not in FLOAT_DTYPES:
        raise InvalidTypeError(f"dtype must be float32 or float64, got {dtype!r}")
    return resolved


def check_dropout(rate) -> float:
    """A dropout rate in [0, 1)."""
    number = real_number(rate)
    if number is None or not 0 <= number < 1:
        raise InvalidArgumentError(f"dropout must be a number in [0, 1), got {rate!r}")
    return number


def check_digits(digits: Sequence[int]) -> tuple[int, ...]:
    """A selection of at least two distinct MNIST digits 0..9, in the order given."""
    digits = _sequence_of_integers(digits, "digits")
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in digits):
        raise InvalidTypeError(f"digits must be integers, got {list(digits)!r}")
    chosen = tuple(int(d) for d in digits)
    unknown = [d for d in chosen if not 0 <= d < N_DIGITS]
    if unknown:
        raise InvalidArgumentError(f"unknown digits {unknown}: MNIST has the digits 0 to 9")
    repeated = sorted({d for d in chosen if chosen.count(d) > 1})
    if repeated:
        raise InvalidArgumentError(f"digits given more than once: {repeated}")
    if len(chosen) < 2:
        raise InvalidArgumentError(
            f"at least two digits are needed to classify, got {list(chosen)}"
        )
    return chosen


def check_training_length(
    *,
    batch_size: int | None,
    n_iterations: int | None,
    epochs: int | None,
    spell: Callable[[str], str] = python_name,
) -> None:
    """How long to train: full-batch runs count iterations, which are also their epochs
    (either name, not both); mini-batch runs count epochs only."""
    if batch_size is not None and n_iterations is not None:
        raise InvalidArgumentError(
            f"{spell('n_iterations')} counts full-batch steps; with {spell('batch_size')} "
            f"give the number of passes as {spell('epochs')}"
        )
    if n_iterations is not None and epochs is not None:
        raise InvalidArgumentError(
            f"give {spell('n_iterations')} or {spell('epochs')}, not both "
            "(in full-batch training they are the same)"
        )


def check_early_stopping(
    patience: int | None, has_validation: bool, spell: Callable[[str], str | None] = python_name
) -> None:
    """Early stopping watches validation data, never the test set."""
    if patience is not None and not has_validation:
        sources = [spell(name) for name in ("validation_fraction", "validation_data")]
        raise InvalidArgumentError(
            f"{spell('patience')} needs validation data "
            f"({' or '.join(source for source in sources if source)}): "
            "early stopping never looks at the test set"
        )


def check_layer_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    """The sizes of a network's layers (the output's last), each an integer >= 1."""
    layer_sizes = _sequence_of_integers(layer_sizes, "layer_sizes")
    if len(layer_sizes) == 0:
        raise InvalidArgumentError("layer_sizes must list at least the output size, got []")
    for size in layer_sizes:
        check_positive_int(size, f"every layer size (in {list(layer_sizes)})")
    return tuple(int(size) for size in layer_sizes)


def check_pair(validation_data) -> tuple:
    """``validation_data`` as a pair (X_val, y_val)."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise InvalidTypeError("validation_data must be a pair (X_val, y_val)")
    return tuple(validation_data)


def _sequence_of_integers(values, name: str) -> list:
    """``values`` as a list, if it is a sequence (a 1-D array is one; a string is not);
    its items are checked by the caller."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise InvalidTypeError(f"{name} must be a sequence of integers, got {values!r}")
    return list(values)
