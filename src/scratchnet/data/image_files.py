"""Image files -> decoded pixels, read as hostile input.

``read_image`` reads PNG, JPEG, BMP, GIF (first frame) and WebP files with Pillow, in
any size, mode (1, L, LA, P, RGB, RGBA, CMYK, 16-bit grey) and EXIF orientation. It
checks the number of pixels it is about to decode against ``max_pixels`` before
decoding any (decompression bombs; a large JPEG is decoded at 1/2, 1/4 or 1/8 of its
size when that still leaves ``WORKING_SIDE`` pixels), and reduces large images by an
integer box average to at most ``WORKING_SIDE`` pixels on their longer side (a
20-pixel digit does not need more). Every problem with a file is an ``ImageFileError``
naming it.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

from ..atomic import open_regular
from ..errors import ImageFileError, InvalidTypeError

FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
FORMAT_NAMES = "PNG, JPEG, BMP, GIF or WebP"
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_PIXELS = 8192 * 8192
WORKING_SIDE = 1024
SOFTWARE = "scratchnet"  # the PNG text chunk that marks the files scratchnet writes
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
# What Pillow raises on damaged or hostile bytes while parsing a header or decoding; only
# the Pillow calls themselves are wrapped, so a bug in this module keeps its traceback.
DECODING_ERRORS = (
    OSError,  # UnidentifiedImageError, truncated data, decoder errors
    SyntaxError,  # malformed headers in several plugins
    ValueError,  # bad chunk sizes, "Decompressed Data Too Large"
    EOFError,
    struct.error,
)
_PILLOW_LOCK = threading.Lock()  # Pillow's warnings filters and pixel limit are process-wide
JPEG_START = b"\xff\xd8\xff"


def read_image(
    source: str | os.PathLike | bytes, name: str | None = None, *, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Decode an image file into an array ``image_to_mnist`` takes: (h, w) uint8 grey,
    (h, w) uint16 for 16-bit grey, (h, w, 3) uint8 RGB or (h, w, 4) uint8 RGBA when the
    file has transparency. The first frame, turned upright by its EXIF orientation and
    reduced to at most WORKING_SIDE pixels on its longer side."""
    name = display_name(source, name)
    with _opened(source, name) as file:
        if not file.read(1):
            raise ImageFileError(f"{name}: the file is empty (0 bytes), not an image")
        file.seek(0)
        with _open_image(file, name, max_pixels) as image:
            if isinstance(image, JpegImageFile):  # MPO (a phone's photo) is one too
                with _decoding(name):  # JPEG decodes at 1/2, 1/4 or 1/8 of its size
                    image.draft(image.mode, _reduced_size(image.size))
            _check_size(image, name, max_pixels)  # the pixels about to be decoded
            with _decoding(name):  # only Pillow's work: an error of ours stays a bug
                image = _decode(image)
            return _pixels(image)


def display_name(source, name: str | None) -> str:
    """How messages call the file: ``name`` if given, else its path, or \"image\" for bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "image" if name is None else name
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidTypeError(f"an image must be given by its path or its bytes, not {source!r}")
    return os.fspath(source) if name is None else name


def _opened(source, name: str) -> BinaryIO:
    """The source's bytes as a binary file; ImageFileError if it cannot be opened."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    try:
        return open_regular(source)
    except OSError as error:
        raise ImageFileError(f"{name}: cannot read it ({error.strerror})") from None


def _open_image(file, name: str, max_pixels: int) -> Image.Image:
    """Parse the header: no pixel is decoded yet, but a GIF may fill its first frame.

    Pillow refuses a header of over twice its pixel limit (and warns, here quietly,
    over it). The limit is ``max_pixels``, and none for a JPEG, which allocates nothing
    yet and decodes at a reduced size: ``_check_size`` then judges the pixels about to
    be decoded.
    """
    head = file.read(12)
    file.seek(0)
    limit = None if head.startswith(JPEG_START) else max_pixels
    try:
        with _quiet_pillow(), _pixel_limit(limit), _decoding(name, _signed_format(head)):
            return Image.open(file, formats=FORMATS)
    except Image.DecompressionBombError as error:
        declared = re.search(r"\((\d+) pixels\)", str(error))  # Pillow names the header's
        too_many = (
            f"{int(declared[1]):,} pixels, more than the {max_pixels:,}"
            if declared
            else f"more than twice the {max_pixels:,} pixels"
        )
        raise ImageFileError(f"{name}: {too_many} this reader accepts") from None


