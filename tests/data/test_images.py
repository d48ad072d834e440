"""Image files and arrays -> MNIST-like input (scratchnet.data.images).

Expected values come from pictures made here with known ink (a solid block: its 20-pixel
scaling and its centre of mass are worked out by hand below) and from MNIST itself,
whose digits are already what the preprocessing makes.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

import scratchnet as sn
from scratchnet.data import image_files
from scratchnet.data.images import (
    MAX_PIXELS,
    image_to_mnist,
    ink_levels,
    load_image,
    read_with_pad_look,
    write_mnist_png,
)
from scratchnet.errors import DataFileError, ImageFileError, InvalidArgumentError, InvalidTypeError

from ..pictures import (
    block_picture,
    encode,
    frame_with_block,
    png_header_only,
    render_like_a_user,
)

# A block 40 rows tall and 10 wide scales to 20 x 5 (longer side 20, same aspect). Its
# centre of mass in the box is (9.5, 2.0); the whole-pixel shift bringing it nearest
# (14, 14) puts the box at rows floor(14 - 9.5 + 0.5) = 5 .. 24 and columns
# floor(14 - 2 + 0.5) = 12 .. 16.
TALL = (5, 12, 20, 5)
# A block 10 tall and 40 wide: 5 x 20, centre (2.0, 9.5), box at rows 12..16, columns 5..24.
WIDE = (12, 5, 5, 20)


def tall_block(height=100, width=60, top=30, left=20, ink=0):
    return block_picture(height, width, (top, left, 40, 10), ink)


def expected_tall() -> np.ndarray:
    return frame_with_block(*TALL)


def assert_input(x: np.ndarray) -> None:
    assert x.shape == (784,) and x.dtype == np.float64
    assert x.min() >= 0 and x.max() <= 1


# -- arrays ------------------------------------------------------------------------------


def test_a_tall_block_becomes_20_by_5_centred_by_its_mass():
    x = image_to_mnist(tall_block())
    assert_input(x)
    np.testing.assert_allclose(x, expected_tall(), atol=1e-6)


def test_a_wide_block_keeps_its_aspect_ratio():
    picture = block_picture(60, 100, (10, 30, 10, 40))
    np.testing.assert_allclose(image_to_mnist(picture), frame_with_block(*WIDE), atol=1e-6)


@pytest.mark.parametrize(
    ("height", "width", "top", "left"),
    [(100, 60, 0, 0), (100, 60, 60, 50), (1000, 700, 600, 3)],
    ids=["top-left corner", "bottom-right corner", "large canvas"],
)
def test_position_and_canvas_size_do_not_matter(height, width, top, left):
    x = image_to_mnist(tall_block(height, width, top, left))
    np.testing.assert_allclose(x, expected_tall(), atol=1e-6)


def test_a_crop_that_touches_the_ink_on_every_side():
    """A ring 20 tall and 14 wide drawn 2 pixels thick, cropped to its edges (ink on 43%
    of the picture): no scaling; centre of mass (9.5, 6.5), so the box goes to rows
    floor(14 - 9.5 + 0.5) = 5 .. 24 and columns floor(14 - 6.5 + 0.5) = 8 .. 21."""
    ring = np.full((20, 14), 255, dtype=np.uint8)
    ring[2:-2, 2:-2] = 0
    expected = np.zeros((28, 28))
    expected[5:25, 8:22] = ring / 255
    np.testing.assert_allclose(image_to_mnist(255 - ring).reshape(28, 28), expected, atol=1e-6)


def test_a_stroke_one_pixel_wide_is_ink():
    """A 1-pixel pencil line (here 20 long: no scaling) is read, not taken for noise."""
    picture = np.full((28, 28), 255, np.uint8)
    picture[4:24, 14] = 0
    np.testing.assert_allclose(image_to_mnist(picture), frame_with_block(5, 14, 20, 1), atol=1e-6)


def pen_drawing(width: int, canvas: int = 1000) -> np.ndarray:
    """A 7 (a bar and a slanted stem) drawn in black with a pen ``width`` pixels wide on
    a white square canvas."""
    picture = Image.new("L", (canvas, canvas), 255)
    corners = [(0.2, 0.15), (0.8, 0.15), (0.4, 0.9)]
    ImageDraw.Draw(picture).line([(x * canvas, y * canvas) for x, y in corners], 0, width)
    return np.asarray(picture)


def test_a_pencil_line_on_a_large_canvas_reads_as_a_pen_stroke():
    """The 7 is 750 pixels tall, so a line one pixel wide would be 1/38 of a pixel at 20
    pixels: it is grown first, and reads like the same 7 drawn with a pen 56 pixels wide
    (1.5 pixels of the box), with ink at full level."""
    thin, broad = image_to_mnist(pen_drawing(1)), image_to_mnist(pen_drawing(56))
    assert thin.max() == pytest.approx(1)
    assert np.corrcoef(thin, broad)[0, 1] > 0.95
    assert 0.8 < thin.sum() / broad.sum() < 1.1


def test_ink_too_small_to_be_a_digit_is_refused():
    """A bar 3 pixels tall would be scaled 6.7 times into a blob 7 pixels wide; 5 pixels
    are the least that is read (MNIST's digits reduced to 8x8 span 6)."""
    tiny = np.full((5, 5), 255, np.uint8)
    tiny[1:4, 2] = 0
    with pytest.raises(InvalidArgumentError, match=r"spans only 3 x 1 pixels .*at least 5"):
        image_to_mnist(tiny)
    small = np.full((10, 10), 255, np.uint8)
    small[1:9, 4:6] = 0
    np.testing.assert_allclose(image_to_mnist(small), expected_tall(), atol=1e-6)  # 20 x 5 too


def test_a_picture_smaller_than_a_digit_is_refused_as_such_not_as_blank(tmp_path):
    """A 4x4 file holds no digit of 5 pixels; its 16 pixels give no noise to measure, and
    it was called blank ('nothing stands out from the noise')."""
    four = np.full((4, 4), 255, np.uint8)
    four[:, 1] = 0
    path = tmp_path / "four.png"
    path.write_bytes(encode(four, "PNG"))
    with pytest.raises(sn.ImageFileError, match=r"four.png: the picture is only 4 x 4 pixels, "
                       r"too few to read a digit from: at least 5 on its longer side"):  # fmt: skip
        load_image(path)
    five = np.pad(four, ((0, 1), (0, 0)), constant_values=0)  # the bar 5 pixels tall
    assert image_to_mnist(five).max() == pytest.approx(1)


def test_a_glare_or_white_border_beside_faint_pencil_is_not_the_ink():
    """Pencil 0.25 below paper at 0.7, and a white corner 0.3 above it (a glare, the
    scanner's lid): the lighter patch reaches a little further, but dark ink is what
    light paper carries; the stroke is read as without the corner."""
    paper = np.full((300, 300), 0.7)
    paper[50:250, 140:146] = 0.45
    cornered = paper.copy()
    cornered[:60, :60] = 1.0
    np.testing.assert_allclose(image_to_mnist(cornered), image_to_mnist(paper), atol=1e-6)
    assert image_to_mnist(paper).reshape(28, 28)[5:25].any(axis=1).all()  # 20 rows of stroke


def test_noise_on_a_large_canvas_is_not_grown_with_the_strokes():
    """A 7 drawn 2 pixels wide in grey on grey paper, 1000 pixels a side, is grown to
    MNIST's width; the sensor noise beside it (sigma 2% of the range: past a tenth of the
    ink's contrast, some specks reach the ink's floor) is not grown into blobs."""
    clean = 230 - (255 - pen_drawing(2).astype(float)) / 2
    noise = np.random.default_rng(4).normal(0, 0.02 * 255, clean.shape)
    noisy = np.clip(clean + noise, 0, 255).round().astype(np.uint8)
    x, expected = image_to_mnist(noisy), image_to_mnist(clean.round().astype(np.uint8))
    assert np.corrcoef(x, expected)[0, 1] > 0.98
    assert np.sum((x > 0.05) & (expected == 0)) <= 3  # no stray ink


def test_a_small_mark_on_a_large_clean_page_is_read_on_the_usual_side():
    """Ink on under 0.1% of a clean page: the side is the paper's usual one, never left to
    the rounding of a fitted ground (which refused half such pages as blank)."""
    for side, paper in [(400, 180), (640, 205), (800, 230), (1024, 250)]:
        page = Image.new("L", (side, side * 3 // 4), paper)
        ImageDraw.Draw(page).line([(side // 2, side // 4), (side // 2 - 10, side // 4 + 150)],
                                  fill=20, width=1)  # fmt: skip
        x = image_to_mnist(np.asarray(page)).reshape(28, 28)
        assert x.max() == pytest.approx(1) and x[4:24].any(axis=1).sum() >= 19, (side, paper)


def test_mnist_digits_reduced_to_8_pixels_are_still_read(mnist_dir):
    """Reduced to 8x8, a digit's ink spans about 6 pixels: enough to read, not refused."""
    digits = sn.load_mnist(range(10), mnist_dir, relabel=False).x_test[:20]
    for digit in digits:
        small = np.asarray(Image.fromarray(255 - digit).resize((8, 8), Image.Resampling.BOX))
        assert image_to_mnist(small).sum() > 0


def specks(*where: tuple[int, int]) -> np.ndarray:
    """A white 100x100 picture with a black pixel at each of ``where``."""
    picture = np.full((100, 100), 255, np.uint8)
    for row, column in where:
        picture[row, column] = 0
    return picture


def test_specks_alone_in_the_margin_or_a_corner_change_nothing():
    picture = block_picture(60, 60, (15, 20, 20, 10))
    specked = picture.copy()
    specked[0, 0] = specked[45, 55] = specked[2, 30] = 0  # each with no inked neighbour
    np.testing.assert_array_equal(image_to_mnist(specked), image_to_mnist(picture))


def test_light_ink_on_dark_ground_needs_no_inversion():
    light_on_dark = tall_block(ink=255)
    np.testing.assert_allclose(image_to_mnist(light_on_dark), expected_tall(), atol=1e-6)


def test_an_l_shape_is_placed_by_its_centre_of_mass():
    """An L of a 20x4 stem and a 4x12 foot at the stem's bottom-left, drawn at 20 pixels
    (no scaling): 80 + 32 pixels. Centre of mass: rows (80 * 9.5 + 32 * 17.5) / 112 =
    11.786, columns (80 * 1.5 + 32 * 8) / 112 = 3.357; shifts floor(14 - 11.786 + 0.5) = 2
    and floor(14 - 3.357 + 0.5) = 11."""
    picture = np.zeros((30, 30), dtype=np.uint8)
    picture[5:25, 5:9] = 255  # stem: rows 0..19, columns 0..3 of the box
    picture[21:25, 9:17] = 255  # foot: rows 16..19, columns 4..11
    expected = np.zeros((28, 28))
    expected[2:22, 11:15] = 1
    expected[18:22, 15:23] = 1
    np.testing.assert_allclose(image_to_mnist(picture).reshape(28, 28), expected, atol=1e-6)


def test_ink_that_would_leave_the_frame_stops_at_its_edge():
    """A stem with a heavy top: the mass-centring shift would push the stem's foot out
    of the frame; the box stops at the bottom edge instead and no ink is lost."""
    picture = np.zeros((20, 20), dtype=np.uint8)
    picture[:, 9:11] = 255
    picture[0:3, :] = 255
    x = image_to_mnist(picture).reshape(28, 28)
    assert x.sum() == pytest.approx(picture.sum() / 255)
    assert x[27].sum() > 0 and x[7].sum() == 0


def test_grey_levels_of_anti_aliased_ink_are_kept():
    """A 20x20 picture needs no scaling, and one symmetric in both directions has its
    centre of mass at (9.5, 9.5), so it lands at rows and columns 5..24 unchanged: its
    grey levels come through, but for those below a tenth of the peak, which count as
    background. (Bars along the top and bottom, two three-pixel columns: ink on 44% of
    the picture; a 4x3 patch at full level in each column sets the peak.)"""
    rng = np.random.default_rng(0)
    quarter = np.zeros((10, 10), dtype=np.uint8)
    quarter[0:2, :] = rng.integers(30, 256, size=(2, 10))
    quarter[2:, 3:6] = rng.integers(30, 256, size=(8, 3))
    quarter[8:, 3:6] = 255
    quarter[4, 4] = quarter[1, 7] = 20  # below a tenth of the peak
    half = np.hstack([quarter, quarter[:, ::-1]])
    picture = np.vstack([half, half[::-1]])
    expected = np.zeros((28, 28))
    expected[5:25, 5:25] = np.where(picture < 25.5, 0, picture / 255)
    np.testing.assert_allclose(image_to_mnist(picture).reshape(28, 28), expected, atol=1e-6)


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda p: np.stack([p] * 3, axis=-1), id="rgb uint8"),
        pytest.param(lambda p: p.astype(np.uint16) * 257, id="uint16"),
        pytest.param(lambda p: p / 255.0, id="float64"),
        pytest.param(lambda p: (p / 255.0).astype(np.float32), id="float32"),
        pytest.param(lambda p: p > 127, id="bool"),
        pytest.param(lambda p: np.stack([p, np.full_like(p, 255)], axis=-1), id="grey+alpha"),
    ],
)
def test_every_array_kind_gives_the_same_input(convert):
    np.testing.assert_allclose(image_to_mnist(convert(tall_block())), expected_tall(), atol=1e-6)


def test_dark_ink_on_a_transparent_canvas_is_read_against_white():
    """What a drawing app exports: black ink, alpha 255 on the ink, 0 elsewhere."""
    rgba = np.zeros((100, 60, 4), dtype=np.uint8)
    rgba[30:70, 20:30, 3] = 255
    np.testing.assert_allclose(image_to_mnist(rgba), expected_tall(), atol=1e-6)


def test_light_ink_on_a_transparent_canvas_is_read_against_black():
    rgba = np.zeros((100, 60, 4), dtype=np.uint8)
    rgba[30:70, 20:30] = 255
    np.testing.assert_allclose(image_to_mnist(rgba), expected_tall(), atol=1e-6)


def test_a_transparent_margin_takes_the_tone_of_the_paper():
    """Paper (white, opaque) with a transparent black frame around it: the frame is not ink."""
    rgba = np.zeros((140, 100, 4), dtype=np.uint8)
    rgba[20:120, 20:80, :3] = tall_block()[..., None]
    rgba[20:120, 20:80, 3] = 255
    np.testing.assert_allclose(image_to_mnist(rgba), expected_tall(), atol=1e-6)


def light_ink_on_a_transparent_canvas() -> np.ndarray:
    rgba = np.zeros((100, 60, 4), dtype=np.uint8)
    rgba[30:70, 20:30] = 255
    return rgba


@pytest.mark.parametrize(
    ("picture", "ground", "light_ink"),
    [
        pytest.param(light_ink_on_a_transparent_canvas(), 0.0, True, id="light-ink-transparent"),
        pytest.param(255 - tall_block(), 0.0, True, id="light-ink-on-black"),
        pytest.param(tall_block(), 1.0, False, id="dark-ink-on-white"),
        pytest.param(np.where(tall_block() == 0, 30, 153).astype(np.uint8), 0.6, False,
                     id="dark-ink-on-grey-paper"),
    ],
)  # fmt: skip
def test_a_pad_shows_a_picture_on_its_ground_and_draws_in_its_inks_colour(
    picture, ground, light_ink
):
    """The tone under the picture (for one with transparent parts, what the reader lays
    them on) and the ink's side, as the reader reads them: strokes drawn over it on a
    pad read as its ink."""
    _, tone, light = read_with_pad_look(picture)
    assert tone == pytest.approx(ground, abs=1 / 255) and light is light_ink


def test_mnist_digits_come_back_nearly_as_they_are(mnist_dir):
    """MNIST's digits are already 20 pixels on their longer side and centred by mass, so
    the preprocessing leaves most as they are, up to a one-pixel shift where clearing
    their faintest ink moves the centre of mass across a half pixel."""
    digits = sn.load_mnist(range(10), mnist_dir, relabel=False).x_test[:200]
    inputs = np.stack([image_to_mnist(digit) for digit in digits]).reshape(-1, 28, 28)
    originals = sn.preprocess(digits).reshape(-1, 28, 28)
    shifts = [(rows, columns) for rows in (-1, 0, 1) for columns in (-1, 0, 1)]
    likeness = [
        max(np.corrcoef(np.roll(x, shift, (0, 1)).ravel(), original.ravel())[0, 1]
            for shift in shifts)
        for x, original in zip(inputs, originals, strict=True)
    ]  # fmt: skip
    assert np.mean(np.array(likeness) > 0.95) > 0.9
    assert np.median(likeness) > 0.999
    assert np.abs(inputs - originals).mean() < 0.01


def test_a_photo_of_a_digit_on_unevenly_lit_paper(mnist_dir):
    """Dark ink on paper that darkens by a quarter towards one corner, with sensor noise,
    as a large JPEG: the input matches that of the clean drawing closely."""
    digit = sn.load_mnist(range(10), mnist_dir, relabel=False).x_test[0]
    rng = np.random.default_rng(3)
    clean = np.asarray(render_like_a_user(digit, rng).convert("L").resize((1200, 1200)))
    rows, columns = np.mgrid[0:1200, 0:1200] / 1200
    paper = 0.92 - 0.25 * rows * columns
    ink = 1 - clean / 255
    photo = paper * (1 - ink) + 0.15 * ink + rng.normal(0, 0.02, clean.shape)
    photo = (np.clip(photo, 0, 1) * 255).astype(np.uint8)
    from_photo = load_image(encode(photo, "JPEG", quality=85))
    from_drawing = image_to_mnist(clean)
    assert np.corrcoef(from_photo, from_drawing)[0, 1] > 0.9
    assert np.abs(from_photo - from_drawing).mean() < 0.05


def on_paper(paper, ink) -> np.ndarray:
    """The tall block (40 x 10 at rows 30, columns 20 of 100 x 60) in ``ink`` on ``paper``
    (grey levels or RGB triples)."""
    picture = np.empty((100, 60, np.size(paper)), np.uint8)
    picture[...] = paper
    picture[30:70, 20:30] = ink
    return picture[..., 0] if np.size(paper) == 1 else picture


@pytest.mark.parametrize(
    ("paper", "ink"),
    [
        pytest.param(120, 20, id="dark ink on grey paper darker than mid-grey"),
        pytest.param(80, 0, id="black ink on dark grey paper"),
        pytest.param(140, 250, id="white chalk on light grey"),
        pytest.param((200, 40, 40), (0, 0, 0), id="black ink on red paper"),
        pytest.param((60, 90, 200), (10, 10, 10), id="black ink on blue paper"),
    ],
)
def test_ink_is_read_on_paper_of_any_tone(paper, ink):
    """The ink is whatever stands out from the paper, darker or lighter, whether the
    paper is lighter or darker than mid-grey: the solid block comes out as its 20 x 5
    box of ones either way."""
    np.testing.assert_allclose(image_to_mnist(on_paper(paper, ink)), expected_tall(), atol=1e-6)


def test_a_strong_lighting_gradient_does_not_hide_the_ink():
    """Paper from 250 down to 150 across the picture, as under a lamp to one side, and a
    block of ink at 60 (tall block geometry, three times the size): the gradient makes the
    paper's own spread larger than a noise floor measured around one tone allows, yet
    the ink stands 90 to 170 levels below the paper beside it."""
    paper = np.tile(np.linspace(250, 150, 180), (300, 1))
    paper[90:210, 60:90] = 60
    x = image_to_mnist(paper.round().astype(np.uint8))
    assert np.corrcoef(x, expected_tall())[0, 1] > 0.95
    assert np.abs(x - expected_tall()).mean() < 0.02


def test_blank_paper_under_a_lighting_gradient_is_still_blank():
    rng = np.random.default_rng(5)
    rows, columns = np.mgrid[0:400, 0:300] / 400
    paper = 0.95 - 0.35 * rows * columns - 0.1 * columns**2 + rng.normal(0, 0.015, (400, 300))
    with pytest.raises(InvalidArgumentError, match="blank"):
        image_to_mnist(np.clip(paper, 0, 1))


def test_ink_lost_in_noise_is_named_as_such():
    """Contrast enough, but no more than the noise: the message says so, not that more
    contrast is needed than the contrast it reports."""
    noise = np.random.default_rng(2).integers(0, 256, (60, 60)).astype(np.uint8)
    with pytest.raises(InvalidArgumentError, match="nothing stands out from the noise"):
        image_to_mnist(noise)


def test_strokes_cut_from_the_paper_keep_their_grey_edges_as_ink():
    """A digit whose white paper was deleted (a magic wand): opaque black strokes with
    opaque grey edges, transparent elsewhere. It reads as the same strokes on white."""
    on_white = np.full((100, 100), 255, np.uint8)
    on_white[20:80, 45:55] = 0
    on_white[20:80, 44] = on_white[20:80, 55] = 128
    cut_out = np.zeros((100, 100, 4), np.uint8)
    cut_out[..., :3] = on_white[..., None]
    cut_out[20:80, 44:56, 3] = 255
    np.testing.assert_allclose(image_to_mnist(cut_out), image_to_mnist(on_white), atol=1e-6)


def test_anti_aliased_coloured_strokes_on_a_transparent_canvas():
    """Alpha is the strokes' coverage and the colour was already composited over white
    (as some apps export): blue strokes read as the same strokes on white paper, up to
    their half-covered edges, which the alpha lightens once more."""
    coverage = np.zeros((100, 60))
    coverage[30:70, 20:30] = 1
    coverage[30:70, 19] = coverage[30:70, 30] = 0.5
    blue = np.array([40, 60, 220]) / 255
    rgb = coverage[..., None] * blue + (1 - coverage[..., None])
    x = image_to_mnist(np.dstack([rgb, coverage]))
    on_white = image_to_mnist(rgb)
    assert np.corrcoef(x, on_white)[0, 1] > 0.99
    np.testing.assert_allclose(x[on_white == 1], 1)


@pytest.mark.parametrize(
    ("picture", "fragment"),
    [
        pytest.param(np.full((50, 50), 255, np.uint8), "blank", id="white"),
        pytest.param(np.zeros((50, 50), np.uint8), "blank", id="black"),
        pytest.param(np.full((50, 50), 128, np.uint8), "blank", id="grey"),
        pytest.param(
            np.pad(np.full((5, 5), 240, np.uint8), 20, constant_values=255), "blank", id="too faint"
        ),
        pytest.param(specks((40, 40), (40, 42)), "blank", id="two specks, not neighbours"),
        pytest.param(np.zeros((50, 50, 4), np.uint8), "fully transparent", id="transparent"),
        pytest.param(np.zeros((0, 5), np.uint8), "empty", id="no rows"),
        pytest.param(np.zeros((5, 5, 5), np.uint8), "2, 3 or 4 channels", id="5 channels"),
        pytest.param(np.zeros(784, np.uint8), r"\(h, w\)", id="1-D"),
        pytest.param(np.full((5, 5), 1.5), r"\[0, 1\]", id="above 1"),
        pytest.param(np.full((5, 5), np.nan), "finite", id="nan"),
    ],
)
def test_arrays_that_are_no_digit_are_refused(picture, fragment):
    with pytest.raises(InvalidArgumentError, match=fragment):
        image_to_mnist(picture)


def test_a_lone_speck_is_blank_and_the_contrast_says_it_was_left_out():
    """A black pixel on white has a full contrast; the reader's 0.000 is that of what
    stays once such dirt is set aside, and the line says so."""
    with pytest.raises(
        InvalidArgumentError,
        match=r"^the image is blank: no ink stands out from its background \(contrast 0\.000, "
        r"lone specks left out as dirt; at least 0\.1 of the full range is needed\)$",
    ):
        image_to_mnist(specks((50, 50)))


def test_integer_arrays_other_than_uint8_and_uint16_are_refused():
    with pytest.raises(InvalidTypeError, match=r"uint8 .* got dtype int64"):
        image_to_mnist(np.zeros((5, 5), dtype=np.int64))


# -- files -------------------------------------------------------------------------------


def rgba_on_transparent():
    rgba = np.zeros((100, 60, 4), dtype=np.uint8)
    rgba[30:70, 20:30, 3] = 255
    return Image.fromarray(rgba)


def palette_png_with_transparent_ground() -> bytes:
    """A palette picture whose ground colour is marked transparent."""
    image = Image.fromarray(tall_block(), "L").convert("P")
    return encode(image, "PNG", transparency=int(image.getpixel((0, 0))))


def sixteen_bit(picture):
    """A 16-bit grey picture whose levels differ only above the lowest 8 bits' reach:
    the ground at 60000 and the ink at 5000."""
    levels = np.where(picture == 0, 5000, 60000).astype(np.uint16)
    return Image.fromarray(levels)


FILES = {
    "png grey": lambda: encode(tall_block(), "PNG"),
    "png rgb": lambda: encode(Image.fromarray(tall_block()).convert("RGB"), "PNG"),
    "png rgba on transparent": lambda: encode(rgba_on_transparent(), "PNG"),
    "png palette, transparent ground": palette_png_with_transparent_ground,
    "png 1-bit": lambda: encode(Image.fromarray(tall_block()).convert("1"), "PNG"),
    "png 16-bit": lambda: encode(sixteen_bit(tall_block()), "PNG"),
    "bmp": lambda: encode(Image.fromarray(tall_block()).convert("RGB"), "BMP"),
    "gif": lambda: encode(Image.fromarray(tall_block()).convert("P"), "GIF"),
    "webp lossless": lambda: encode(Image.fromarray(tall_block()).convert("RGB"), "WEBP",
                                    lossless=True),
    "webp rgba lossless": lambda: encode(rgba_on_transparent(), "WEBP", lossless=True),
    "light ink png": lambda: encode(tall_block(ink=255), "PNG"),
}  # fmt: skip


@pytest.mark.parametrize("make", FILES.values(), ids=FILES.keys())
def test_every_format_and_mode_gives_the_same_input(make):
    np.testing.assert_allclose(load_image(make()), expected_tall(), atol=1e-6)


def test_a_jpeg_gives_nearly_the_same_input():
    x = load_image(encode(tall_block(), "JPEG", quality=90))
    assert_input(x)
    assert np.abs(x - expected_tall()).max() < 0.1


def test_a_cmyk_jpeg_gives_nearly_the_same_input():
    x = load_image(encode(Image.fromarray(tall_block()).convert("CMYK"), "JPEG", quality=95))
    assert np.abs(x - expected_tall()).max() < 0.1


def test_only_the_first_frame_of_an_animation_counts():
    first = Image.fromarray(tall_block()).convert("P")
    second = Image.fromarray(block_picture(100, 60, (10, 5, 10, 50))).convert("P")
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    np.testing.assert_allclose(load_image(data), expected_tall(), atol=1e-6)


@pytest.mark.parametrize(
    ("orientation", "stored"),
    [
        (3, lambda image: image.rotate(180)),
        (6, lambda image: image.rotate(90, expand=True)),  # shown turned 90 degrees clockwise
        (8, lambda image: image.rotate(-90, expand=True)),  # shown turned 90 counterclockwise
        (2, lambda image: image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    ],
)
def test_the_exif_orientation_turns_the_picture_upright(orientation, stored):
    """A camera stores the sensor's pixels and an orientation tag saying how to show them;
    a wide block stored sideways with its tag is read as the wide block."""
    upright = Image.fromarray(block_picture(60, 100, (10, 30, 10, 40))).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored(upright), "PNG", exif=exif)
    np.testing.assert_allclose(load_image(data), frame_with_block(*WIDE), atol=1e-6)


def test_a_large_picture_is_reduced_before_the_steps_with_the_same_result():
    big = block_picture(4000, 2400, (1200, 800, 1600, 400))
    np.testing.assert_allclose(load_image(encode(big, "PNG")), expected_tall(), atol=1e-3)


def test_a_jpeg_is_capped_at_the_pixels_it_decodes():
    """A JPEG decodes at 1/2, 1/4 or 1/8 of its size: 5000x4000 = 20 million pixels
    decode as 1250x1000 when a 1024-pixel side is all that is needed."""
    big = block_picture(4000, 5000, (1000, 1000, 1600, 400))
    x = load_image(encode(big, "JPEG"), max_pixels=4096 * 4096)
    assert np.abs(x - expected_tall()).max() < 0.1
    with pytest.raises(ImageFileError, match="20,000,000 pixels, more than the 16,777,216"):
        load_image(encode(big, "PNG"), max_pixels=4096 * 4096)


def test_the_readers_cap_replaces_pillows_own_which_is_put_back(monkeypatch):
    """Pillow refuses a header over its MAX_IMAGE_PIXELS (89 million by default; 1,000
    here, the 6,000-pixel block being over twice that, where Pillow raises): a JPEG
    that decodes reduced, and any file under a raised ``max_pixels``, are still read."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    big_jpeg = encode(block_picture(4000, 5000, (1000, 1000, 1600, 400)), "JPEG")
    assert np.abs(load_image(big_jpeg, max_pixels=2_000_000) - expected_tall()).max() < 0.1
    np.testing.assert_allclose(
        load_image(encode(tall_block(), "PNG"), max_pixels=6000), expected_tall(), atol=1e-6
    )
    with pytest.raises(ImageFileError, match="6,000 pixels, more than the 5,999"):
        load_image(encode(tall_block(), "PNG"), max_pixels=5999)
    assert Image.MAX_IMAGE_PIXELS == 1000


GIF_BOMB = """
import struct, scratchnet as sn
side = 20000  # 37 bytes: a screen of 400 million pixels, its first frame cleared (disposal 2)
gif = (b"GIF89a" + struct.pack("<HH", side, side) + bytes([0, 0, 0])
       + b"!\\xf9\\x04" + bytes([2 << 2, 0, 0, 0]) + b"\\x00"
       + b"," + struct.pack("<HHHH", 0, 0, side, side) + b"\\x00" + b"\\x02\\x02\\x4c\\x01\\x00;")
try:
    sn.load_image(gif)
except sn.ImageFileError as error:
    print(error)
peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(int(peak.split()[1]) // 1024)  # MiB (ru_maxrss would count the parent's before exec)
"""


def test_a_gif_bomb_is_refused_before_pillow_fills_its_frame():
    """Opening a GIF fills its first frame; Pillow's limit, lifted for every format for
    a while, let 37 bytes take 400 MB (4.3 GB for a 65535-pixel side)."""
    out = subprocess.run([sys.executable, "-c", GIF_BOMB], capture_output=True, text=True,
                         check=True).stdout.splitlines()  # fmt: skip
    assert int(out[1]) < 200  # MiB at its peak: the interpreter and its libraries
    assert out[0] == "image: 400,000,000 pixels, more than the 67,108,864 this reader accepts"


def test_a_large_mpo_photo_decodes_reduced_as_a_jpeg_does():
    """Phones save JPEGs with an MPF segment, which Pillow opens as MPO: it was refused
    at the serve API's cap, its reduced decoding skipped."""
    big = Image.fromarray(block_picture(4000, 5000, (1000, 1000, 1600, 400)))
    out = io.BytesIO()
    big.save(out, "MPO", save_all=True, append_images=[big.resize((50, 40))])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    x = load_image(out.getvalue(), max_pixels=4096 * 4096)
    assert np.abs(x - expected_tall()).max() < 0.1


def test_files_are_read_from_paths_and_named_by_them(tmp_path):
    path = tmp_path / "digit.png"
    path.write_bytes(encode(tall_block(), "PNG"))
    np.testing.assert_allclose(load_image(path), expected_tall(), atol=1e-6)
    np.testing.assert_allclose(load_image(str(path)), expected_tall(), atol=1e-6)


BAD_FILES = [
    pytest.param(b"", r"the file is empty \(0 bytes\)", id="empty"),
    pytest.param(b"hello, I am text", "not a PNG, JPEG, BMP, GIF or WebP image", id="text"),
    pytest.param(encode(tall_block(), "TIFF"), "not a PNG, JPEG, BMP, GIF or WebP", id="tiff"),
    pytest.param(encode(tall_block(), "PNG")[:60], "damaged or unreadable", id="truncated png"),
    pytest.param(encode(tall_block(), "JPEG")[:300], "damaged or unreadable", id="truncated jpeg"),
    pytest.param(encode(np.full((40, 40), 255, np.uint8), "PNG"), "blank", id="blank"),
    # Pillow cannot identify these: they were "not a PNG, JPEG, BMP, GIF or WebP image"
    pytest.param(png_header_only(0, 0), r"a damaged PNG image \(its header cannot be read: "
                 r"cut short, or of no pixels\)", id="0x0 png"),
    pytest.param(b"GIF89a?", "a damaged GIF image", id="a gif's signature alone"),
    pytest.param(png_header_only(9000, 9000), "81,000,000 pixels, more than the 67,108,864",
                 id="9000x9000"),
    pytest.param(png_header_only(20000, 20000), "400,000,000 pixels, more than the 67,108,864",
                 id="20000x20000 (a Pillow bomb)"),
    pytest.param(png_header_only(2**31 - 1, 2**31 - 1), "too many|more than", id="2^31 square"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "fragment"), BAD_FILES)
def test_a_bad_file_is_an_image_file_error_naming_it(data, fragment, tmp_path):
    path = tmp_path / "upload.png"
    path.write_bytes(data)
    with pytest.raises(ImageFileError, match=f"^{re.escape(str(path))}: .*({fragment})") as caught:
        load_image(path)
    assert isinstance(caught.value, DataFileError) and "\n" not in str(caught.value)


def test_bytes_are_named_as_the_caller_says():
    with pytest.raises(ImageFileError, match=r"^the upload: not a PNG"):
        load_image(b"hello", "the upload")
    with pytest.raises(ImageFileError, match=r"^image: the file is empty"):
        load_image(b"")


def test_the_pixel_cap_is_checked_before_decoding_and_can_be_lowered():
    assert MAX_PIXELS == 8192 * 8192
    with pytest.raises(ImageFileError, match="6,000 pixels, more than the 5,999"):
        load_image(encode(tall_block(), "PNG"), max_pixels=5999)


def fifo(path: Path) -> Path:
    """A named pipe at ``path``: opening it to read waits for a writer, forever here."""
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda folder: folder / "missing.png", "cannot read it .No such file"),
        (lambda folder: folder, "cannot read it .Is a directory"),
        (lambda folder: fifo(folder / "pipe.png"), r"cannot read it \(not a regular file\)"),
    ],
    ids=["missing", "a folder", "a FIFO (it would block)"],
)
def test_a_path_that_is_not_a_readable_file_is_named(
    make, fragment, tmp_path, fails_instead_of_hanging
):
    path = make(tmp_path)
    with pytest.raises(ImageFileError, match=f"^{re.escape(str(path))}: {fragment}"):
        load_image(path)


