"""What the commands share in parsing their options: validated argument types and the
command line's spelling of the library's parameters."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from ..atomic import SEPARATORS, system_reason
from ..data.mnist import ENV_DATA_DIR, MissingDataError
from ..errors import InvalidArgumentError, ScratchnetError

DATA_DIR_HELP = (
    f"folder holding the MNIST files (default: ${ENV_DATA_DIR}, then the cache, "
    "downloading what is missing)"
)


def checked(check: Callable, name: str, parse: Callable = int) -> Callable[[str], object]:
    """An argparse type: parse the text with ``parse``, then validate it with ``check``
    (a validation function taking the value and its name)."""
    kind = "a number" if parse is float else "an integer"

    def parse_and_check(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {kind}, got {text!r}") from None
        try:
            return check(value, name)
        except ScratchnetError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse_and_check.__name__ = name
    return parse_and_check


def path_argument(text: str) -> Path:
    """An argparse type: a path, never the empty text, which Path would read as the
    current folder (an unset shell variable, say)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path (is a shell variable unset?)")
    return Path(text)


def file_argument(text: str) -> Path:
    """An argparse type: the path of a file, which neither is empty nor ends in a
    separator (``model.onnx/`` names a folder; Path would drop the slash and read or
    write the file ``model.onnx``)."""
    if text.endswith(SEPARATORS):
        raise argparse.ArgumentTypeError(
            f"{text} ends in {text[-1]!r}, the name of a folder; give a file's name"
        )
    return path_argument(text)


def check_not_a_file(path: Path, option: str) -> None:
    """Refuse a folder ``path`` given as ``option`` that is a file, or a link to nothing
    (which no folder can be made at)."""
    if path.exists() and not path.is_dir():
        raise InvalidArgumentError(f"{option} {path} is a file, not a folder; choose a folder")
    if path.is_symlink() and not path.exists():
        raise InvalidArgumentError(
            f"{option} {path} is a link to {os.readlink(path)}, which does not exist; create "
            "that folder or choose another"
        )


def make_folder(path: Path, option: str) -> None:
    """Create the folder ``path`` given as ``option`` (and any missing parents), or say
    in one line why it cannot be."""
    check_not_a_file(path, option)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        why = (
            "a part of its path is a file, not a folder"
            if isinstance(error, NotADirectoryError)
            else system_reason(error)
        )
        raise InvalidArgumentError(
            f"cannot create the folder {path} for {option} ({why})"
        ) from None


def option_name(parameter: str) -> str | None:
    """How the command line spells a parameter of ``NeuralNet.fit`` (None: it has no
    such option)."""
    if parameter == "validation_data":
        return None
    if parameter == "n_iterations":
        return "--iterations"
    return "--" + parameter.replace("_", "-")


def words(values: Iterable) -> str:
    """'1 2' for (1, 2): how a list reads in help texts and messages."""
    return " ".join(map(str, values))


def error_message(error: BaseException) -> str:
    """What the command line says about a user error (or an interruption), in its own
    words, with what the command added to it (``add_note``), on one line (``printable``:
    a file's name may hold a line break or an escape sequence)."""
    note = getattr(error, NOTE, None)
    message = _described(error)
    return printable(f"{message}; {note}" if message and note else message or note or "")


def printable(text: str) -> str:
    """``text`` (a message, a file's name) as a terminal shows it on one line: control
    characters, which would break the line or drive the terminal (ESC), line separators
    and format characters (a right-to-left override) written out as \\n, \\r, \\t,
    \\xNN or \\uNNNN, and the bytes of a file name that are not UTF-8 (Python's
    surrogate escapes, which cannot be printed) as \\xNN too."""
    return "".join(_shown(character) for character in text)


def json_document(value, **options) -> str:
    """``value`` as JSON text of valid Unicode: in its strings, the bytes of a file name
    that are not UTF-8 (Python's surrogate escapes, which JSON would write as lone
    surrogates that strict parsers refuse) are written out as \\xNN, as ``printable``
    writes them."""
    return json.dumps(_bytes_written_out(value), **options)


def unicode_text(text: str) -> str:
    """``text`` with the bytes of a file name that are not UTF-8 (Python's surrogate
    escapes, which no UTF-8 file or page can hold) written out as \\xNN."""
    return "".join(_byte_named(character) for character in text)


def _bytes_written_out(value):
    if isinstance(value, str):
        return unicode_text(value)
    if isinstance(value, dict):
        return {_bytes_written_out(key): _bytes_written_out(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_bytes_written_out(item) for item in value]
    return value


def _byte_named(character: str) -> str:
    code = ord(character)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else character


def _shown(character: str) -> str:
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
        return _byte_named(character)
    if unicodedata.category(character) in UNSHOWN:
        return CONTROL_NAMES.get(character, f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return character


CONTROL_NAMES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Unicode categories written out: controls, lone surrogates, line and paragraph
# separators (str.splitlines breaks at them) and format characters (right-to-left
# overrides, which reorder what follows on screen)
UNSHOWN = ("Cc", "Cs", "Zl", "Zp", "Cf")


def add_note(error: BaseException, note: str) -> None:
    """Say ``note`` after ``error``'s own message (what is kept, how to go on), and after
    any note added before."""
    earlier = getattr(error, NOTE, None)
    setattr(error, NOTE, f"{earlier}; {note}" if earlier else note)


NOTE = "scratchnet_note"  # the attribute add_note sets


def _described(error: BaseException) -> str:
    if isinstance(error, MissingDataError):
        return (
            f"MNIST files not found: {', '.join(error.missing)} ({error.reason}); looked in "
            f"{', '.join(map(str, error.searched))}; give their folder with --data-dir DIR "
            f"or set ${ENV_DATA_DIR}"
        )
    if isinstance(error, OSError) and error.strerror:  # the system's, without "[Errno n]"
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    if isinstance(error, KeyboardInterrupt):
        return ""  # says nothing: the command line names the interruption
    return str(error)


def pasteable(path) -> str:
    """``path`` as one word of a command the user can paste into a shell (quoted when it
    holds spaces or other characters the shell would split or expand; ./ before a
    relative path that starts with -, which a command would take for an option)."""
    text = str(path)
    return shlex.quote(f"./{text}" if text.startswith("-") else text)
