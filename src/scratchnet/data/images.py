"""User images -> what an MNIST digit looks like to the network.

MNIST's authors took black-and-white NIST scans, scaled each digit so that its longer
side fits a 20x20 box (keeping the aspect ratio; the anti-aliasing gives the grey
levels), and placed it in a 28x28 frame so that its centre of mass falls on the
centre. Their digits are light on a dark ground: 0 is background, 1 full ink.
``image_to_mnist`` does the same to any picture of a digit:

1. grey levels ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R 601, as Pillow's "L"), in
   [0, 1]; transparent parts take the tone of the ground (``flatten_transparency``);
2. the ground's tone under every pixel (``ground_tone``): a quadratic surface fitted to
   the pixels that are not ink, so that paper lit unevenly, or darker or lighter than
   mid-grey, is measured as ground wherever it is;
3. light ink on a dark ground: the relief ``Y - ground``, or its negative for dark ink,
   is v: dark ink on paper lighter than mid-grey, light ink on darker paper, unless the
   other side reaches twice as far from the ground (``_ink_side``). What the surface
   cannot follow and stands on the ink's side of it, broader than any stroke, bordering
   the picture's edge more than the page, and either lighter than the ink's cores or
   lying on every side of a piece of ink apart from it (not joined to it, and no
   speck: at least ``MIN_DIGIT_SIDE`` pixels), is shading: the part of the page in a
   shadow, the desk around the page. Where there is some, the ground under every pixel
   is the level of the broad areas instead, and v is scaled by how much less light its
   ground gets than the lit paper, so that ink in a shadow is as strong as ink in the
   light (``shading``, ``_lighting_gain``); where the shading's noise floor, raised
   with it (a desk's grain), lies above the paper's, its levels up to that floor are
   mapped onto the paper's and those above it onto the paper's floor up to v's highest
   level (``_with_a_common_floor``). Ink levels:
   background ``b = median(v)``; peak ``p``, the largest value that some pixel of v and
   one of its 8 neighbours both reach (one stray bright pixel is not the peak; a stroke
   one pixel wide is); ink ``s = min((v - b) / (p - b), 1)`` where v is above the noise
   floor ``f = b + max(6 MAD(v), 0.1 (p - b))``, else 0. MAD is the median absolute
   deviation (zero for a clean drawing; 6 MAD is about 4 sigma of a photo's noise); the
   tenth of the contrast clears JPEG's ringing around strokes (on 2,000 JPEGs of
   rendered MNIST test digits it took a 784-64-10 model's accuracy from 94.3% to 96.5%,
   on as many PNGs from 95.1% to 95.05%; 95.8% on the digits' arrays). An image whose
   peak stands out from its background by less than ``MIN_CONTRAST``, or not above the
   noise, is blank;
4. find the digit (``digit_cells``): faint ink along most of a row or column is a
   printed line (ruled or squared paper) and not ink; of the groups of ink that reach
   half the contrast somewhere, the one of most ink is the digit, with any sizeable
   group close to it, and nothing else is ink (a dot of dirt, a second mark, the grain
   of paper under pencil). On paper with printed lines (at least ``PRINTED_LINES``
   apart), or where the digit's faint ink runs from edge to edge of the picture (the
   lines of squared paper photographed askew), faint ink further than a stroke's width
   from strong ink is not the digit's either. Crop to the smallest rectangle holding
   every pixel of the digit above the floor that has a neighbour above it too (stray
   pixels of noise do not widen it); ink spanning fewer than ``MIN_DIGIT_SIDE`` pixels
   is too small to read;
5. strokes that would be thinner than ``MIN_STROKE`` pixels at 20 pixels (a pencil line
   on a large canvas) are grown to that width (``thickened``);
6. scale the longer side to 20 pixels, keeping the aspect ratio, with an anti-aliasing
   filter;
7. place it in 28x28 by an integer shift that brings its centre of mass
   ``(sum_i i w_i / sum_i w_i, ...)`` to pixel (14, 14): the centre of mass of MNIST's
   test digits lies within half a pixel of (14, 14) (mean 13.99, 14.01), so MNIST
   shifted by whole pixels onto that point. A shift that would push ink out of the frame
   is cut short at its edge.

``load_image`` reads the file with ``image_files.read_image`` (formats, sizes, decoding
limits) and gives its pixels to ``image_to_mnist``.
Every problem with a file is an ``ImageFileError`` naming it.
"""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image, ImageFilter, PngImagePlugin

from ..atomic import atomic_write
from ..errors import ImageFileError, InvalidArgumentError, InvalidTypeError
from .image_files import MAX_PIXELS, SOFTWARE, WORKING_SIDE, display_name, read_image

