"""preprocess: uint8 images (n, 28, 28) -> features (n, 784) = pixels / 255."""

from __future__ import annotations

import re

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.data.preprocessing import preprocess
from scratchnet.errors import InvalidArgumentError, InvalidTypeError

ALL_PIXEL_VALUES = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)


@pytest.fixture
def images() -> np.ndarray:
    """Three random 28x28 uint8 images."""
    return np.random.default_rng(5).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)


def test_flattens_to_float64_in_unit_interval_by_default(images):
    features = preprocess(images)

    assert features.shape == (3, 784)
    assert features.dtype == np.float64
    assert features.min() >= 0.0
    assert features.max() <= 1.0


def test_flattening_is_row_major_per_image(images):
    features = preprocess(images)

    for n, row, col in [(0, 0, 0), (1, 3, 5), (2, 27, 27), (2, 14, 0)]:
        assert features[n, 28 * row + col] == int(images[n, row, col]) / 255


@pytest.mark.parametrize("dtype", [np.float32, "float32", np.dtype(np.float32)])
def test_float32_on_request(images, dtype):
    features = preprocess(images, dtype=dtype)

    assert features.shape == (3, 784)
    assert features.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float64, "float64", float])
def test_float64_spellings(images, dtype):
    assert preprocess(images, dtype=dtype).dtype == np.float64


def test_float64_values_are_exact_quotients_for_every_pixel_value():
    features = preprocess(ALL_PIXEL_VALUES)

    assert features.ravel().tolist() == [p / 255 for p in range(256)]


def test_float32_values_are_exact_quotients_for_every_pixel_value():
    features = preprocess(ALL_PIXEL_VALUES, dtype=np.float32)

    expected = [np.float32(p) / np.float32(255) for p in range(256)]
    assert all(isinstance(e, np.float32) for e in expected)
    assert features.ravel().tolist() == [float(e) for e in expected]


def test_extremes_map_to_zero_and_one():
    features = preprocess(np.array([[[0, 255]]], dtype=np.uint8))

    assert features.tolist() == [[0.0, 1.0]]


def test_input_is_not_mutated_or_shared(images):
    before = images.copy()

    features = preprocess(images)

    np.testing.assert_array_equal(images, before)
    assert not np.shares_memory(features, images)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint16, np.int8, bool])
def test_non_uint8_images_are_rejected(dtype):
    images = np.zeros((2, 28, 28), dtype=dtype)

    with pytest.raises(
        TypeError, match=rf"images must be raw uint8 pixels, got dtype {images.dtype}"
    ):
        preprocess(images)


@pytest.mark.parametrize(
    ("dtype", "hint"),
    [
        (
            np.int64,
            r"; integers in 0\.\.255 \(a CSV reader's, say\): pass images\.astype\(np\.uint8\)$",
        ),
        (np.float32, r"; floats are not scaled here: divide values in 0\.\.255 by 255 and"),
    ],
)
def test_pixels_of_another_dtype_are_told_what_to_do(dtype, hint):
    with pytest.raises(TypeError, match=rf"^images must be raw uint8 pixels, got dtype \w+{hint}"):
        preprocess(np.zeros((2, 784), dtype=dtype))


@pytest.mark.parametrize(
    "dtype",
    [int, np.int32, np.float16, "float16", np.uint8, complex, "not-a-dtype", None],
)
def test_non_float32_or_float64_dtype_is_rejected(images, dtype):
    with pytest.raises(InvalidTypeError, match="dtype must be float32 or float64, got"):
        preprocess(images, dtype=dtype)


@pytest.mark.parametrize(
    "shape", [(100,), (), (2, 3, 28, 28), (2, 28, 28, 3), (1, 2, 28, 28, 1)],
    ids=["1-D", "0-D", "channels first", "RGB", "5-D"],
)  # fmt: skip
def test_images_of_no_image_shape_are_rejected(shape):
    """Four axes were flattened to 2,352 features without a word, against the message."""
    with pytest.raises(
        InvalidArgumentError,
        match=r"images must have shape \(n, height, width\), or \(height, width\) for one "
        r"image, either with a channel axis of 1 at the end or not, or \(784,\) and "
        rf"\(n, 784\) flattened, got {re.escape(str(shape))}$",
    ):
        preprocess(np.zeros(shape, dtype=np.uint8))


def test_images_with_a_channel_axis_of_one_are_grey_images(images):
    """(n, 28, 28, 1), as Keras and TensorFlow datasets keep grey images; one such image
    (28, 28, 1) was taken for 28 images of 28 x 1 pixels."""
    assert np.array_equal(preprocess(images[..., None]), images.reshape(len(images), -1) / 255)
    assert np.array_equal(preprocess(images[0][..., None]), images[0].reshape(-1) / 255)


@pytest.mark.parametrize("rows", [1, 5])
def test_images_already_flattened_keep_their_rows(images, rows):
    """MNIST as CSV (Kaggle, OpenML's mnist_784) comes as rows of 784 pixels: a batch of
    five was taken for one image of 5 x 784 pixels and flattened to (3920,)."""
    batch = np.random.default_rng(2).integers(0, 256, size=(rows, 784), dtype=np.uint8)
    features = preprocess(batch)
    assert features.shape == (rows, 784)
    assert features.tolist() == (batch.astype(np.float64) / 255).tolist()
    single = preprocess(images[0].reshape(784))
    assert single.tolist() == preprocess(images[0]).tolist()


def test_one_image_becomes_one_row_ready_for_predict(images):
    single = preprocess(images[1], np.float32)
    assert single.shape == (784,) and single.dtype == np.float32
    assert single.tolist() == [np.float32(p) / np.float32(255) for p in images[1].ravel()]


def test_an_empty_batch_gives_an_empty_matrix():
    assert preprocess(np.zeros((0, 28, 28), np.uint8)).shape == (0, 784)


def test_rows_of_different_lengths_are_one_line_errors():
    """NumPy's own ValueError ("inhomogeneous shape") came through, not a ScratchnetError."""
    with pytest.raises(InvalidArgumentError, match="images cannot be made an array"):
        preprocess([[1, 2], [3]])


def test_a_masked_array_with_masked_pixels_is_refused_not_read_through_its_mask():
    """np.asarray hands over the values under the mask: here 255s, read as ink."""
    pixels = np.ma.array(np.full((28, 28), 255, np.uint8), mask=np.ones((28, 28), bool))
    with pytest.raises(InvalidArgumentError, match="images is a masked array with masked"):
        preprocess(pixels)
    unmasked = np.ma.array(np.full((28, 28), 255, np.uint8))  # nothing masked: plain pixels
    np.testing.assert_array_equal(preprocess(unmasked), np.ones(784))
    with pytest.raises(InvalidArgumentError, match="X is a masked array with masked"):
        sn.NeuralNet([2]).fit(np.ma.array(np.ones((4, 3)), mask=[[1, 0, 0]] * 4), [0, 1, 0, 1])
