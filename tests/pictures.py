"""Pictures for the image tests, made by hand with known ink, and MNIST digits drawn the
way users make images: black ink on a white 280x280 RGB canvas, off-centre, at another
size, saved as PNG or JPEG.

``python -m tests.pictures --model M [--count N]`` measures a model on such renderings
of the first N MNIST test digits against the same digits as arrays (the figure in the
README).
"""

from __future__ import annotations

import argparse
import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

CANVAS = 280
WHITE = 255


def block_picture(height: int, width: int, box: tuple[int, int, int, int], ink: int = 0):
    """A (height, width) uint8 grey picture of background 255 - ink with one solid
    rectangle of ``ink`` at box = (top, left, rows, columns)."""
    top, left, rows, columns = box
    picture = np.full((height, width), WHITE - ink, dtype=np.uint8)
    picture[top : top + rows, left : left + columns] = ink
    return picture


def frame_with_block(top: int, left: int, rows: int, columns: int) -> np.ndarray:
    """The expected 28x28 network input: zeros, ones on the block, flattened (784,)."""
    frame = np.zeros((28, 28))
    frame[top : top + rows, left : left + columns] = 1.0
    return frame.ravel()


def encode(picture: np.ndarray | Image.Image, image_format: str, **options) -> bytes:
    """The bytes of ``picture`` saved in ``image_format`` ("PNG", "JPEG", ...)."""
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def in_light_ink(picture: Image.Image, transparent: bool) -> Image.Image:
    """A dark-on-light picture's ink in white: on a transparent canvas (alpha the ink's
    coverage, as a drawing app exports it) or on black (as MNIST draws its digits)."""
    coverage = 255 - np.asarray(picture.convert("L"))
    if not transparent:
        return Image.fromarray(coverage)
    white = np.full((*coverage.shape, 3), 255, np.uint8)
    return Image.fromarray(np.dstack([white, coverage]), "RGBA")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height grey pixels, with one tiny data chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return (
        signature
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def render_like_a_user(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """An MNIST digit (28x28 uint8, light on dark) as a user's image: its ink, scaled by a
    random factor from 3 to 9 with bicubic interpolation, black on a white 280x280 RGB
    canvas at a random position."""
    rows, columns = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    ink = digit[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    scale = rng.uniform(3, 9)
    size = (round(ink.shape[1] * scale), round(ink.shape[0] * scale))
    drawn = Image.fromarray(WHITE - ink).resize(size, Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (CANVAS, CANVAS), "white")
    left = int(rng.integers(0, CANVAS - size[0] + 1))
    top = int(rng.integers(0, CANVAS - size[1] + 1))
    canvas.paste(drawn.convert("RGB"), (left, top))
    return canvas


def save_renderings(digits: np.ndarray, folder: Path, seed: int = 0) -> list[Path]:
    """Each digit rendered like a user's image into ``folder``: even ones as PNG, odd ones
    as JPEG (quality 75, Pillow's default)."""
    rng = np.random.default_rng(seed)
    paths = []
    for index, digit in enumerate(digits):
        path = folder / f"digit-{index:05d}.{'png' if index % 2 == 0 else 'jpg'}"
        render_like_a_user(digit, rng).save(path)
        paths.append(path)
    return paths


def main() -> None:
    import tempfile

    import scratchnet as sn
    from scratchnet.app.readings import read_digits

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    net = sn.NeuralNet.load(args.model)
    data = sn.load_mnist(net.classes.tolist(), args.data_dir, relabel=False)
    digits, labels = data.x_test[: args.count], data.y_test[: args.count]
    with tempfile.TemporaryDirectory() as folder:  # what `scratchnet predict` does
        inputs = np.stack([sn.load_image(path) for path in save_renderings(digits, Path(folder))])
    predicted = np.array([reading.prediction[0] for reading in read_digits(net, inputs)])
    arrays = net.score(sn.preprocess(digits, net.dtype), labels)
    print(f"{args.model}: the first {len(labels)} MNIST test digits of its classes")
    print(f"  as arrays:            {arrays:.2%}")
    print(f"  drawn as images:      {np.mean(predicted == labels):.2%}")
    print(
        f"  PNG / JPEG:           {np.mean(predicted[::2] == labels[::2]):.2%} / "
        f"{np.mean(predicted[1::2] == labels[1::2]):.2%}"
    )


if __name__ == "__main__":
    main()
