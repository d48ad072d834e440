"""Running the command line in tests: in-process or through a real interpreter, and
what a user error must look like."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchnet.app.cli import main
from scratchnet.data.idx import read_idx

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXIT_USAGE = 2
RUN_FILES = ["accuracy.png", "cost.png", "metrics.json", "model.npz"]
# a run's report and its figures (tests/app/test_report.py checks them); the tutorial
# preset's report adds the tutorial's own two figures
REPORT_FILES = ["hidden_units.png", "reliability.png", "report.html"]
TUTORIAL_RUN_FILES = sorted([*RUN_FILES, *REPORT_FILES, "cross_entropy.png", "sigmoid.png"])
MINI_BATCH_RUN_FILES = sorted([*RUN_FILES, *REPORT_FILES])


def official_split(mnist_dir: Path, split: str, digits) -> tuple[np.ndarray, np.ndarray]:
    """Images of ``digits`` scaled to [0, 1] and their digit labels, read straight from
    the official files (split: 'train' or 't10k')."""
    images = read_idx(mnist_dir / f"{split}-images-idx3-ubyte.gz")
    labels = read_idx(mnist_dir / f"{split}-labels-idx1-ubyte.gz")
    keep = np.isin(labels, digits)
    return images[keep].reshape(-1, 784) / 255.0, labels[keep]


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def invoke(*argv) -> Outcome:
    """Run ``main`` in-process; argparse's SystemExit counts as a return code.

    Output is captured with redirect_stdout/stderr (not capsys) so that module-scoped
    fixtures can share one training run between tests.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as exit_:
            code = exit_.code
    return Outcome(code, out.getvalue(), err.getvalue())


def run_process(*argv, cwd: Path) -> Outcome:
    completed = subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    return Outcome(completed.returncode, completed.stdout, completed.stderr)


def assert_one_line_error(outcome: Outcome, *fragments: str) -> str:
    """Exit status 2 and a single stderr line, no traceback, naming the problem."""
    assert outcome.code == EXIT_USAGE, outcome
    assert "Traceback" not in outcome.err
    lines = outcome.err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{outcome.err}"
    assert lines[0].startswith("scratchnet"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC, path
    assert path.stat().st_size > 5_000, path


def leftover_temporaries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


def read_metrics(out: Path) -> dict:
    """metrics.json, parsed strictly: NaN and Infinity are not JSON."""

    def refuse(constant):
        raise ValueError(f"metrics.json holds {constant}, which JSON does not allow")

    return json.loads((out / "metrics.json").read_text(), parse_constant=refuse)


def train_quietly(mnist_dir: Path, out: Path, *options) -> Outcome:
    """A short training run that must succeed."""
    outcome = invoke("train", "--data-dir", mnist_dir, "--out", out, "--quiet", *options)
    assert outcome.code == 0, outcome
    return outcome
