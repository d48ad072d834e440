"""Reading a run's metrics.json back, as hostile input: every value the report and the
page read is checked to be what ``experiment.run_metrics`` writes, so a damaged file is
one DataFileError naming the value, never a crash deep inside a figure."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

from ..atomic import open_regular
from ..errors import DataFileError
from ..training.checkpoint import LONGEST_RUN
from ..training.history import (
    COSTS,
    RECORD_KEYS,
    history_inconsistency,
    is_count,
    is_history,
    is_number,
    is_record,
)

COUNTED_SETS = ("train", "validation", "test")
LARGEST_COST = 1e300  # what no classifier's run records: its figure's axis would overflow
MAX_METRICS_BYTES = 1 << 25  # a record takes about 250 bytes: 32 MiB hold some 130,000
# (a run of 1000 iterations writes 30 KB); parsing 160 MB of JSON took 1.8 GB


def read_metrics(path: Path) -> dict:
    """metrics.json as ``run_metrics`` wrote it (its values checked)."""
    try:
        with open_regular(path) as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_METRICS_BYTES:
                raise DataFileError(
                    f"{path}: {size:,} bytes, more than the {MAX_METRICS_BYTES:,} of any run's "
                    "metrics"
                )
            metrics = json.loads(file.read(MAX_METRICS_BYTES + 1).decode())
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file; is this a run folder?") from None
    except OSError as error:
        raise DataFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    except ValueError as error:  # not UTF-8, not JSON, or an integer over 4,300 digits
        raise DataFileError(f"{path}: not a JSON file ({error})") from None
    except RecursionError:  # valid JSON, nested deeper than the decoder goes
        raise DataFileError(
            f"{path}: not the metrics of a scratchnet run (nested too deeply)"
        ) from None
    missing = [key for key in CHECKS if not isinstance(metrics, dict) or key not in metrics]
    if missing:
        raise DataFileError(
            f"{path}: not the metrics of a scratchnet run (missing {', '.join(missing)})"
        )
    for key, (is_valid, expected) in CHECKS.items():
        if not is_valid(metrics[key]):
            raise DataFileError(f"{path}: {key} is damaged (expected {expected})")
    for key, (is_valid, expected, default) in LATER_KEYS.items():
        if not is_valid(metrics.setdefault(key, default)):
            raise DataFileError(f"{path}: {key} is damaged (expected {expected})")
    problem = _inconsistency(metrics)
    if problem is not None:
        raise DataFileError(f"{path}: {problem}; the file was changed after the run")
    return metrics


def _inconsistency(metrics: dict) -> str | None:
    """What in ``metrics`` (each value valid on its own) contradicts another value, or
    what no run can have written: the report would show both sides as true."""
    counts, history = metrics["counts"], metrics["history"]
    held_out = counts.get("validation", [0, 0])[1]
    if metrics["test_shape"][0] != counts["test"][1]:
        return f"test_shape has {metrics['test_shape'][0]} images, counts.test {counts['test'][1]}"
    if metrics["train_shape"][0] != counts["train"][1] + held_out:
        return (f"train_shape has {metrics['train_shape'][0]} images, counts.train and "
                f"counts.validation {counts['train'][1] + held_out}")  # fmt: skip
    if (metrics["monitored_set"] == "validation") != ("validation" in counts):
        return f"monitored_set is {metrics['monitored_set']!r} but counts disagree"
    if metrics["seconds_before_resuming"] > metrics["fit_seconds"]:
        return "seconds_before_resuming is more than fit_seconds, which include them"
    for name in COUNTED_SETS:  # (files written before these keys existed lack them)
        correct, total = counts.get(name, (None, None))
        right = None if total is None else correct / total
        if metrics.get(f"{name}_accuracy", right) != right:
            counted = f"{correct}/{total}" if total else "none"
            return (f"{name}_accuracy is {metrics[f'{name}_accuracy']!r:.20} but "
                    f"counts.{name} give {counted}")  # fmt: skip
    huge = [r["epoch"] for r in history["records"] if any(_huge(r[key]) for key in COSTS)]
    if huge:  # (a run stops when its cost grows a thousandfold; a figure of it would fail)
        return f"a cost over {LARGEST_COST:g} in the record of epoch {huge[0]}"
    return history_inconsistency(history)


def _huge(cost) -> bool:
    return cost is not None and LARGEST_COST < cost < math.inf


def _is_duration(value) -> bool:
    return is_number(value) and 0 <= value <= LONGEST_RUN


def _is_shape(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(map(is_count, value))


def _is_classifier_record(record) -> bool:
    """A record of a classifier's run: a cost and an accuracy in every one, the training
    and validation sets measured both ways or not at all."""
    return (
        is_record(record)
        and record["loss"] is not None
        and record["accuracy"] is not None
        and (record["train_loss"] is None) == (record["train_accuracy"] is None)
        and (record["val_loss"] is None) == (record["val_accuracy"] is None)
    )


def _is_history(value) -> bool:
    return (
        is_history(value)
        and len(value["records"]) > 0
        and all(map(_is_classifier_record, value["records"]))
    )


def _is_counts(value) -> bool:
    """{set: [correct, total]} for train and test (and validation, if held out)."""
    return (
        isinstance(value, dict)
        and {"train", "test"} <= value.keys() <= set(COUNTED_SETS)
        and all(map(_is_correct_of_total, value.values()))
    )


def _is_correct_of_total(pair) -> bool:
    """[correct, total] of a set that holds images: 0 <= correct <= total, total > 0."""
    return (
        isinstance(pair, list)
        and len(pair) == 2
        and all(map(is_count, pair))
        and pair[0] <= pair[1]
        and pair[1] > 0
    )


CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "config": (lambda value: isinstance(value, dict), "an object"),
    "data_files": (
        lambda value: isinstance(value, list) and all(isinstance(name, str) for name in value),
        "a list of file names",
    ),
    "train_shape": (_is_shape, "[images, pixels]"),
    "test_shape": (_is_shape, "[images, pixels]"),
    "cost_axis": (lambda value: value in ("iteration", "epoch"), '"iteration" or "epoch"'),
    "monitored_set": (lambda value: value in ("test", "validation"), '"test" or "validation"'),
    "history": (
        _is_history,
        f"records of {', '.join(RECORD_KEYS)}, each with a cost and an accuracy, a "
        "validation in all or none; best_epoch, stopped_early",
    ),
    "counts": (_is_counts, "[correct, total > 0] of the train and test sets"),
    "fit_seconds": (_is_duration, f"seconds, from 0 to {LONGEST_RUN:g}"),
    "versions": (
        lambda value: isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
        "names and versions",
    ),
}
# Keys that runs written by earlier versions lack, with the value that means the same.
LATER_KEYS: dict[str, tuple[Callable[[object], bool], str, object]] = {
    "seconds_before_resuming": (_is_duration, f"seconds, from 0 to {LONGEST_RUN:g}", 0.0),
}
