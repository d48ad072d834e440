"""Hostile bytes never get past the image reader as anything but ImageFileError.

Hypothesis feeds ``load_image`` arbitrary bytes and real image files of every supported
format with bytes changed, inserted or cut off. Each must either give a valid input
(784 values in [0, 1]) or raise ImageFileError; no other exception, and no warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from scratchnet.data.images import load_image
from scratchnet.errors import ImageFileError

from ..pictures import block_picture, encode

EXAMPLES = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.fuzz  # the profile sets the examples: 100 in CI, 20,000 for -m fuzz


def seed_files() -> dict[str, bytes]:
    """One small valid file per format and mode, each holding a digit-like block."""
    grey = Image.fromarray(block_picture(40, 30, (8, 10, 24, 6)))
    rgba = grey.convert("RGBA")
    rgba.putalpha(Image.fromarray(255 - np.asarray(grey)))
    exif = Image.Exif()
    exif[0x0112] = 6
    return {
        "png": encode(grey, "PNG"),
        "png rgba": encode(rgba, "PNG"),
        "png 16-bit": encode(Image.fromarray(np.asarray(grey).astype(np.uint16) * 257), "PNG"),
        "jpeg with exif": encode(grey.convert("RGB"), "JPEG", exif=exif),
        "gif": encode(grey.convert("P"), "GIF"),
        "bmp": encode(grey.convert("RGB"), "BMP"),
        "webp": encode(rgba, "WEBP", lossless=True),
        "webp lossy": encode(grey.convert("RGB"), "WEBP", quality=50),
    }


SEEDS = seed_files()


def read_or_refuse(data: bytes) -> None:
    """load_image gives a valid input or raises ImageFileError, and warns of nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            x = load_image(data, "fuzzed")
        except ImageFileError as error:
            assert str(error).startswith("fuzzed: ") and "\n" not in str(error)
            return
    assert x.shape == (784,) and np.all(np.isfinite(x))
    assert x.min() >= 0 and x.max() <= 1


@pytest.mark.parametrize("name", SEEDS)
def test_the_seed_files_are_valid(name):
    assert load_image(SEEDS[name]).shape == (784,)


@EXAMPLES
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data):
    read_or_refuse(data)


@st.composite
def mutated_files(draw) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "replace":
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif len(data) > 1:
            del data[position : position + draw(st.integers(1, 16))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@EXAMPLES
@given(mutated_files())
def test_mutated_image_files(data):
    read_or_refuse(data)
