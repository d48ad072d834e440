"""Distortions of image batches, against SciPy's ndimage and the geometry they promise."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pytest
from scipy import ndimage

import scratchnet as sn
from scratchnet.data.augment import Augment, bilinear, gaussian_matrix
from scratchnet.errors import InvalidArgumentError, InvalidTypeError

pytestmark = pytest.mark.usefixtures("small_chunks_cut")  # small networks, two parts

SHAPE = (28, 28)


@pytest.fixture
def digits():
    """Eight blurred random strokes near the middle of 28x28 (a shift of 3 pixels keeps
    all their ink inside), float32 rows in [0, 1]."""
    rng = np.random.default_rng(1)
    images = np.zeros((8, *SHAPE), np.float32)
    for image in images:
        rows, cols = rng.integers(11, 18), rng.integers(8, 21)
        image[rows - 5 : rows + 5, cols - 1 : cols + 2] = 1.0
    return ndimage.gaussian_filter(images, (0, 1, 1)).reshape(8, -1)


def assert_bilinear_is_scipys(seed: int, shape: tuple[int, int, int], low: float, high: float):
    """bilinear at random points in [low, high) against SciPy's order-one sampling with
    zeros beyond the edge."""
    rng = np.random.default_rng(seed)
    images = rng.random(shape)
    rows, cols = rng.uniform(low, high, (2, *shape))
    out = np.empty_like(images)
    bilinear(images, rows, cols, out)
    batch = np.broadcast_to(np.arange(shape[0])[:, None, None], rows.shape)
    expected = ndimage.map_coordinates(images, [batch, rows, cols], order=1, mode="grid-constant")
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_bilinear_sampling_is_scipys_order_one_with_zeros_beyond_the_edge():
    assert_bilinear_is_scipys(0, (5, 9, 7), -3, 12)


@pytest.mark.parametrize("sigma", [1.0, 3.0, 4.0])
def test_the_smoothing_matrix_is_scipys_gaussian_filter(sigma):
    signal = np.random.default_rng(2).random(28)
    expected = ndimage.gaussian_filter1d(signal, sigma, mode="constant", truncate=4.0)
    np.testing.assert_allclose(gaussian_matrix(28, sigma) @ signal, expected, atol=1e-13)


def test_the_elastic_field_is_alpha_times_smoothed_uniform_noise():
    augment = Augment("elastic", alpha=7.0, sigma=2.5)
    field = augment._elastic_field(3, np.random.default_rng(4), np.float64)
    noise = np.random.default_rng(4).random((3, 2, *SHAPE)) * 2 - 1
    expected = 7.0 * ndimage.gaussian_filter(noise, (0, 0, 2.5, 2.5), mode="constant")
    np.testing.assert_allclose(field, expected, atol=1e-12)


def test_the_elastic_noise_comes_from_a_legacy_random_state_too(digits):
    """The tutorial's stream is a RandomState, which has no float32 draws."""
    augment = Augment("elastic", alpha=7.0, sigma=2.5)
    field = augment._elastic_field(3, np.random.RandomState(4), np.float32)
    noise = np.random.RandomState(4).random_sample((3, 2, *SHAPE)) * 2 - 1
    expected = 7.0 * ndimage.gaussian_filter(noise, (0, 0, 2.5, 2.5), mode="constant")
    assert field.dtype == np.float32
    np.testing.assert_allclose(field, expected, atol=1e-5)
    net = sn.NeuralNet([8, 1], activation="relu", random_state=np.random.RandomState(0))
    net.fit(digits, np.arange(8) % 2, epochs=2, batch_size=4, augment=augment)
    assert net.history.records[-1]["epoch"] == 2