@contextmanager
def _quiet_pillow() -> Iterator[None]:
    """Pillow's warnings (of damaged EXIF blocks: the tags it could read still count;
    of a header over its pixel limit, checked by the reader) ignored. They are
    process-wide state, like its pixel limit: the readers take turns."""
    with _PILLOW_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def _pixel_limit(limit: int | None) -> Iterator[None]:
    """Pillow's pixel limit set to ``limit`` (None: none) and put back (under the lock
    of ``_quiet_pillow``)."""
    earlier, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, limit
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = earlier


def _check_size(image: Image.Image, name: str, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise ImageFileError(
            f"{name}: {width} x {height} = {width * height:,} pixels, more than the "
            f"{max_pixels:,} this reader accepts"
        )
    if width == 0 or height == 0:
        raise ImageFileError(f"{name}: the image has no pixels ({width} x {height})")


def _decode(image: Image.Image) -> Image.Image:
    """The first frame decoded, upright, in a mode image_to_mnist takes, reduced."""
    image.load()
    with _quiet_pillow():
        image.getexif()  # parsed once here, quietly; exif_transpose reuses it
    ImageOps.exif_transpose(image, in_place=True)
    image = _canonical_mode(image)
    factor = math.ceil(max(image.size) / WORKING_SIDE)
    return image.reduce(factor) if factor > 1 else image


def _pixels(image: Image.Image) -> np.ndarray:
    """A decoded image's pixels as an array image_to_mnist takes."""
    pixels = np.asarray(image)
    if pixels.dtype == np.int32:  # 16-bit grey, decoded as Pillow's 32-bit "I"
        return np.clip(pixels, 0, 65535).astype(np.uint16)
    return pixels


@contextmanager
def _decoding(name: str, signed: str | None = None) -> Iterator[None]:
    """Pillow's errors on bytes it cannot read, as one ImageFileError naming the file;
    a file that Pillow cannot identify though it starts as a ``signed`` image does is
    called a damaged one (a header of 0 x 0 pixels, say), not something else."""
    try:
        yield
    except UnidentifiedImageError:
        if signed is not None:
            raise ImageFileError(
                f"{name}: a damaged {signed} image (its header cannot be read: cut short, "
                "or of no pixels)"
            ) from None
        raise ImageFileError(f"{name}: not a {FORMAT_NAMES} image") from None
    except DECODING_ERRORS as error:
        raise ImageFileError(f"{name}: damaged or unreadable image ({_reason(error)})") from None


def _signed_format(head: bytes) -> str | None:
    """The format whose signature the file's first 12 bytes carry, if any."""
    for name, signed in SIGNATURES.items():
        if signed(head):
            return name
    return None


SIGNATURES = {
    "PNG": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "JPEG": lambda head: head.startswith(JPEG_START),
    "GIF": lambda head: head.startswith((b"GIF87a", b"GIF89a")),
    "WebP": lambda head: head.startswith(b"RIFF") and head[8:12] == b"WEBP",
    "BMP": lambda head: head.startswith(b"BM"),
}


def _reduced_size(size: tuple[int, int]) -> tuple[int, int]:
    scale = min(1.0, WORKING_SIDE / max(size))
    return max(1, math.ceil(size[0] * scale)), max(1, math.ceil(size[1] * scale))


def _canonical_mode(image: Image.Image) -> Image.Image:
    """16-bit grey as "I" (values kept), anything transparent as RGBA, grey as L, the
    rest (palette, CMYK, ...) as RGB."""
    if image.mode in SIXTEEN_BIT_MODES:
        return image.convert("I")
    if image.has_transparency_data:
        return image.convert("RGBA")
    return image.convert("L" if image.mode in ("1", "L") else "RGB")


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__