def test_write_mnist_png_writes_the_28x28_input_as_grey_levels(tmp_path):
    x = np.linspace(0, 1, 784)
    write_mnist_png(tmp_path / "seen.png", x)
    with Image.open(tmp_path / "seen.png") as image:
        assert (image.format, image.mode, image.size) == ("PNG", "L", (28, 28))
        np.testing.assert_array_equal(np.asarray(image).ravel(), np.round(x * 255))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seen.png"]


def test_the_public_api_exports_the_image_functions():
    assert sn.load_image is load_image and sn.image_to_mnist is image_to_mnist
    assert issubclass(sn.ImageFileError, sn.DataFileError)


def test_an_error_in_scratchnets_own_array_code_is_a_bug_not_a_damaged_file(monkeypatch):
    """Only Pillow's decoding is read as a damaged file; past it an error keeps its type
    and traceback."""

    def broken(image):
        raise ValueError("a bug of ours")

    monkeypatch.setattr(image_files, "_pixels", broken)
    with pytest.raises(ValueError, match="a bug of ours") as raised:
        load_image(encode(block_picture(60, 100, (10, 30, 10, 40)), "PNG"))
    assert not isinstance(raised.value, ImageFileError)


def paper_with_a_seven(marks: str) -> np.ndarray:
    """A dark 7 drawn 170 pixels tall on 400 x 300 white paper, and ``marks`` beside or
    across it: a dot of dirt in a corner, ruled lines, squared paper (light grey lines,
    a fifth of the ink's contrast, every 30 pixels), squared paper photographed askew
    (its lines turned by 6 degrees) or a hair askew (by a pixel across the picture), or
    none."""
    paper = Image.new("L", (400, 300), 255)
    draw = ImageDraw.Draw(paper)
    squared = ("squared", "squared askew", "squared, a hair askew")
    # pixels the lines drop across the picture: askew, tan(6 degrees) * 400 = 42
    tilt = {"squared askew": 42, "squared, a hair askew": 1}.get(marks, 0)
    if marks in ("ruled", *squared):
        for y in range(15 - tilt, 300, 30):
            draw.line([(0, y), (399, y + tilt)], fill=205, width=2)
    if marks in squared:
        for x in range(15, 400 + tilt, 30):
            draw.line([(x, 0), (x - tilt, 299)], fill=205, width=2)
    draw.line([(140, 70), (260, 70), (190, 240)], fill=10, width=14, joint="curve")
    if marks == "dirt":
        draw.ellipse([(360, 255), (374, 269)], fill=40)
    return np.asarray(paper)