def test_the_affine_map_is_rotation_times_shear_over_zoom_plus_a_shift():
    augment = Augment("affine", shift=3, rotation=20, scale=0.2, shear=15)
    sources = augment.sources(4, np.random.default_rng(5), np.float64)  # (4, 2, 784)
    rng = np.random.default_rng(5)  # the same draws, in the documented order
    shift = rng.uniform(-3, 3, (4, 2))
    theta, phi = np.radians(rng.uniform(-20, 20, 4)), np.radians(rng.uniform(-15, 15, 4))
    zoom = rng.uniform(0.8, 1.2, 4)
    centre = 13.5
    grid = np.stack(np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij")).reshape(2, -1)
    for k in range(4):
        rotation = [[np.cos(theta[k]), -np.sin(theta[k])], [np.sin(theta[k]), np.cos(theta[k])]]
        shear = [[1, np.tan(phi[k])], [0, 1]]
        a = np.array(rotation) @ np.array(shear) / zoom[k]
        expected = a @ (grid - centre) + centre + shift[k][:, None]
        np.testing.assert_allclose(sources[k], expected, atol=1e-12)


def test_no_distortion_gives_the_images_back_exactly(digits):
    still = Augment("affine", shift=0, rotation=0, scale=0, shear=0)
    out = np.empty_like(digits)
    still.distort(digits, np.random.default_rng(0), out)
    np.testing.assert_array_equal(out, digits)


def test_a_shift_moves_the_centre_of_mass_by_the_drawn_amount(digits):
    shifted = Augment("affine", shift=3, rotation=0, scale=0, shear=0)
    out = np.empty_like(digits)
    shifted.distort(digits, np.random.default_rng(6), out)
    drawn = np.random.default_rng(6).uniform(-3, 3, (8, 2))  # source = p + t: ink moves by -t
    for image, moved, t in zip(digits, out, drawn, strict=True):
        before = np.array(ndimage.center_of_mass(image.reshape(SHAPE)))
        after = np.array(ndimage.center_of_mass(moved.reshape(SHAPE)))
        np.testing.assert_allclose(after - before, -t, atol=0.05)
        assert moved.sum() == pytest.approx(image.sum(), rel=0.01)  # ink stays inside


@pytest.mark.parametrize("kind", ["affine", "elastic"])
def test_distortions_are_seeded_fresh_and_keep_values_in_range(digits, kind):
    augment = Augment(kind)
    first, again, other = (np.empty_like(digits) for _ in range(3))
    augment.distort(digits, np.random.default_rng(3), first)
    augment.distort(digits, np.random.default_rng(3), again)
    rng = np.random.default_rng(3)
    augment.distort(digits, rng, other)
    augment.distort(digits, rng, other)  # the next draw of the same generator
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 0.1
    assert first.min() >= 0 and first.max() <= 1 + 1e-6
    assert first.dtype == np.float32


@dataclass(frozen=True)
class Recording(Augment):
    """An Augment that records each batch it distorts and the generator's state then."""

    calls: list = field(default_factory=list, compare=False)

    def distort(self, images, rng, out):
        self.calls.append((len(images), rng.bit_generator.state["state"]["state"]))
        super().distort(images, rng, out)


def test_training_draws_fresh_distortions_every_batch_and_never_changes_the_data(digits):
    X, y = np.tile(digits, (4, 1)), np.arange(32) % 2
    before = X.copy()
    augment = Recording("elastic")
    sn.NeuralNet([8, 1], activation="relu", random_state=0).fit(
        X, y, epochs=3, batch_size=16, optimizer="adam", augment=augment
    )
    np.testing.assert_array_equal(X, before)
    assert [size for size, _ in augment.calls] == [16] * 6  # 2 batches x 3 epochs
    assert len({state for _, state in augment.calls}) == 6  # each drawn afresh


def test_augmented_training_is_reproducible_and_resumable(digits, tmp_path):
    X, y = np.tile(digits, (4, 1)), np.arange(32) % 2

    def make():
        return sn.NeuralNet([8, 1], activation="relu", dropout=0.2, random_state=4)

    options = {"epochs": 4, "batch_size": 8, "optimizer": "adam", "augment": "elastic"}
    whole = make().fit(X, y, **options)
    np.testing.assert_array_equal(
        make().fit(X, y, **options).parameters.flat, whole.parameters.flat
    )

    class StopAt(sn.Callback):
        def on_epoch_end(self, epoch, record):
            if epoch == 2:
                raise KeyboardInterrupt

    path = tmp_path / "checkpoint.npz"
    with pytest.raises(KeyboardInterrupt):
        make().fit(X, y, **options, checkpoint=sn.Checkpoint(path), callbacks=[StopAt()])
    resumed = make().fit(X, y, **options, checkpoint=sn.Checkpoint(path, resume=True))
    np.testing.assert_array_equal(resumed.parameters.flat, whole.parameters.flat)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": "warp"}, "unknown augmentation 'warp'; choose from none, affine, elastic"),
        ({"shift": -1}, "augmentation shift must be a non-negative finite number"),
        ({"scale": 1.0}, r"augmentation scale must be in \[0, 1\)"),
        ({"sigma": 0}, "augmentation sigma must be a positive finite number"),
        ({"shift": 10**400}, "augmentation shift must be a non-negative finite number"),
        # past their largest values: NumPy's uniform overflowed, the kernel asked for GiBs
        ({"shift": 28.5}, "augmentation shift must be at most 28 pixels"),
        ({"rotation": 1e308}, "augmentation rotation must be at most 180 degrees"),
        ({"shear": 90}, "augmentation shear must be at most 89 degrees"),
        ({"kind": "elastic", "alpha": 1.5e6}, "augmentation alpha must be at most 1e[+]06 pixels"),
        ({"kind": "elastic", "sigma": 1e9}, "augmentation sigma must be at most 28 pixels"),
        (
            {"kind": "elastic", "sigma": 57, "shape": (14, 56)},
            "augmentation sigma must be at most 56 pixels",
        ),
        ({"shape": (5,)}, r"augmentation shape must be \(rows, columns\), got \(5,\)"),
        ({"shape": "ab"}, r"augmentation shape must be \(rows, columns\), got 'ab'"),
        ({"shape": (-1, -5)}, "augmentation rows and columns must be an integer >= 1, got -1"),
        ({"shape": (2.5, 2)}, "augmentation rows and columns must be an integer >= 1, got 2.5"),
    ],
)
def test_bad_distortion_settings_are_refused(options, message):
    with pytest.raises(InvalidArgumentError, match=message):
        Augment(**options)