FRAME_SIDE = 28
BOX_SIDE = 20
CENTRE = 14
MIN_CONTRAST = 0.1
NOISE_MADS = 6
FLOOR_SHARE = 0.1
GROUND_SAMPLES = 1 << 14
GROUND_SIGMAS = 3
GROUND_ROUNDS = 4
INK_SIDE_MARGIN = 2  # how much further the unusual side must reach to be the ink
GROUND_GAIN = 0.5  # the surface is kept when it halves the ground's spread about one tone
MIN_DIGIT_SIDE = 5  # pixels: MNIST's digits reduced to 8x8 span 6 and still read (89%)
STRONG_SHARE = 0.5  # a group of ink reaches this share of the contrast somewhere
LINE_SHARE = 0.5  # faint ink along more of a row or column than this is a printed line
LINE_STRONG_SHARE = 0.5  # if it crosses fewer strong pixels than this share of its faint
CELLS = 64  # groups of ink are found on a grid of at most this many cells a side
KEEP_SHARE = 0.05  # a group beside the digit's, with this share of its mass, is kept
NEAR_SHARE = 0.5  # if this share of the digit's box side away, at most
STROKE_EDGE = 2  # pixels: faint ink this close to strong ink is the digit's, at least
PRINTED_LINES = 3  # printed lines found apart: ruled or squared paper (a shadow: one or two)
SHADE_MIN_SIDE = 64  # pixels: smaller pictures are taken to have no shading
SHADE_CELLS = 256  # shading is found on a grid of at most this many cells a side
SHADE_WINDOW = 0.08  # of the grid's longer side: broader ink-side areas may be shading
EDGE_SHARE = 0.5  # an area is shading if this share of its border is the picture's edge
SHADE_DEPTH = 0.75  # and its median lies at most this share of the way from paper to ink
INK_CORE = 90  # percentile: the ink's level is that of its strokes' cores
MAX_GAIN = 3  # ink in a shadow is made at most this much stronger (or weaker)
MIN_STROKE = 1.5  # pixels of the 20-pixel box: MNIST's 10th percentile is 1.36
RESAMPLING = Image.Resampling.LANCZOS