@pytest.mark.parametrize("marks", ["dirt", "ruled", "squared"])
def test_marks_beside_or_across_the_digit_are_not_taken_for_it(marks):
    """The crop held every mark above the noise floor, anywhere in the picture: a dot of
    dirt in a corner, or the lines of ruled or squared paper, shrank the 7 to a blot
    (a helper's phone photos of MNIST digits: 32%, 24%, 17.5% read right, against 99% of
    the clean ones). Read with them, the 7 is what it is on plain paper."""
    plain = image_to_mnist(paper_with_a_seven("none"))
    marked = image_to_mnist(paper_with_a_seven(marks))
    assert np.corrcoef(plain, marked)[0, 1] > 0.97
    assert np.abs(marked - plain).max() < 0.5


def test_squared_paper_photographed_askew_leaves_the_digit_nearly_as_it_is():
    """Lines turned off the rows and columns are not found as printed lines, and joined
    the whole page into one mark, so the 7 was a blot again (phone photos of squared
    paper: 12.5% read right). Faint ink further than a stroke's width from strong ink
    is not the digit's: only the lines' stubs beside the strokes remain, and the 7
    comes out a little smaller than on plain paper."""
    plain = image_to_mnist(paper_with_a_seven("none"))
    askew = image_to_mnist(paper_with_a_seven("squared askew"))
    assert np.corrcoef(plain, askew)[0, 1] > 0.9
    assert np.abs(askew - plain).mean() < 0.03