def test_the_largest_settings_distort_into_finite_pixels_of_the_images_range(digits):
    augment = Augment("elastic", shift=28, rotation=180, shear=89, alpha=1e6, sigma=28)
    out = np.empty_like(digits)
    augment.distort(digits, np.random.default_rng(0), out)
    assert np.all((out >= 0) & (out <= digits.max() + 1e-6))


def test_a_bound_applies_to_the_settings_a_kind_uses():
    """sigma's default (3) is over a 2-pixel side, but affine distortions never use it."""
    assert Augment("affine", shape=(2, 2), shift=2).shape == (2, 2)
    assert Augment("none", shape=(1, 2), shift=2).shape == (1, 2)
    with pytest.raises(InvalidArgumentError, match="augmentation sigma must be at most 2"):
        Augment("elastic", shape=(2, 2), shift=2)
    with pytest.raises(InvalidArgumentError, match="augmentation shift must be at most 2"):
        Augment("affine", shape=(2, 2), shift=3)


def test_numpy_scalars_are_settings_like_any_other_number():
    augment = Augment(scale=np.float32(0.25), shift=np.int64(2), sigma=np.float64(3))
    assert (augment.scale, augment.shift, augment.sigma) == (0.25, 2, 3.0)


def test_bilinear_sampling_with_64_bit_indices_is_the_same(monkeypatch):
    """Batches with more than 2**31 padded pixels index them in int64 (int32 would wrap
    around); here the int64 path is taken for a small batch and checked against SciPy."""
    monkeypatch.setattr("scratchnet.data.augment.INT32_INDICES", 0)
    assert_bilinear_is_scipys(5, (3, 6, 5), -2, 8)


def test_negative_zero_settings_are_no_distortion(digits):
    """-0.0 passed as non-negative, then NumPy's uniform(0.0, -0.0) raised "high - low <
    0" inside fit (a traceback for --shift -0)."""
    still = Augment("affine", shift=-0.0, rotation=-0.0, scale=-0.0, shear=-0.0)
    out = np.empty_like(digits)
    still.distort(digits, np.random.default_rng(0), out)
    np.testing.assert_array_equal(out, digits)
    assert str(still.shift) == "-0.0"  # kept as given (its repr is in the run's fingerprint)


def test_any_real_number_the_checks_accept_distorts_as_its_float_does(digits):
    """np.uint8(3) as a shift wrapped round when negated ('high - low < 0'), and a
    Fraction as alpha or sigma failed in NumPy's exp."""
    for kind, given, as_float in [
        (
            "affine",
            {"shift": np.uint8(3), "rotation": np.uint16(5)},
            {"shift": 3.0, "rotation": 5.0},
        ),
        ("elastic", {"alpha": Fraction(6), "sigma": Fraction(5, 2)}, {"alpha": 6.0, "sigma": 2.5}),
        ("affine", {"scale": Fraction(1, 10)}, {"scale": 0.1}),
    ]:
        distorted, expected = np.empty_like(digits), np.empty_like(digits)
        Augment(kind, **given).distort(digits, np.random.default_rng(3), distorted)
        Augment(kind, **as_float).distort(digits, np.random.default_rng(3), expected)
        np.testing.assert_array_equal(distorted, expected)


def test_a_shape_given_as_a_list_is_kept_as_a_tuple():
    assert Augment(shape=[14, 56]).shape == (14, 56)


def test_augmenting_rows_that_are_not_images_of_the_shape_is_refused(blobs):
    with pytest.raises(InvalidArgumentError, match="28x28 = 784 pixels, but X has 6 features"):
        sn.NeuralNet([4, 1]).fit(*blobs, augment="affine")
    with pytest.raises(InvalidTypeError, match="augment must be"):
        sn.NeuralNet([4, 1]).fit(*blobs, augment=3)