def load_image(
    source: str | os.PathLike | bytes, name: str | None = None, *, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """The image file ``source`` (a path, or the file's bytes) as MNIST-like network input:
    float64 (784,) in [0, 1], light digit on a dark ground (see the module docstring).

    ``name`` is how messages call the file (default: the path, or "image").
    Raises ImageFileError naming the file: missing, empty, not an image of a supported
    format, damaged, more than ``max_pixels`` pixels, or blank.
    """
    name = display_name(source, name)
    return _file_reading(image_to_mnist, read_image(source, name, max_pixels=max_pixels), name)


def file_with_pad_look(pixels: np.ndarray, name: str) -> tuple[np.ndarray, float, bool]:
    """``read_with_pad_look`` of the pixels ``read_image`` decoded from the file ``name``;
    a picture it cannot read (blank, or too few pixels of ink) an ImageFileError naming
    the file."""
    return _file_reading(read_with_pad_look, pixels, name)


def _file_reading(read, pixels: np.ndarray, name: str):
    """``read(pixels)``, its refusal of the picture an ImageFileError naming the file."""
    try:
        return read(pixels)
    except InvalidArgumentError as error:
        raise ImageFileError(f"{name}: {error}") from None


def image_to_mnist(image: np.ndarray) -> np.ndarray:
    """A picture of a digit as MNIST-like input: float64 (784,) in [0, 1].

    ``image``: (h, w) grey, (h, w, 2) grey and alpha, (h, w, 3) RGB or (h, w, 4) RGBA;
    uint8 (0-255), uint16 (0-65535), bool, or floats in [0, 1]. Either polarity. The
    steps and their formulas are in the module docstring.

    Raises InvalidTypeError / InvalidArgumentError for an array that is not an image,
    and InvalidArgumentError if the image is blank (no ink stands out).
    """
    return _reading(image)[0]


def read_with_pad_look(image: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """``image_to_mnist(image)``, and how a drawing pad shows the picture for strokes
    drawn over it to read as its ink: the grey tone in [0, 1] to lay it on and to fill
    the pad around it with (the ground its transparent parts are laid on, for an opaque
    picture its median tone), and whether its ink is light, the colour to draw with.
    White ink on a transparent canvas, shown on white, vanished, and a dark pen over a
    white digit on black was read as no ink at all."""
    x, flat, ground, side = _reading(image)
    return x, float(np.median(flat)) if ground is None else ground, side == 1


def _reading(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, float | None, int]:
    """``image_to_mnist``'s input, the grey picture it read (its transparent parts laid
    on their ground), the tone of that ground (None for an opaque picture) and the side
    of the ground the ink is on (``_ink_side``)."""
    grey, alpha = _grey_and_alpha(_as_unit_floats(image))
    if max(grey.shape) < MIN_DIGIT_SIDE:  # too few pixels to tell ink from noise, either
        raise InvalidArgumentError(
            f"the picture is only {grey.shape[0]} x {grey.shape[1]} pixels, too few to read a "
            f"digit from: at least {MIN_DIGIT_SIDE} on its longer side are needed"
        )
    flat, ground = _laid_on_ground(grey, alpha)
    ink, side = ink_levels(flat)
    digit = scale_to_box(thickened(ink, BOX_SIDE), BOX_SIDE)
    return place_by_centre_of_mass(digit).ravel(), flat, ground, side


def flatten_transparency(grey: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Composite ``grey`` over the tone t of its ground: ``alpha Y + (1 - alpha) t``.

    The opaque interior (opaque pixels whose four neighbours are opaque too; all visible
    pixels if there is none) tells what the visible part is. Of one tone, it is ink
    (strokes on a transparent canvas, their edges anti-aliased or left grey by cutting
    the paper away) and the ground is the opposite tone; with contrast of its own, it is
    paper with a transparent margin, and the ground is the median of the visible tones."""
    return _laid_on_ground(grey, alpha)[0]


def _laid_on_ground(grey: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, float | None]:
    """``flatten_transparency``'s picture and the tone t it was laid on (None: opaque)."""
    if alpha is None or alpha.min() == 1:
        return grey, None
    tone = _transparency_ground(grey, alpha)
    return alpha * grey + (1 - alpha) * tone, tone


def _transparency_ground(grey: np.ndarray, alpha: np.ndarray) -> float:
    """The tone t that ``flatten_transparency`` lays a picture with transparent parts on."""
    visible = alpha > 0
    if not visible.any():
        raise InvalidArgumentError("the image is blank: every pixel is fully transparent")
    interior = _opaque_interior(alpha)
    tones = grey[interior] if interior.any() else grey[visible]
    if tones.max() - tones.min() < MIN_CONTRAST:
        return 1.0 if np.median(tones) < 0.5 else 0.0
    return float(np.median(grey[visible]))


def _opaque_interior(alpha: np.ndarray) -> np.ndarray:
    """Opaque pixels whose four neighbours (inside the picture) are opaque too."""
    opaque = np.pad(alpha == 1, 1, constant_values=True)
    centre = opaque[1:-1, 1:-1]
    return centre & opaque[:-2, 1:-1] & opaque[2:, 1:-1] & opaque[1:-1, :-2] & opaque[1:-1, 2:]


def ink_levels(grey: np.ndarray) -> tuple[np.ndarray, int]:
    """Light ink on a zero ground, peak 1, cropped: steps 2 to 4 of the module docstring;
    and the side of the ground its ink was on in ``grey`` (``_ink_side``)."""
    side, v, paired, (background, contrast, noise, floor) = _evened_relief(grey)
    peak = background + contrast
    if contrast < MIN_CONTRAST:
        raise InvalidArgumentError(
            f"the image is blank: no ink stands out from its background (contrast "
            f"{max(0.0, contrast):.3f}, lone specks left out as dirt; at least {MIN_CONTRAST} "
            "of the full range is needed)"
        )
    if peak <= floor:
        raise InvalidArgumentError(
            f"the image is blank: nothing stands out from the noise of its background "
            f"(the strongest ink, {contrast:.3f} from the background, is within {NOISE_MADS} "
            f"median deviations of it, {noise:.3f})"
        )
    digit = digit_cells(paired > floor, v >= background + STRONG_SHARE * contrast,
                        np.clip((v - floor) / contrast, 0, None))  # fmt: skip
    rows, columns = _extent((paired > floor) & digit)
    ink = np.where(digit, v, background)[rows, columns]
    if max(ink.shape) < MIN_DIGIT_SIDE:
        raise InvalidArgumentError(
            f"the ink spans only {ink.shape[0]} x {ink.shape[1]} pixels of the picture as read "
            f"(a file at most {WORKING_SIDE} pixels a side), too few to read a digit from: at "
            f"least {MIN_DIGIT_SIDE} on its longer side are needed; crop a large photo closer "
            "to the digit"
        )
    return np.where(ink > floor, np.minimum((ink - background) / contrast, 1), 0.0), side


def _evened_relief(grey: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, tuple]:
    """Steps 2 and 3: the ink's side, v (without its shading, where there is some), the
    levels its pixels reach with a neighbour, and ``_levels``."""
    ground = ground_tone(grey)
    side = _ink_side(grey - ground, float(np.median(grey)))
    v = side * (grey - ground)
    paired = reached_with_a_neighbour(v, 0.0)
    if shading(v, float(paired.max())) is not None:
        evened = _without_shading(grey, side)
        if evened is not None:
            v, paired = evened
    return side, v, paired, _levels(v, paired)


def _without_shading(grey: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray] | None:
    """v measured anew against the paper's median tone (step 2's surface, bent by a
    shading's edge, leaves a slope on each side that would stand out as ink), with its
    shading taken out, the lighting gain applied and the shading's noise brought to
    the paper's, and the levels its pixels reach with a neighbour; None if ``shading``
    finds none there."""
    tone = float(np.median(grey))
    relief = side * (grey - tone)
    found = shading(relief, _pair_reach(relief))
    if found is None:
        return None
    shade, lit, shaded = found
    evened = (relief - shade) * _lighting_gain(tone + side * lit, tone + side * shade)
    evened = _with_a_common_floor(evened, shaded)
    return evened, reached_with_a_neighbour(evened, 0.0)


def _with_a_common_floor(v: np.ndarray, shaded: np.ndarray) -> np.ndarray:
    """``v`` with the ``shaded`` areas' noise brought to the rest's, where their noise
    floor (median plus NOISE_MADS median deviations) lies higher: their levels from
    their median to their floor are mapped linearly onto the rest's, and those from
    their floor to v's highest level onto the rest's floor to that level. A desk's
    grain, raised with its lighting, stood out of a floor set by the paper's noise.
    Ink in a shadow that joins the desk (one area with it, its floor the desk's) keeps
    its level, near the highest, and not only its height above the desk's floor (a 7
    half in a shadow on a page on a desk read so correlated 0.72 with it on white
    paper). Ink there that does not rise above the area's floor is taken for its noise:
    a faint stroke in a deep, noisy shadow is weakened or lost."""
    if not shaded.any() or shaded.all():
        return v
    (middle, floor), (paper, paper_floor) = (_median_and_floor(v[shaded]),
                                             _median_and_floor(v[~shaded]))  # fmt: skip
    if floor <= paper_floor:
        return v
    top = float(v.max())
    noise = _mapped(v, (middle, floor), (paper, paper_floor))
    ink = _mapped(v, (floor, top), (paper_floor, top))
    return np.where(shaded, np.where(v > floor, ink, noise), v)


def _mapped(v: np.ndarray, levels: tuple[float, float], onto: tuple[float, float]) -> np.ndarray:
    """``v`` mapped linearly so that the two ``levels`` fall ``onto`` the other two (a
    shift alone where the levels are one)."""
    (start, end), (onto_start, onto_end) = levels, onto
    slope = (onto_end - onto_start) / (end - start) if end > start else 1.0
    return onto_start + (v - start) * slope


def _median_and_floor(v: np.ndarray) -> tuple[float, float]:
    """median(v), and median(v) + NOISE_MADS MAD(v)."""
    middle = float(np.median(v))
    return middle, middle + NOISE_MADS * float(np.median(np.abs(v - middle)))


def _levels(v: np.ndarray, paired: np.ndarray) -> tuple[float, float, float, float]:
    """Step 3's background b, contrast p - b, noise 6 MAD(v) and floor f."""
    background = float(np.median(v))
    contrast = float(paired.max()) - background
    noise = NOISE_MADS * float(np.median(np.abs(v - background)))
    return background, contrast, noise, background + max(noise, FLOOR_SHARE * contrast)


def _ink_side(relief: np.ndarray, paper: float) -> int:
    """Step 3: which side of the ground the ink is on, 1 for light ink, -1 for dark (v is
    ``side * relief``). The ink is on the usual side for the paper's median tone (dark on
    paper lighter than mid-grey, else light), unless the other side reaches at least
    MIN_CONTRAST from the ground, and more than INK_SIDE_MARGIN times as far as the usual
    side (each side's reach: the highest level two neighbouring pixels both reach, so a
    speck does not count): black ink on red or mid-grey paper, white chalk on light grey.
    A glare or a white border beside faint pencil does not turn the reading over."""
    dark, light = _pair_reach(-relief), _pair_reach(relief)
    usual, unusual = (dark, light) if paper > 0.5 else (light, dark)
    turned = unusual >= MIN_CONTRAST and unusual > INK_SIDE_MARGIN * usual
    return -1 if (paper > 0.5) != turned else 1


def _lighting_gain(paper: float, ground: np.ndarray) -> np.ndarray:
    """paper / ground (grey levels of the lit paper and of the ground under each pixel,
    each at least MIN_CONTRAST), within [1 / MAX_GAIN, MAX_GAIN]: ink's contrast with
    the paper is proportional to the light falling on both, so ink in a shadow where the
    ground is lit half as well stands out half as far, and is doubled to match the lit
    ink (light ink on a dark board too). The caps keep a dark desk's grain faint."""
    ratio = np.maximum(paper, MIN_CONTRAST) / np.maximum(ground, MIN_CONTRAST)
    return np.clip(ratio, 1 / MAX_GAIN, MAX_GAIN)


def _pair_reach(v: np.ndarray) -> float:
    """max over pairs of neighbouring pixels p, q (8-neighbourhood) of min(v_p, v_q):
    the peak of ``reached_with_a_neighbour``, without its full-size filter."""
    pairs = [(v[1:, :], v[:-1, :]), (v[:, 1:], v[:, :-1]),
             (v[1:, 1:], v[:-1, :-1]), (v[1:, :-1], v[:-1, 1:])]  # fmt: skip
    reaches = [float(np.minimum(a, b).max()) for a, b in pairs if a.size]
    return max(reaches, default=0.0)


def ground_tone(grey: np.ndarray) -> np.ndarray:
    """Step 2: the tone of the ground under every pixel, the surface
    ``c0 + c1 y + c2 x + c3 y^2 + c4 x y + c5 x^2`` (x, y in [-1, 1] across the picture)
    fitted by least squares to the ground's pixels: a sample of at most GROUND_SAMPLES
    pixels, those within GROUND_SIGMAS robust deviations (1.4826 MAD, at least a grey
    level) of the previous fit, starting from the median tone, over GROUND_ROUNDS fits.
    The surface is kept only where it at least halves (GROUND_GAIN) the ground pixels'
    median deviation from their median tone: paper lit unevenly (a shadow, a lamp to one
    side, a phone's vignetting) gives its gradient, which the ink is then measured
    against; even paper, or paper with a glare spot a surface cannot follow (its bends
    would turn the corners into ink), gives that one tone, exactly."""
    height, width = grey.shape
    stride = max(1, math.ceil(math.sqrt(height * width / GROUND_SAMPLES)))
    sample = grey[::stride, ::stride].ravel()
    terms = _surface_terms(height, width, stride)
    grid = np.broadcast_shapes(*(term.shape for term in terms))
    basis = np.stack([np.broadcast_to(term, grid).ravel() for term in terms], axis=1)
    fit = np.full(sample.shape, np.median(sample))
    coefficients = np.array([fit[0], 0, 0, 0, 0, 0])
    for _ in range(GROUND_ROUNDS):
        residual = sample - fit
        spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
        ground = np.abs(residual) <= max(GROUND_SIGMAS * spread, 1 / 255)
        if ground.sum() < 4 * len(coefficients):
            break
        coefficients = np.linalg.lstsq(basis[ground], sample[ground], rcond=None)[0]
        fit = basis @ coefficients
    if ground.sum() < 4 * len(coefficients):  # hardly any ground: its median tone
        return np.full(grey.shape, float(np.median(sample)))
    tone = float(np.median(sample[ground]))
    if _spread(sample[ground] - fit[ground]) >= GROUND_GAIN * _spread(sample[ground] - tone):
        return np.full(grey.shape, tone)  # even paper: one tone (a glare is no gradient)
    _, y, x, y2, xy, x2 = _surface_terms(height, width, 1)
    c0, c1, c2, c3, c4, c5 = coefficients
    surface = np.multiply(xy, c4)  # the one term of full size; the others added in place
    surface += c0 + c1 * y + c3 * y2
    surface += c2 * x + c5 * x2
    return surface


def _spread(residual: np.ndarray) -> float:
    """The median absolute residual."""
    return float(np.median(np.abs(residual)))


def _surface_terms(height: int, width: int, stride: int) -> list[np.ndarray]:
    """1, y, x, y^2, x y, x^2 at every ``stride``-th row and column, y a column and x a row
    (they broadcast to the grid), both in [-1, 1] across the whole picture."""
    y = (np.arange(0, height, stride) * 2 / max(height - 1, 1) - 1)[:, None]
    x = (np.arange(0, width, stride) * 2 / max(width - 1, 1) - 1)[None, :]
    return [np.ones((1, 1)), y, x, y * y, x * y, x * x]


def shading(v: np.ndarray, peak: float) -> tuple[np.ndarray, float, np.ndarray] | None:
    """Step 3's shading: the level, on the ink's side, of shadows and surroundings that
    step 2's smooth ground cannot follow (a shadow's edge, the desk around the page), to
    subtract from ``v``. A picture whose longer side is under SHADE_MIN_SIDE pixels is
    taken to hold the digit and little else (MNIST's own are 28), and has none.

    On a grid of at most SHADE_CELLS cells a side (each cell the minimum of its pixels),
    the opening of v by a square SHADE_WINDOW of the grid's longer side (a minimum
    filter, then a maximum filter, the square cut by the picture's edge) keeps what is
    broader than that window and drops the strokes narrower: o(p) = max over squares B
    holding p of min over B of v. ``lit``, the lowest tenth of o, is the level of the
    ground farthest from the ink (the lit paper, even where a shadow covers most of the
    picture and v's median). The areas where o stands more than FLOOR_SHARE of the
    contrast (``peak``, the highest level two neighbouring pixels of v reach, less
    ``lit``) above it are grouped (8-connected, on at most CELLS cells a side). A group
    is shading when at least EDGE_SHARE of its border is the picture's edge (a shadow's
    straight edge across the page leaves more of the picture's edge than of itself
    inside the shadow; the desk's outer border, the picture's whole edge, is longer
    than its inner one), and either its median lies at most SHADE_DEPTH of the way
    from the paper to the ink's cores (``_paper_and_ink``), or it lies on every side
    of a piece of strong ink apart from every broad area, spanning at least
    MIN_DIGIT_SIDE pixels (``_ink_apart``, ``_surrounds``): a shadow or a desk darkens
    the paper less than ink does, and a desk darker than a thin pen's line lies around
    the digit on the page, apart from it, while a marker stroke along the edges of a
    close crop is as dark as the rest of the digit and joined to it, or beside a speck
    of dirt rather than around it, and stays ink.

    Returns (the ground under each pixel, ``lit``, the pixels of the shading's groups),
    or None where there is no shading.
    The ground is o, each pixel given the largest o of its cell and the cells around it
    (a cell across the shading's edge holds both sides: its minimum is the lighter
    side's); within a cell of a broad stroke, ``lit``.
    """
    if max(v.shape) < SHADE_MIN_SIDE:
        return None
    side = max(1, math.ceil(max(v.shape) / SHADE_CELLS))
    cells = _pooled(v, side, np.minimum, fill=np.inf)
    window = 2 * round(SHADE_WINDOW * max(cells.shape) / 2) + 1  # odd: the square centred
    opened = _dilated(-_dilated(-cells, window), window)
    lit = float(np.percentile(opened, 10))
    broad = opened > lit + FLOOR_SHARE * (peak - lit)
    if not broad.any():
        return None
    group_side = max(1, math.ceil(max(broad.shape) / CELLS))
    groups = _groups(_pooled(broad, group_side, np.logical_or))
    edge, inside = _border_lengths(groups)
    numbers = np.flatnonzero((edge >= EDGE_SHARE * (edge + inside)) & (edge > 0))
    pixels = _expanded(_expanded(groups, group_side, broad.shape), side, v.shape)
    paper, ink = _paper_and_ink(v, peak, pixels > 0)
    darkest = paper + SHADE_DEPTH * (ink - paper)  # lighter than the ink
    apart = _ink_apart(v, paper + STRONG_SHARE * (peak - paper), groups > 0, group_side * side)
    shaded = [number for number in numbers[numbers > 0]
              if np.median(v[pixels == number]) <= darkest
              or _surrounds(groups == number, apart)]  # fmt: skip
    if not shaded:
        return None
    strokes = ((groups > 0) & ~np.isin(groups, shaded)).astype(np.float32)
    near_strokes = _expanded(_dilated(strokes, 3) > 0, group_side, broad.shape)
    shade = np.where(near_strokes, lit, _dilated(opened, 3))
    return _expanded(shade, side, v.shape), lit, np.isin(pixels, shaded)


def _ink_apart(v: np.ndarray, strong: float, broad: np.ndarray, cell_side: int) -> np.ndarray:
    """The cells (of ``cell_side`` pixels, as ``broad``'s) of ink reaching ``strong``
    with a neighbour that lies apart from every ``broad`` area: in none of the
    8-connected groups of cells holding either that joins one, and in a group whose
    ink spans at least MIN_DIGIT_SIDE pixels by itself. A marker's broad strokes along
    the edges of a close crop are joined to the rest of the digit's strokes; a desk is
    not joined to the digit on the page; a speck of dirt or noise is no digit."""
    ink = reached_with_a_neighbour(v, float(v.min())) >= strong
    inked = _pooled(ink, cell_side, np.logical_or)
    joined = _groups(inked | broad)
    apart = inked & ~np.isin(joined, np.unique(joined[broad]))
    return apart & (_spans(ink, joined, cell_side)[joined] >= MIN_DIGIT_SIDE)


def _spans(ink: np.ndarray, groups: np.ndarray, cell_side: int) -> np.ndarray:
    """For each number of ``groups`` (cells of ``cell_side`` pixels), the longer side in
    pixels of the smallest rectangle holding the ``ink`` in its cells (0 for none)."""
    rows, columns = np.nonzero(ink)
    numbers = groups[rows // cell_side, columns // cell_side]
    sides = np.zeros(groups.max() + 1)
    for at in (rows, columns):
        first, last = np.full(len(sides), np.inf), np.full(len(sides), -np.inf)
        np.minimum.at(first, numbers, at)
        np.maximum.at(last, numbers, at)
        sides = np.maximum(sides, np.where(last >= first, last - first + 1, 0))
    return sides


def _surrounds(cells: np.ndarray, apart: np.ndarray) -> bool:
    """Whether the group of ``cells`` lies on every side of some cell of the ink
    ``apart``: to its left and right in its row, above and below it in its column. A
    desk lies around the page, while a marker's strokes along the top and right edges
    of a close crop leave the paper below and to the left of them open (a speck of
    dirt there is not a page on a desk)."""
    left = np.logical_or.accumulate(cells, axis=1)
    right = np.logical_or.accumulate(cells[:, ::-1], axis=1)[:, ::-1]
    above = np.logical_or.accumulate(cells, axis=0)
    below = np.logical_or.accumulate(cells[::-1], axis=0)[::-1]
    return bool((apart & left & right & above & below).any())


def _paper_and_ink(v: np.ndarray, peak: float, broad: np.ndarray) -> tuple[float, float]:
    """The paper's level (the median of v outside the ``broad`` areas) and the ink's (the
    INK_CORE percentile of the pixels there that reach half the way to the ``peak``; the
    peak itself where none do): a percentile, so that a stray pixel of noise moves
    neither, and of the strokes' cores, since a thin ballpoint line, blurred, has as
    many pixels on its edges as in its core (the median of its pixels was no darker
    than a wooden desk in a phone photo, and the desk was taken for ink)."""
    paper = float(np.median(v[~broad])) if not broad.all() else float(np.percentile(v, 10))
    strong = ~broad & (v >= paper + STRONG_SHARE * (peak - paper))
    return paper, float(np.percentile(v[strong], INK_CORE)) if strong.any() else peak


def _border_lengths(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each group number, how many of its cells' sides lie on the grid's edge, and how
    many face a cell outside the group."""
    framed = np.pad(groups, 1, constant_values=-1)
    height, width = groups.shape
    count = groups.max() + 1
    edge, inside = np.zeros(count), np.zeros(count)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        neighbour = framed[dy : dy + height, dx : dx + width]
        edge += np.bincount(groups[neighbour < 0], minlength=count)
        inside += np.bincount(groups[(neighbour >= 0) & (neighbour != groups)], minlength=count)
    return edge, inside


def _expanded(cells: np.ndarray, side: int, shape: tuple[int, int]) -> np.ndarray:
    """Each cell's value repeated over its side x side pixels, cut to ``shape``."""
    pixels = np.repeat(np.repeat(cells, side, axis=0), side, axis=1)
    return pixels[: shape[0], : shape[1]]


def reached_with_a_neighbour(v: np.ndarray, background: float) -> np.ndarray:
    """The level each pixel reaches together with one of its 8 neighbours,
    max over neighbours q of min(v_p, v_q), the picture framed by its ``background``: a
    bright pixel with no neighbour as bright (a speck of noise, even in a corner) falls
    to its neighbours' level, while every pixel of a stroke one pixel wide has a
    neighbour on the stroke and keeps the stroke's level.

    That is min(v_p, the second largest value of p's 3x3 neighbourhood): if v_p is the
    largest there, the second largest is its brightest neighbour; if not, some neighbour
    reaches v_p."""
    framed = np.pad(v, 1, constant_values=background).astype(np.float32)
    second = Image.fromarray(framed, mode="F").filter(ImageFilter.RankFilter(3, 7))
    return np.minimum(v, np.asarray(second, dtype=np.float64)[1:-1, 1:-1])


def digit_cells(above: np.ndarray, strong: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Step 4's digit: where in the picture the ink is the digit's, not a mark beside it.

    Rows and columns whose faint ink (``above`` the floor but not ``strong``) spans more
    than LINE_SHARE of the picture are printed lines (ruled or squared paper): their
    faint pixels are not ink. On a grid of at most CELLS cells a side (a cell holds ink
    if a pixel of it does, so strokes broken by less than a cell join), the 8-connected
    groups of cells holding ink that reach ``strong`` somewhere are the candidates
    (faint grain, shading and lines alone are none); the one of most ``mass`` is the
    digit, with every other of at least KEEP_SHARE of its mass within NEAR_SHARE of its
    box's longer side (a 5's bar written apart). Returns the picture's pixels (bool)
    of the digit's cells, less the printed lines. On paper with printed lines (at least
    PRINTED_LINES of them apart; a shadow along an edge makes one, in a corner two), or
    where lines of the paper photographed askew joined the digit's group
    (``_joined_by_lines``), only its strong pixels and those within a stroke's width of
    one (``stroke_width`` of the strong ink, at least STROKE_EDGE pixels) are the
    digit's: the faint edges and tapering ends of its strokes, not the lines beyond
    them. Lines a little off the rows and columns (a phone photo's perspective) are
    printed lines only where a row or column holds more than LINE_SHARE of them, and
    the rest, joined to the digit, ran from it to the picture's nearer edge (the crop
    stretched to that edge and the digit read as a blot). A stroke written lighter than
    half the contrast is kept on plain paper where no lines run from edge to edge."""
    faint, strong = above & ~strong, above & strong
    rows, columns = _printed(faint, strong, axis=1), _printed(faint, strong, axis=0)
    lines = faint & (rows | columns)
    lined = _runs(rows.ravel()) + _runs(columns.ravel()) >= PRINTED_LINES
    above = above & ~lines
    side = max(1, math.ceil(max(above.shape) / CELLS))
    inked = _pooled(above, side, np.logical_or)
    reaching = _pooled(strong & above, side, np.logical_or)
    weight = _pooled(mass * above, side, np.add)
    groups = _groups(inked)
    masses = np.bincount(groups.ravel(), weights=weight.ravel(), minlength=groups.max() + 1)
    candidates = np.unique(groups[reaching & inked])
    if not len(candidates):
        return ~lines
    main = candidates[np.argmax(masses[candidates])]
    box = _cell_box(groups == main)
    reach = NEAR_SHARE * max(box[1] - box[0], box[3] - box[2])
    kept = [group for group in candidates if masses[group] >= KEEP_SHARE * masses[main]
            and _gap(box, _cell_box(groups == group)) <= reach]  # fmt: skip
    digit = _expanded(np.isin(groups, kept), side, above.shape) & ~lines
    if not lined and not _joined_by_lines(digit & above, digit & strong):
        return digit
    edge = max(STROKE_EDGE, round(stroke_width(strong)))
    return digit & (_dilated(strong.astype(np.float32), 2 * edge + 1) > 0)


def _runs(flags: np.ndarray) -> int:
    """How many runs of consecutive True values the 1-D ``flags`` hold."""
    return int(np.count_nonzero(np.diff(flags.astype(np.int8), prepend=0) == 1))


def _joined_by_lines(ink: np.ndarray, strong: np.ndarray) -> bool:
    """Whether the digit's ink runs from one edge of the picture to the opposite one
    beyond the band of rows (or columns) that its strong ink spans: lines of the paper,
    which ``_printed`` finds only along rows and columns, joined the digit's group. The
    digit's own strokes, even lighter ones reaching the edges of a close crop, lie
    within that band."""
    if not strong.any():
        return False
    for picture, strokes in ((ink, strong), (ink.T, strong.T)):
        band = np.flatnonzero(strokes.any(axis=1))
        beyond = np.r_[picture[: band[0]], picture[band[-1] + 1 :]]
        if beyond[:, 0].any() and beyond[:, -1].any():
            return True
    return False


def _printed(faint: np.ndarray, strong: np.ndarray, axis: int) -> np.ndarray:
    """Whether each row (axis 1) or column (axis 0) is a printed line: faint ink along
    more than LINE_SHARE of it, with under LINE_STRONG_SHARE as many strong pixels (the
    strokes it crosses; a digit's own bar, anti-aliased, has more)."""
    faint_count = faint.sum(axis=axis, keepdims=True)
    strong_count = strong.sum(axis=axis, keepdims=True)
    return (faint_count > LINE_SHARE * faint.shape[axis]) & (
        strong_count < LINE_STRONG_SHARE * faint_count
    )


def _pooled(pixels: np.ndarray, side: int, how, fill=0) -> np.ndarray:
    """``how`` (np.logical_or, np.add, np.minimum) reduced over each side x side cell of
    ``pixels``, cells past the picture's edge filled with ``fill``."""
    height, width = pixels.shape
    padded = np.full((-(-height // side) * side, -(-width // side) * side), fill, pixels.dtype)
    padded[:height, :width] = pixels
    cells = padded.reshape(padded.shape[0] // side, side, padded.shape[1] // side, side)
    return how.reduce(how.reduce(cells, axis=3), axis=1)


def _groups(cells: np.ndarray) -> np.ndarray:
    """8-connected groups of True cells, each numbered (from 1; 0 for False cells) by the
    largest of its cells' numbers, spread from neighbour to neighbour until it settles."""
    groups = np.where(cells, np.arange(1, cells.size + 1).reshape(cells.shape), 0)
    while True:
        framed = np.pad(groups, 1)
        height, width = groups.shape
        spread = np.max([framed[dy : dy + height, dx : dx + width]
                         for dy in range(3) for dx in range(3)], axis=0)  # fmt: skip
        spread = np.where(cells, spread, 0)
        if np.array_equal(spread, groups):
            return groups
        groups = spread


def _cell_box(cells: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), bottom and right past the last True cell."""
    rows, columns = np.flatnonzero(cells.any(axis=1)), np.flatnonzero(cells.any(axis=0))
    return rows[0], rows[-1] + 1, columns[0], columns[-1] + 1


def _gap(box: tuple, other: tuple) -> int:
    """Cells between two boxes, across or along (0 where they overlap)."""
    return max(other[0] - box[1], box[0] - other[1], other[2] - box[3], box[2] - other[3], 0)


def _extent(mask: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of the smallest rectangle holding every True of ``mask``."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)


def thickened(ink: np.ndarray, side: int) -> np.ndarray:
    """Step 5: ``ink`` whose strokes, once scaled to fit ``side`` pixels, would be thinner
    than MIN_STROKE pixels, has their cores (levels above one half) grown to that width
    by a square maximum filter (as if drawn with a broader pen), with a margin for the
    growth; fainter pixels (specks of noise among them) stay as they are. A pencil line
    one pixel wide on a large canvas would otherwise fade to a faint trace at 20 pixels."""
    source_pixels = max(ink.shape) / side  # per pixel of the box
    grow = math.floor(MIN_STROKE * source_pixels - stroke_width(ink))
    if grow < 1:
        return ink
    before = grow // 2
    padded = np.pad(ink, [(before, grow - before)] * 2)
    cores = np.where(padded > 0.5, padded, 0.0)  # specks of noise, at the floor's level,
    return np.maximum(padded, _dilated(cores, grow + 1))  # would grow into blobs


def stroke_width(ink: np.ndarray) -> float:
    """The mean width of the strokes, 2 A / P: A the pixels above half the peak and P
    their edges with the rest (a stroke w wide and L long: 2 w L / (2 L + 2 w), about w).
    MNIST's test digits measure 1.84 pixels (median; 1.22 at the 5th percentile)."""
    mask = np.pad(ink > 0.5, 1).astype(np.int8)
    edges = np.abs(np.diff(mask, axis=0)).sum() + np.abs(np.diff(mask, axis=1)).sum()
    return 2 * float(mask.sum()) / max(int(edges), 1)


def _dilated(values: np.ndarray, size: int) -> np.ndarray:
    """The maximum over the size x size square around each value (centred if size is
    odd, as ``_window_max`` places it; the square cut by the edge)."""
    for axis in (0, 1):
        values = _window_max(values, size, axis, fill=-np.inf)
    return values


def _window_max(values: np.ndarray, size: int, axis: int, fill: float) -> np.ndarray:
    """out[i] = max(values[i - size // 2 : i - size // 2 + size]) along ``axis`` (``fill``
    outside), by doubling the window each pass: log2(size) passes, not size."""
    values = np.moveaxis(values, axis, 0)
    before = size // 2
    padding = [(before, size - 1 - before)] + [(0, 0)] * (values.ndim - 1)
    window = np.pad(values, padding, constant_values=fill)
    covered = 1  # window[j] is the max over `covered` values from j
    while covered < size:
        step = min(covered, size - covered)
        np.maximum(window[:-step], window[step:], out=window[:-step])
        covered += step
    return np.moveaxis(window[: len(values)], 0, axis)


def scale_to_box(ink: np.ndarray, side: int) -> np.ndarray:
    """``ink`` scaled so that its longer side is ``side`` pixels and the other keeps the
    aspect ratio (at least 1 pixel), with Lanczos anti-aliasing; values clipped to [0, 1]."""
    height, width = ink.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    scaled = Image.fromarray(ink.astype(np.float32), mode="F").resize(size, RESAMPLING)
    return np.clip(np.asarray(scaled, dtype=np.float64), 0, 1)


def place_by_centre_of_mass(digit: np.ndarray) -> np.ndarray:
    """A FRAME_SIDE square holding ``digit``, shifted by whole pixels so that its centre
    of mass is as near pixel (CENTRE, CENTRE) as the frame allows."""
    frame = np.zeros((FRAME_SIDE, FRAME_SIDE))
    total = digit.sum()
    if total == 0:
        raise InvalidArgumentError("the image is blank: no ink is left at 20 pixels")
    top = _offset(digit.sum(axis=1), total, FRAME_SIDE - digit.shape[0])
    left = _offset(digit.sum(axis=0), total, FRAME_SIDE - digit.shape[1])
    frame[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return frame


def _offset(profile: np.ndarray, total: float, room: int) -> int:
    """The whole-pixel offset bringing the profile's centre of mass to CENTRE, in [0, room]."""
    centre = float(np.arange(len(profile)) @ profile) / total
    return min(max(math.floor(CENTRE - centre + 0.5), 0), room)


def write_mnist_png(path: str | os.PathLike, x: np.ndarray) -> None:
    """Write a (784,) input in [0, 1] as the 28x28 grey PNG it is (white ink on black),
    marked as scratchnet's (``SOFTWARE``)."""
    pixels = np.round(np.asarray(x, dtype=np.float64).reshape(FRAME_SIDE, FRAME_SIDE) * 255)
    marked = PngImagePlugin.PngInfo()
    marked.add_text("Software", SOFTWARE)
    with atomic_write(path) as file:
        Image.fromarray(pixels.astype(np.uint8), mode="L").save(file, format="PNG", pnginfo=marked)


# -- arrays ------------------------------------------------------------------------------


def _as_unit_floats(image) -> np.ndarray:
    """The image's values as float64 in [0, 1]."""
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (2, 3, 4)):
        raise InvalidArgumentError(
            f"an image must be (h, w) grey or (h, w, c) with 2, 3 or 4 channels, "
            f"got shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidArgumentError(f"the image is empty: shape {image.shape}")
    if image.dtype == np.uint8 or image.dtype == np.uint16:
        return image / float(np.iinfo(image.dtype).max)
    if image.dtype == bool:
        return image.astype(np.float64)
    if image.dtype.kind == "f":
        values = image.astype(np.float64)
        if not (np.all(np.isfinite(values)) and values.min() >= 0 and values.max() <= 1):
            raise InvalidArgumentError("float image values must be finite and in [0, 1]")
        return values
    raise InvalidTypeError(
        f"image pixels must be uint8 (0-255), uint16 (0-65535), bool or floats in [0, 1], "
        f"got dtype {image.dtype}"
    )


def _grey_and_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Luma Y = 0.299 R + 0.587 G + 0.114 B, and the alpha channel if there is one."""
    if image.ndim == 2:
        return image, None
    if image.shape[2] == 2:
        return image[..., 0], image[..., 1]
    grey = image[..., :3] @ np.array([0.299, 0.587, 0.114])
    return grey, (image[..., 3] if image.shape[2] == 4 else None)
