"""``scratchnet predict``: the digit in image files, by a saved model.

Each file goes through ``scratchnet.data.images.load_image`` (the preprocessing the
draw-a-digit page uses too) and the readings come from ``app/readings.py``, one file at a
time: each answer is printed as soon as it is known, so an interruption keeps those
given. A file that cannot be read gets its own error line; the others are still
answered, and the exit status is 2 if any file failed. Options are checked, and the
preview folder made, before any image is read.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ...data.image_files import EXTENSIONS, FORMAT_NAMES
from ...data.images import load_image, write_mnist_png
from ...errors import ImageFileError, InvalidArgumentError
from ...metrics import probability
from ..arguments import (
    check_not_a_file,
    error_message,
    file_argument,
    json_document,
    make_folder,
    path_argument,
    printable,
)
from ..models import MODEL_HELP, STARTER_DATA_DIR_HELP, choose_model
from ..overwrite import FORCE_HELP, check_replaceable, png_is_ours
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
        "files",
        nargs="+",
        type=path_argument,
        metavar="FILE",
        help="image files, or folders of them",
    )
    predict.add_argument(
        "--model",
        type=file_argument,
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
        type=path_argument,
        metavar="DIR",
        help=f"write the 28x28 input the network saw as DIR/<file name without its "
        f"extension>{PREVIEW_SUFFIX}, numbered (-2{PREVIEW_SUFFIX}, ...) where names meet; "
        "each reading names its preview (default: none)",
    )
    predict.add_argument(
        "--recursive", action="store_true",
        help="read the images in the folders' subfolders too (default: only those directly "
        "in each folder given)",
    )  # fmt: skip
    predict.add_argument("--force", action="store_true", help=f"with --preview: {FORCE_HELP}")
    predict.add_argument("--data-dir", type=path_argument, help=STARTER_DATA_DIR_HELP)
    predict.set_defaults(handler=run, answers_on_stdout=True)


def run(args: argparse.Namespace) -> int:
    if args.force and args.preview is None:
        raise InvalidArgumentError("--force replaces preview files: it only works with --preview")
    files = [file for path in args.files for file in _found_in(path, args.recursive)]
    previews = preview_paths(files, args.preview, args.force, args.model)
    chosen = choose_model(args.model, args.data_dir, say=note)
    if args.preview is not None:  # made once the model is there: a failed start leaves none
        make_folder(args.preview, "--preview")
    failed = False
    for file, preview in zip(files, previews or [None] * len(files), strict=True):
        x = _loaded(file.path) if file.problem is None else file.problem
        if not isinstance(x, np.ndarray):  # the message that says what is wrong with it
            report_failure(file.path, x, args.json)
            failed = True
            continue
        if preview is not None and not _write_preview(preview, x):
            preview, failed = None, True
        [reading] = read_digits(chosen.net, x[np.newaxis])
        print_reading(file.path, x, reading, args, preview)
        sys.stdout.flush()  # each answer as soon as it is known, on a pipe too
    return EXIT_BAD_INPUT if failed else 0


def _loaded(file: Path) -> np.ndarray | str:
    """The file's network input, or the message that says why it cannot be read (a
    model file given among the images is told where it goes)."""
    try:
        return load_image(file)
    except ImageFileError as error:
        model = "; a model file? give it with --model" if file.suffix.lower() == ".npz" else ""
        return error_message(error) + model


class Found(NamedTuple):
    """A file to read, or a folder that holds none or cannot be read (``problem`` says
    so)."""

    path: Path
    problem: str | None = None


def _found_in(path: Path, recursive: bool) -> list[Found]:
    """``path`` itself if it is not a folder; else the image files in it (by extension,
    sorted, hidden ones left out), and with ``recursive`` in its subfolders too (walked
    in order, hidden ones and links to folders left out). The files of other names, the
    hidden files named as images (macOS's ``._digit.png`` copies, say) and the
    subfolders a search without ``recursive`` left out are said on stderr; a folder that
    cannot be read is a Found with its problem, in its place."""
    if not path.is_dir():
        return [Found(path)]
    found: list[Found] = []
    subfolders: list[str] = []
    others: list[str] = []  # files not named as images, from ``path``
    hidden: list[str] = []  # hidden files named as images, from ``path``

    def unreadable(error: OSError) -> None:  # in its place: os.walk calls it in order
        found.append(Found(Path(error.filename), _unreadable(error)))

    for folder, names, files in os.walk(path, onerror=unreadable):
        names[:] = sorted(name for name in names if not name.startswith("."))
        found += [Found(Path(folder, name)) for name in sorted(files) if _is_image_name(name)]
        others += [os.path.relpath(Path(folder, name), path) for name in sorted(files)
                   if not (name.startswith(".") or _is_image_name(name))]  # fmt: skip
        hidden += [os.path.relpath(Path(folder, name), path) for name in sorted(files)
                   if name.startswith(".") and _has_image_suffix(name)]  # fmt: skip
        if not recursive:  # (os.walk lists links to folders but never follows them)
            subfolders = [name for name in names if not Path(folder, name).is_symlink()]
            names[:] = []
    if others:
        note(printable(f"{path}: {len(others)} file(s) not read, their names not those of "
                       f"{FORMAT_NAMES} images ({_some(others)})"))  # fmt: skip
    if hidden:
        note(printable(f"{path}: {len(hidden)} hidden file(s) not read ({_some(hidden)}); "
                       "name one to read it"))  # fmt: skip
    if not found:
        return [Found(path, printable(f"{path}: a folder without {FORMAT_NAMES} images"
                                      f"{_not_searched(subfolders)}"))]  # fmt: skip
    if subfolders:
        note(printable(f"{path}: {_not_searched(subfolders).removeprefix(' directly in it; ')}"))
    return found


def _is_image_name(name: str) -> bool:
    return not name.startswith(".") and _has_image_suffix(name)


def _has_image_suffix(name: str) -> bool:
    return Path(name).suffix.lower() in EXTENSIONS


def _not_searched(subfolders: list[str]) -> str:
    """What a folder's search without --recursive left out, if anything."""
    if not subfolders:
        return ""
    return (f" directly in it; {len(subfolders)} subfolder(s) not searched "
            f"({_some(subfolders)}): --recursive reads them")  # fmt: skip


def _some(names: list[str]) -> str:
    """The first three names, and '...' for more."""
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def _unreadable(error: OSError) -> str:
    return printable(f"{error.filename}: cannot read the folder ({error.strerror or error})")


def report_failure(file: Path, problem: str, as_json: bool) -> None:
    """A line on stderr, and with --json an object on stdout in the file's place too."""
    note(f"error: {problem}")
    if as_json:
        print(json_document({"file": str(file), "error": problem}))


def _write_preview(preview: Path, x: np.ndarray) -> bool:
    """Write the preview, or say why it cannot be written (the reading is still given);
    whether it was written."""
    try:
        write_mnist_png(preview, x)
    except OSError as error:
        note(f"error: {error_message(error)}")
        return False
    return True


def preview_paths(
    files: list[Found], folder: Path | None, force: bool, model: Path | None = None
) -> list[Path | None]:
    """Where each file's preview goes: folder/<name>-28x28.png, numbered where two names
    meet, never the path of an input or of the ``model`` read, and replacing only a
    preview scratchnet wrote
    (else, unless ``force``, InvalidArgumentError before any image is read); None for a
    folder without images. The folder itself is made later (``make_folder``)."""
    if folder is None:
        return []
    check_not_a_file(folder, "--preview")
    taken = {file.path.resolve() for file in files} | ({model.resolve()} if model else set())
    paths = []
    for file in [file.path if file.problem is None else None for file in files]:
        if file is None:
            paths.append(None)
            continue
        candidate, number = folder / f"{file.stem}{PREVIEW_SUFFIX}", 1
        while candidate.resolve() in taken:
            number += 1
            candidate = folder / f"{file.stem}-{number}{PREVIEW_SUFFIX}"
        taken.add(candidate.resolve())
        check_replaceable(candidate, png_is_ours, "a preview", "--preview", force)
        paths.append(candidate)
    return paths


def print_reading(
    file: Path, x: np.ndarray, reading: Reading, args: argparse.Namespace, preview: Path | None
) -> None:
    if args.json:
        record = {"file": str(file), **reading.to_json()}
        if preview is not None:
            record["preview"] = str(preview)
        print(json_document(record))
        return
    (label, p_best), (second, p_second) = reading.prediction, reading.runner_up
    written = "" if preview is None else f"; preview {printable(str(preview))}"
    print(
        f"{printable(str(file))}: {label} ({probability(p_best, 1)}), runner-up {second} "
        f"({probability(p_second, 1)}){written}"
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
