"""The tutorial's own NeuralNet class, loaded from the tutorial's text at run time.

The project does not contain the tutorial's code: this module finds the "Full Code
Implementation" listing in the tutorial text (../shared/seed/*.txt by default), drops the
listing's line numbers and everything after the class definition (its data loading needs
TensorFlow), and executes the class so the benchmark can time the original algorithm.
"""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_TEXTS = REPOSITORY.parent / "shared" / "seed"


def find_tutorial_text(path: str | Path | None = None) -> Path | None:
    """The tutorial text given, or the first one under ../shared/seed, or None."""
    if path is not None:
        return Path(path)
    candidates = sorted(DEFAULT_TEXTS.glob("*.txt")) if DEFAULT_TEXTS.is_dir() else []
    return candidates[0] if candidates else None


def load_tutorial_class(text_path: Path):
    """Execute the tutorial's listing up to its data loading; return its NeuralNet class."""
    text = text_path.read_text(encoding="utf-8")
    listing = text.split("Full Code Implementation", 1)[1].split("\nConclusion", 1)[0]
    lines = [line for line in listing.splitlines() if not re.fullmatch(r"\s*\d+\s*", line)]
    source = "\n".join(lines)
    source = source.split("\ndef dataset", 1)[0]
    source = source.replace("import tensorflow as tf", "")
    namespace: dict = {"__name__": "tutorial"}
    exec(compile(source, str(text_path), "exec"), namespace)
    return namespace["NeuralNet"]
