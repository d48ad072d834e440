"""``scratchnet report``: build (or rebuild) a run folder's report.html."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...data.mnist import ENV_DATA_DIR
from ..arguments import path_argument, printable
from ..folder_lock import FolderLock
from ..interrupts import deferred
from ..overwrite import FORCE_HELP
from ..run_folder import clear_leftovers


def add_parser(commands) -> None:
    report = commands.add_parser(
        "report",
        help="build the HTML report of a run folder",
        description="Write report.html into RUN_DIR, with its figures also as PNG files: "
        "the run, its learning curves, the test set's confusion matrix and per-class "
        "scores, the most confident mistakes, the first hidden layer's weights and "
        "calibration. Built from RUN_DIR's model.npz and metrics.json and the MNIST test "
        "images; 'scratchnet train' writes the same report at the end of every run.",
    )
    report.add_argument(
        "run_dir",
        type=path_argument,
        metavar="RUN_DIR",
        help="a folder written by 'scratchnet train'",
    )
    report.add_argument(
        "--data-dir",
        type=path_argument,
        help="folder holding the MNIST test files (default: the folder the run read them "
        f"from, then ${ENV_DATA_DIR}, then the cache, downloading what is missing)",
    )
    report.add_argument("--force", action="store_true", help=FORCE_HELP)
    report.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with deferred():  # matplotlib is imported only when a report is built
        from ..report import write_report

    with _holding(args.run_dir):
        written = write_report(args.run_dir, args.data_dir, args.force)
    figures = ", ".join(path.name for path in written[1:])
    print(printable(f"wrote {written[0]} and its figures: {figures}"))
    return 0


@contextmanager
def _holding(folder: Path) -> Iterator[None]:
    """The run folder's lock, held while its report is built, so that no run publishes
    into it meanwhile (nor a report over a newer run); a folder that is not there is left
    for the report to name."""
    if not folder.is_dir():
        yield
        return
    lock = FolderLock(folder)
    notes = lock.acquire(what_to_do="wait for it, then build the report again")
    try:
        for note in [*notes, *clear_leftovers(folder)]:
            print(printable(f"scratchnet: {note}"), file=sys.stderr)
        yield
    finally:
        lock.release()