def test_squared_paper_a_hair_askew_does_not_stretch_the_crop_to_the_edge():
    """Lines turned by a pixel across the picture (a phone photo's perspective) are
    printed lines only in the rows and columns that hold more than half of one: the
    rest of each, joined to the 7, ran to the picture's edges, and the crop with them
    (the 7 read as a blot; phone photos of squared paper: 95% read right). On paper
    with printed lines, faint ink further than a stroke's width from strong ink is not
    the digit's: the crop is the 7's, with at most the stubs of the lines beside its
    strokes, a stroke's width (14 pixels) on each side."""
    plain = ink_levels(paper_with_a_seven("none") / 255)[0]
    lined = ink_levels(paper_with_a_seven("squared, a hair askew") / 255)[0]
    assert lined.shape[0] <= plain.shape[0] + 2 * 14
    assert lined.shape[1] <= plain.shape[1] + 2 * 14


def in_a_shadow(picture: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """``picture`` lit 45% less where ``depth`` is positive, the shadow's edge blurred
    over 6 pixels (as a hand's or a phone's shadow on a page)."""
    shadow = np.clip(depth / 6 + 0.5, 0, 1)
    return (picture * (1 - 0.45 * shadow)).round().astype(np.uint8)


def on_a_desk(picture: np.ndarray, tone: float = 90, grain: float = 12) -> np.ndarray:
    """``picture`` shrunk to four fifths, in the middle of a dark wooden desk (grey
    ``tone``, its grain ``grain`` levels either way) that fills the rest of the photo."""
    height, width = picture.shape
    rows, columns = np.mgrid[0:height, 0:width]
    desk = tone + grain * np.sin(rows / 7 + 3 * np.sin(columns / 40))
    page = Image.fromarray(picture).resize((width * 4 // 5, height * 4 // 5), Image.LANCZOS)
    top, left = (height - page.height) // 2, (width - page.width) // 2
    desk[top : top + page.height, left : left + page.width] = np.asarray(page)
    return desk.round().astype(np.uint8)


def shadowed_seven(where: str) -> np.ndarray:
    """The 7 of ``paper_with_a_seven`` in a shadow whose edge crosses its bar, or on a
    desk."""
    paper = paper_with_a_seven("none")
    if where == "desk":
        return on_a_desk(paper)
    columns = np.arange(paper.shape[1])[None, :]
    return in_a_shadow(paper, np.broadcast_to(columns - 200.0, paper.shape))


@pytest.mark.parametrize("where", ["shadow across the digit", "desk"])
def test_a_shadow_or_the_desk_around_the_page_is_not_taken_for_ink(where):
    """A smooth ground cannot follow a shadow's edge or the page's: the shadowed half
    was ink of its own (the 7 was "blank", its noise spread by the two halves), and the
    desk around the page outweighed the 7 (a helper's phone photos: 74% and 8.5% read
    right). The 7 reads as on plain paper, the ink in the shadow as strong as the rest."""
    plain = image_to_mnist(paper_with_a_seven("none"))
    shadowed = image_to_mnist(shadowed_seven(where))
    assert np.corrcoef(plain, shadowed)[0, 1] > 0.97
    assert np.abs(shadowed - plain).max() < 0.5
    assert np.abs(shadowed - plain).mean() < 0.02  # at half strength in the shadow: 0.05


def marker_seven(margin: int) -> np.ndarray:
    """A 7 drawn with a marker 60 pixels wide (15% of the picture's width), its bar
    and stem reaching the edges of the picture, with ``margin`` white pixels around."""
    paper = Image.new("L", (400 + 2 * margin, 300 + 2 * margin), 255)
    ImageDraw.Draw(paper).line(
        [(margin, margin + 20), (margin + 380, margin + 20), (margin + 200, margin + 300)],
        fill=10, width=60, joint="curve",
    )  # fmt: skip
    return np.asarray(paper)


def test_a_marker_stroke_reaching_the_edge_of_a_close_crop_stays_ink():
    """Strokes broader than the window that finds shading, touching the picture's edge
    along their width, are ink: the 7 cropped close reads as with a margin around it."""
    cropped = image_to_mnist(marker_seven(margin=0))
    with_margin = image_to_mnist(marker_seven(margin=40))
    assert np.corrcoef(cropped, with_margin)[0, 1] > 0.97


def test_marker_strokes_on_a_page_on_a_desk_stay_ink():
    """Where the desk is shading, a stroke broader than the window on the page keeps its
    core: it is measured against the paper's level, not opened away."""
    plain = image_to_mnist(marker_seven(margin=100))
    on_desk = image_to_mnist(on_a_desk(marker_seven(margin=100)))
    assert np.corrcoef(plain, on_desk)[0, 1] > 0.97


@pytest.mark.parametrize("width", [3, 5])
def test_a_thin_pen_line_on_a_page_on_a_dark_desk_is_read_as_on_paper(width):
    """A ballpoint line a few pixels wide, blurred, is no darker than a wooden desk
    (grey 90, its grain raised with the lighting gain where it is evened): the desk
    was taken for ink, or its grain was, and the 7 was lost (a helper's phone photos
    of a page on a desk: 35% read right). The 7 is apart from the desk, not joined to
    it as a marker's strokes along a close crop's edges are, and its grain stays under
    a floor of its own: the 7 reads as on the same page on white paper."""
    paper = Image.new("L", (400, 300), 240)
    ImageDraw.Draw(paper).line([(140, 70), (260, 70), (190, 240)], fill=40, width=width)
    page = np.asarray(paper.filter(ImageFilter.GaussianBlur(1)))
    noise = np.random.default_rng(0).normal(0, 3, page.shape)
    on_white, on_wood = (np.clip(on_a_desk(page, tone, grain) + noise, 0, 255).astype(np.uint8)
                         for tone, grain in ((240, 0), (90, 12)))  # fmt: skip
    assert np.corrcoef(image_to_mnist(on_white), image_to_mnist(on_wood))[0, 1] > 0.97


def test_ink_in_a_shadow_on_a_page_on_a_desk_keeps_its_strength():
    """A page on a dark wooden desk with a shadow across half of it, sensor noise 3
    grey levels: the shadow and the desk are one shaded area, whose noise floor the
    desk's grain, raised with its lighting, sets far above the paper's. Ink in the
    shadow, kept only as far above the paper's floor as it stood above that one, was
    weakened (correlation 0.72 with the 7 on white paper); it reads as on the same
    page, unshadowed, on white paper."""
    paper = paper_with_a_seven("none")
    columns = np.broadcast_to(np.arange(paper.shape[1])[None, :] - 200.0, paper.shape)
    noise = np.random.default_rng(0).normal(0, 3, paper.shape)
    shadowed = on_a_desk(in_a_shadow(paper, columns)) + noise
    on_white = image_to_mnist(on_a_desk(paper, 255, 0))
    on_wood = image_to_mnist(np.clip(shadowed, 0, 255).astype(np.uint8))
    assert np.corrcoef(on_white, on_wood)[0, 1] > 0.97
    assert np.abs(on_wood - on_white).mean() < 0.02  # the ink in the shadow weakened: 0.05


def test_blank_paper_with_a_shadow_across_it_is_still_blank():
    """A shadow's edge across blank paper with sensor noise (2 to 8 grey levels): taking
    the shading out leaves nothing but noise, so the picture is blank, not a stroke
    along the edge; nor is the noise in the shadow, raised with its lighting."""
    rng = np.random.default_rng(0)
    columns = np.arange(400)[None, :] + np.zeros((300, 1))
    for noise in (2, 3, 5, 8):
        paper = 255 * np.where(columns > 200, 0.55, 1.0) + rng.normal(0, noise, columns.shape)
        with pytest.raises(InvalidArgumentError, match="blank"):
            image_to_mnist(np.clip(paper, 0, 255).astype(np.uint8))


def marker_seven_along_the_edges(
    ink: int, noise: float, margin: int, width: int = 30
) -> np.ndarray:
    """A 7 drawn with a marker ``width`` pixels wide in grey ``ink``, its bar along the
    top edge of a 300 x 400 picture and its stem along the right edge, with ``margin``
    white pixels around, and sensor noise."""
    paper = Image.new("L", (300, 400), 255)
    draw = ImageDraw.Draw(paper)
    draw.rectangle([(0, 0), (299, width - 1)], fill=ink)
    draw.rectangle([(300 - width, 0), (299, 399)], fill=ink)
    picture = np.pad(np.asarray(paper, dtype=np.float64), margin, constant_values=255)
    noisy = picture + np.random.default_rng(0).normal(0, noise, picture.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("ink", "noise"), [(10, 2), (150, 6)], ids=["black", "grey, noisy"])
def test_a_marker_stroke_along_two_edges_of_a_close_crop_is_not_a_desk(ink, noise):
    """Broad strokes along the picture's edges look like the desk around a page, but
    they are as dark as the rest of the ink (their median against the level of the
    ink's cores, INK_CORE, so that noise does not make them look lighter): the 7 reads
    as with a margin around it (its stem was taken for shading and the 7 read as a bar)."""
    cropped = image_to_mnist(marker_seven_along_the_edges(ink, noise, margin=0))
    with_margin = image_to_mnist(marker_seven_along_the_edges(ink, 0, margin=60))
    assert np.corrcoef(cropped, with_margin)[0, 1] > 0.97


@pytest.mark.parametrize(("ink", "noise"), [(150, 10), (200, 6)], ids=["grey", "light grey"])
def test_a_noisy_grey_marker_broader_than_the_window_along_two_edges_is_not_a_desk(ink, noise):
    """A grey 7 drawn 40 pixels wide (broader than the window that finds shading) along
    the top and right edges of a close crop, with sensor noise: every strong pixel lies
    in its strokes, so the ink's level is that of their noise's peak, and a median
    allowed further than SHADE_DEPTH of the way to it took the 7 for a desk (the 7
    read blank, or as a blob). It reads as with a margin around it."""
    cropped = image_to_mnist(marker_seven_along_the_edges(ink, noise, margin=0, width=40))
    with_margin = image_to_mnist(marker_seven_along_the_edges(ink, 0, margin=60, width=40))
    assert np.corrcoef(cropped, with_margin)[0, 1] > 0.97


@pytest.mark.parametrize("speck", [(250, 100, 9, 9), (250, 100, 17, 17), (200, 50, 1, 6)],
                         ids=["speck of 9 pixels", "speck of 17 pixels", "hair"])  # fmt: skip
def test_a_speck_beside_a_marker_stroke_along_two_edges_is_not_a_page_on_a_desk(speck):
    """A speck of dirt or a hair on the paper beside a marker 7 drawn 40 pixels wide
    along the top and right edges of a close crop is ink apart from the 7's broad
    strokes, as a digit on a page is apart from the desk around it: the 7 was taken
    for a desk and erased, and the speck read as the digit. The 7 lies above and to
    the right of the speck, not on every side of it: it reads as with a margin around
    it, the speck left out."""
    row, column, height, width = speck
    cropped = marker_seven_along_the_edges(10, 2, margin=0, width=40)
    cropped[row : row + height, column : column + width] = 10
    with_margin = image_to_mnist(marker_seven_along_the_edges(10, 0, margin=60, width=40))
    assert np.corrcoef(image_to_mnist(cropped), with_margin)[0, 1] > 0.97


def test_a_stroke_written_lighter_is_still_read():
    """A 7 whose stem is grey 140 on white paper, its bar grey 10: the stem reaches 115
    of the bar's 245 levels below the paper, 0.47, under half the contrast. It was
    dropped as faint ink far from strong ink; it is read at about its own level (the
    Lanczos filter's overshoot takes it a little higher)."""
    paper = Image.new("L", (400, 300), 255)
    draw = ImageDraw.Draw(paper)
    draw.line([(140, 70), (260, 70)], fill=10, width=14)
    draw.line([(260, 70), (190, 240)], fill=140, width=14)
    x = image_to_mnist(np.asarray(paper)).reshape(28, 28)
    top = np.flatnonzero(x.max(axis=1) > 0)[0]
    below_the_bar = x[top + 5 :]
    assert 0.4 < below_the_bar.max() < 0.6
