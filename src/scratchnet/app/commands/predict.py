"""``scratchnet predict``: the digit in image files, by a saved model.

Each file goes through ``scratchnet.data.images.load_image`` (the preprocessing the
draw-a-digit page uses too) and the readings come from ``app/readings.py``. A file that
cannot be read gets its own error line; the others are still answered, and the exit
status is 2 if any file failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ...data.images import EXTENSIONS, FORMAT_NAMES, load_image, write_mnist_png
from ...errors import ImageFileError
from ..arguments import error_message, make_folder, printable
from ..console import probability
from ..models import MODEL_HELP, STARTER_DATA_DIR_HELP, choose_model
from ..readings import Reading, read_digits

EXIT_BAD_INPUT = 2
SHADES = " .:-=+*#%@"  # from no ink to full ink
PREVIEW_SUFFIX = "-28x28.png"


def add_parser(commands) -> None:
    predict = commands.add_parser(
        "predict",
        help="the digit in image files, by a saved model",
        description="Print the digit a model sees in each image file (PNG, JPEG, BMP, GIF, "
        "WebP; photos or drawings, either polarity), with its probability and the "
        "runner-up. Folders stand for the images in them.",
    )
    predict.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="image files, or folders of them"
    )
    predict.add_argument(
        "--model",
        type=Path,
        help=MODEL_HELP,
    )
    output = predict.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per file, with every class probability (default: off)",
    )
    output.add_argument(
        "--show",
        action="store_true",
        help="draw the 28x28 input the network saw in the terminal (default: off)",
    )
    predict.add_argument(
        "--preview",
        type=Path,
        metavar="DIR",
        help=f"write the 28x28 input the network saw as DIR/<file name>{PREVIEW_SUFFIX} "
        "(default: none)",
    )
    predict.add_argument("--data-dir", type=Path, help=STARTER_DATA_DIR_HELP)
    predict.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    chosen = choose_model(args.model, args.data_dir, say=note)
    inputs = [(path, _loaded(path) if is_file else _empty(path))
              for path, is_file in expand_folders(args.files)]  # fmt: skip
    loaded = [(path, x) for path, x in inputs if isinstance(x, np.ndarray)]
    readings = iter(read_digits(chosen.net, np.stack([x for _, x in loaded])) if loaded else ())
    previews = iter(preview_paths([path for path, _ in loaded], args.preview,
                                  [path for path, _ in inputs]))  # fmt: skip
    failed = False
    for path, x in inputs:
        if not isinstance(x, np.ndarray):  # the message that says what is wrong with it
            report_failure(path, x, args.json)
            failed = True
            continue
        preview = next(previews, None)
        if preview is not None and not _write_preview(preview, x):
            preview, failed = None, True
        print_reading(path, x, next(readings), args, preview)
    return EXIT_BAD_INPUT if failed else 0


def _loaded(file: Path) -> np.ndarray | str:
    """The file's network input, or the message that says why it cannot be read."""
    try:
        return load_image(file)
    except ImageFileError as error:
        return error_message(error)


def _empty(folder: Path) -> str:
    return printable(f"{folder}: a folder without {FORMAT_NAMES} images")


def report_failure(file: Path, problem: str, as_json: bool) -> None:
    """A line on stderr, and with --json an object on stdout in the file's place too."""
    note(f"error: {problem}")
    if as_json:
        print(json.dumps({"file": str(file), "error": problem}))


def _write_preview(preview: Path, x: np.ndarray) -> bool:
    """Write the preview, or say why it cannot be written (the reading is still given);
    whether it was written."""
    try:
        write_mnist_png(preview, x)
    except OSError as error:
        note(f"error: {error_message(error)}")
        return False
    return True


def expand_folders(paths: list[Path]) -> list[tuple[Path, bool]]:
    """Files as given, folders replaced by the image files in them (by extension, sorted,
    hidden files left out), each with True; a folder that holds none, with False."""
    found: list[tuple[Path, bool]] = []
    for path in paths:
        if not path.is_dir():
            found.append((path, True))
            continue
        images = sorted(
            p for p in path.iterdir() if p.suffix.lower() in EXTENSIONS and p.name[0] != "."
        )
        found += [(image, True) for image in images] or [(path, False)]
    return found


def preview_paths(files: list[Path], folder: Path | None, inputs: list[Path]) -> list[Path]:
    """Where each file's preview goes: folder/<name>-28x28.png, numbered where two names
    meet, and never the path of an input."""
    if folder is None:
        return []
    make_folder(folder, "--preview")
    taken = {path.resolve() for path in inputs}
    paths = []
    for file in files:
        candidate, number = folder / f"{file.stem}{PREVIEW_SUFFIX}", 1
        while candidate.resolve() in taken:
            number += 1
            candidate = folder / f"{file.stem}-{number}{PREVIEW_SUFFIX}"
        taken.add(candidate.resolve())
        paths.append(candidate)
    return paths


def print_reading(
    file: Path, x: np.ndarray, reading: Reading, args: argparse.Namespace, preview: Path | None
) -> None:
    if args.json:
        record = {"file": str(file), **reading.to_json()}
        if preview is not None:
            record["preview"] = str(preview)
        print(json.dumps(record))
        return
    (label, p_best), (second, p_second) = reading.prediction, reading.runner_up
    print(
        f"{printable(str(file))}: {label} ({probability(p_best, 1)}), runner-up {second} "
        f"({probability(p_second, 1)})"
    )
    if args.show:
        print(text_picture(x))


def text_picture(x: np.ndarray) -> str:
    """The 28x28 input as 28 lines of characters, darker to lighter ink, two per pixel."""
    levels = np.minimum((np.asarray(x).reshape(28, 28) * len(SHADES)).astype(int), len(SHADES) - 1)
    return "\n".join("".join(SHADES[level] * 2 for level in row) for row in levels)


def note(line: str) -> None:
    """A line for the user on stderr (stdout holds the readings only)."""
    print(f"scratchnet: {line}", file=sys.stderr)
