"""Random distortions of digit images, drawn afresh for every batch: affine transforms
(shift, rotation, scale, shear) and Simard's elastic distortion.

Every distortion is a map from each output pixel p (row, column; the image's centre c)
to the point it samples in the input:

    source(p) = A (p - c) + c + t + d(p)

with A = R(theta) Sh(phi) / s (rotation by theta, shear by phi, zoom by s), t a shift,
and d an elastic displacement field (Simard et al., 2003): a field of independent
U(-1, 1) values per pixel and direction, smoothed by a Gaussian of standard deviation
sigma (zero beyond the image) and scaled by alpha. The output pixel is the bilinear
interpolation of the input at source(p), with zero outside the image.

Everything is vectorised over the batch: the Gaussian smoothing is two matrix products
per field, G F G^T, and the interpolation four gathers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError, InvalidTypeError
from ..validation import (
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    real_number,
)

KINDS = ("none", "affine", "elastic")
TRUNCATE = 4.0  # the Gaussian kernel reaches 4 sigma, as scipy.ndimage's does
ELASTIC = ("alpha", "sigma")  # the settings of the elastic field alone
MAX_ALPHA = 1e6  # pixels: the elastic field's scale, far beyond any image's size
INT32_INDICES = 2**31 - 1  # bilinear indexes up to this many padded pixels in int32 (half
# the traffic of int64), more in int64


STRENGTHS = ("shift", "rotation", "scale", "shear", "alpha", "sigma")


def library_spelling(name: str) -> str:
    return f"augmentation {name}"


def check_strengths(
    kind: str, side: int, spell: Callable[[str], str] = library_spelling, **strengths
) -> None:
    """Each of the ``strengths`` (those of STRENGTHS, as Augment names them) valid for
    distortions of ``kind`` of images whose larger side is ``side``: each has a largest
    value past which it means nothing more (checked where ``kind`` uses it). An error
    names a strength as ``spell`` does (the command line, its option)."""
    for name, largest, why in (
        ("shift", side, "pixels, the image's larger side: a larger shift moves it out"),
        ("rotation", 180, "degrees: either way, that reaches every angle"),
        ("shear", 89, "degrees: at 90 the image is sheared flat"),
        ("alpha", MAX_ALPHA, "pixels: a larger field moves every pixel out of the image"),
        ("sigma", side, "pixels, the image's larger side: a wider field is flat across it"),
    ):
        check = check_positive_float if name == "sigma" else check_non_negative_float
        value = check(strengths[name], spell(name))
        used = kind == "elastic" or (kind == "affine" and name not in ELASTIC)
        if value > largest and used:  # (sigma's default suits 28 x 28)
            raise InvalidArgumentError(
                f"{spell(name)} must be at most {largest:g} {why}; got {strengths[name]!r}"
            )
    scale = real_number(strengths["scale"])
    if scale is None or not 0 <= scale < 1:
        scale = strengths["scale"]
        raise InvalidArgumentError(f"{spell('scale')} must be in [0, 1), got {scale!r}")


@dataclass(frozen=True)
class Augment:
    """How to distort images of ``shape`` (rows, columns), flattened row by row.

    ``kind``: "affine" (shift, rotation, scale, shear), "elastic" (those, then an
    elastic field) or "none". Each affine parameter is drawn uniformly per image:
    ``shift`` pixels in each direction, ``rotation`` and ``shear`` degrees either way,
    a zoom in [1 - ``scale``, 1 + ``scale``]. ``alpha`` and ``sigma`` are the elastic
    field's scale and smoothing, in pixels. Each has a largest value past which it
    means nothing more: the image's larger side for ``shift`` and ``sigma``, 180
    degrees for ``rotation``, 89 for ``shear`` and MAX_ALPHA for ``alpha``.
    """

    kind: str = "affine"
    shift: float = 2.0
    rotation: float = 10.0
    scale: float = 0.1
    shear: float = 10.0
    alpha: float = 8.0
    sigma: float = 3.0
    shape: tuple[int, int] = (28, 28)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InvalidArgumentError(
                f"unknown augmentation {self.kind!r}; choose from {', '.join(KINDS)}"
            )
        if not (isinstance(self.shape, (tuple, list)) and len(self.shape) == 2):
            raise InvalidArgumentError(
                f"augmentation shape must be (rows, columns), got {self.shape!r}"
            )
        shape = tuple(
            check_positive_int(size, "augmentation rows and columns") for size in self.shape
        )
        object.__setattr__(self, "shape", shape)  # frozen: set once, as a tuple of ints
        check_strengths(self.kind, max(shape), **{name: getattr(self, name) for name in STRENGTHS})

    @property
    def active(self) -> bool:
        return self.kind != "none"

    def distort(self, images: np.ndarray, rng: np.random.Generator, out: np.ndarray) -> None:
        """Write a fresh distortion of each row of ``images`` (m, rows * columns) into
        ``out`` (same shape and dtype; not ``images`` itself)."""
        m = len(images)
        sources = self.sources(m, rng, images.dtype).reshape(m, 2, *self.shape)
        bilinear(
            images.reshape(m, *self.shape), sources[:, 0], sources[:, 1],
            out.reshape(m, *self.shape),
        )  # fmt: skip

    def sources(self, m: int, rng, dtype) -> np.ndarray:
        """source(p) of every output pixel p of m images: (m, 2, rows * columns), rows
        then columns."""
        rows, cols = self.shape
        centre = np.array([(rows - 1) / 2, (cols - 1) / 2], dtype)
        grid = _centred_grid(self.shape, np.dtype(dtype))  # (2, rows * cols)
        offset = centre + _either_way(rng, self.shift, (m, 2)).astype(dtype)
        sources = self._affine_matrices(m, rng, dtype) @ grid  # (m, 2, rows * cols)
        sources += offset[:, :, None]
        if self.kind == "elastic":
            sources += self._elastic_field(m, rng, dtype).reshape(m, 2, rows * cols)
        return sources

    def _affine_matrices(self, m: int, rng, dtype) -> np.ndarray:
        """A = R(theta) Sh(phi) / s for each image (m, 2, 2), acting on (row, column)."""
        theta = np.radians(_either_way(rng, self.rotation, m))
        phi = np.radians(_either_way(rng, self.shear, m))
        scale = _real(self.scale)
        zoom = rng.uniform(1 - scale, 1 + scale, m)
        cos, sin, tan = np.cos(theta), np.sin(theta), np.tan(phi)
        # rotation R = [[cos, -sin], [sin, cos]]; shear Sh = [[1, tan], [0, 1]]
        a = np.empty((m, 2, 2))
        a[:, 0, 0], a[:, 0, 1] = cos, cos * tan - sin
        a[:, 1, 0], a[:, 1, 1] = sin, sin * tan + cos
        return (a / zoom[:, None, None]).astype(dtype)

    def _elastic_field(self, m: int, rng, dtype) -> np.ndarray:
        """alpha * (G U G^T) per image and direction, U ~ U(-1, 1) (m, 2, rows, cols)."""
        rows, cols = self.shape
        noise = _uniform(rng, (m, 2, rows, cols), dtype)
        noise *= 2
        noise -= 1
        sigma = _real(self.sigma)
        smooth_r = gaussian_matrix(rows, sigma, dtype)  # (rows, rows)
        smooth_c = gaussian_matrix(cols, sigma, dtype)
        field = smooth_r @ noise @ smooth_c.T
        field *= _real(self.alpha)
        return field


def _either_way(rng, half_width, shape) -> np.ndarray:
    """Uniform draws in [-half_width, half_width] (-0.0 as 0: NumPy refuses the range
    from 0.0 to -0.0, which a strength given as -0 made)."""
    width = abs(_real(half_width))
    return rng.uniform(-width, width, shape)


def _real(strength):
    """A strength NumPy computes with as given (so a run's draws keep their bits): a
    Python or NumPy float or signed integer as it is; any other real number (an unsigned
    integer, whose negation wraps around; a Fraction) as a float."""
    if isinstance(strength, (int, float, np.floating, np.signedinteger)):
        return strength
    return float(strength)


def _uniform(rng, shape: tuple[int, ...], dtype) -> np.ndarray:
    """U[0, 1) samples in ``dtype``: a Generator draws float32 directly, the legacy
    RandomState (the tutorial's) float64 only."""
    if not isinstance(rng, np.random.Generator):
        return rng.random_sample(shape).astype(dtype, copy=False)
    if np.dtype(dtype) == np.float32:
        return rng.random(shape, dtype=np.float32)
    return rng.random(shape)


@functools.cache
def _centred_grid(shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """Every pixel's (row, column) relative to the image's centre: (2, rows * cols)."""
    rows, cols = shape
    grid_r, grid_c = np.meshgrid(
        np.arange(rows) - (rows - 1) / 2, np.arange(cols) - (cols - 1) / 2, indexing="ij"
    )
    return np.stack([grid_r.ravel(), grid_c.ravel()]).astype(dtype)


def gaussian_matrix(n: int, sigma: float, dtype=np.float64) -> np.ndarray:
    """G with (G f)_i = sum_j k(i - j) f_j: a normalised Gaussian kernel of standard
    deviation sigma, truncated at TRUNCATE sigma, zero beyond the n samples."""
    radius = int(TRUNCATE * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    distance = np.arange(n)[:, None] - np.arange(n)[None, :]
    inside = np.abs(distance) <= radius
    matrix = np.where(inside, kernel[np.clip(distance + radius, 0, 2 * radius)], 0.0)
    return matrix.astype(dtype)


def bilinear(images: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> None:
    """out[k, i, j] = images[k] sampled at (rows[k, i, j], cols[k, i, j]) by bilinear
    interpolation, zero outside the image (beyond the edge the image is extended by
    zeros and interpolated, as scipy's mode "grid-constant"). All (m, h, w).

    The image is padded with one row and column of zeros before it and two after, the
    coordinates are clipped into the padding (where every sample is zero), and each
    output reads four neighbours of one flat index: i, i + 1, i + W, i + W + 1.
    """
    m, h, w = images.shape
    width = w + 3  # padded: one zero before, two after
    padded = np.zeros((m, h + 3, width), images.dtype)
    padded[:, 1 : h + 1, 1 : w + 1] = images
    flat = padded.reshape(-1)
    r = np.clip(rows, -1, h, out=np.empty_like(rows)) + 1  # in [0, h + 1]: padded rows
    c = np.clip(cols, -1, w, out=np.empty_like(cols)) + 1
    integer = np.int32 if flat.size <= INT32_INDICES else np.int64
    r0, c0 = r.astype(integer), c.astype(integer)  # floor, since r, c >= 0
    r -= r0  # the weights of the next row and column
    c -= c0
    index = r0 * width
    index += c0
    index += (np.arange(m, dtype=integer) * ((h + 3) * width))[:, None, None]
    upper = flat[index]
    upper += (flat[index + 1] - upper) * c
    index += width
    lower = flat[index]
    lower += (flat[index + 1] - lower) * c
    lower -= upper
    lower *= r
    np.add(upper, lower, out=out)


def augment_for(augment, n_features: int) -> Augment | None:
    """The Augment to train with (None for none), fitting rows of ``n_features``."""
    if augment is None:
        return None
    if isinstance(augment, str):
        augment = Augment(augment)
    if not isinstance(augment, Augment):
        raise InvalidTypeError(
            f"augment must be 'affine', 'elastic', 'none' or an sn.Augment, got {augment!r}"
        )
    if not augment.active:
        return None
    pixels = augment.shape[0] * augment.shape[1]
    if n_features != pixels:
        raise InvalidArgumentError(
            f"augment distorts images of {augment.shape[0]}x{augment.shape[1]} = {pixels} "
            f"pixels, but X has {n_features} features"
        )
    return augment
