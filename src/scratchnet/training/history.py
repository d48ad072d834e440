"""The record of a training run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import InvalidArgumentError
from ..nn.settings import real_number

RECORD_KEYS = (
    "epoch", "step", "lr", "loss", "accuracy",
    "train_loss", "train_accuracy", "val_loss", "val_accuracy",
)  # fmt: skip
COSTS = ("loss", "train_loss", "val_loss")
ACCURACIES = ("accuracy", "train_accuracy", "val_accuracy")
LARGEST_COUNT = 2**63  # what a count, an epoch or a step can be below


@dataclass
class History:
    """One record per logged point of a run, each describing one set of weights.

    A record holds ``epoch`` (the number of epochs completed when the weights were
    measured: the weights after that many epochs), ``step`` (updates done), ``lr`` (the
    learning rate of the epoch that produced the weights; for ``epoch`` 0 the first
    epoch's), and the metrics:

    - ``loss``, ``accuracy``: the training batches as they were trained on. In
      full-batch training that is the forward pass of all training rows with these
      weights, before the next update (the tutorial's "cost at iteration i"); in
      mini-batch training the mean over the epoch's batches as they were drawn (with
      dropout and distortions, if any) while the weights moved.
    - ``train_loss``, ``train_accuracy``: all training rows measured with these weights,
      without dropout or distortions; None when not measured (full-batch training without
      either measures them for free; otherwise ``fit(..., measure_training=True)`` does).
    - ``val_loss``, ``val_accuracy``: the validation set with these weights; None
      without validation data.

    With sample weights every loss and accuracy is a weighted mean; a regression's
    accuracies are None. Every loss is the data's alone: weight decay's penalty
    (lambda / 2 times the squared weights) is not in it, as in PyTorch's.

    ``best_epoch`` is the ``epoch`` of the record with the lowest validation cost when
    early stopping was on (its weights are the ones kept); ``stopped_early`` says whether
    patience ran out before the last epoch.
    """

    records: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def copy(self) -> History:
        """A copy with a record list of its own: records logged later are not in it. The
        records are shared, as a record is never changed once logged (a deep copy at
        every epoch's checkpoint state made a run of n logged epochs take n^2 / 2
        record copies: 5 ms an epoch after 2,000)."""
        return History(list(self.records), self.best_epoch, self.stopped_early)

    def column(self, key: str) -> list:
        """The value of ``key`` (one of RECORD_KEYS) in every record, in order."""
        if key not in RECORD_KEYS:
            raise InvalidArgumentError(
                f"a history record has no {key!r}; its keys are {', '.join(RECORD_KEYS)}"
            )
        return [record[key] for record in self.records]

    def to_dict(self) -> dict:
        """A JSON-ready copy: a non-finite number (only possible in a record of a run
        that diverged) becomes None, since JSON has no NaN or Infinity."""
        return {
            "records": [
                {key: _finite_or_none(value) for key, value in record.items()}
                for record in self.records
            ],
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
        }


# -- a history read from a file (a checkpoint, metrics.json): hostile input -----------------


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < LARGEST_COUNT


def is_number(value) -> bool:
    """A real number a float holds (not an integer of 400 digits); NaN and infinity
    stand for a diverged record's values."""
    return real_number(value) is not None and (
        not isinstance(value, int) or abs(value) < LARGEST_COUNT
    )


def is_record(record) -> bool:
    """Whether ``record`` has the form of a History record (``to_dict``'s: a value not
    measured, or not finite, is None)."""
    return (
        isinstance(record, dict)
        and all(key in record for key in RECORD_KEYS)
        and is_count(record["epoch"])
        and is_count(record["step"])
        and all(record[key] is None or is_number(record[key]) for key in RECORD_KEYS)
    )


def is_history(stored) -> bool:
    """Whether ``stored`` has the form of ``History.to_dict()``: records of that form,
    each with a validation or none of them; a best epoch (or None); stopped_early."""
    return (
        isinstance(stored, dict)
        and isinstance(stored.get("records"), list)
        and all(map(is_record, stored["records"]))
        and len({record["val_loss"] is None for record in stored["records"]}) <= 1
        and "best_epoch" in stored
        and (stored["best_epoch"] is None or is_count(stored["best_epoch"]))
        and isinstance(stored.get("stopped_early"), bool)
    )


def history_inconsistency(stored) -> str | None:
    """What in a history of ``is_history``'s form no run can have written: a best epoch
    that is none of its records' with a validation, a cost below 0, an accuracy outside
    [0, 1]; None if nothing."""
    records, best = stored["records"], stored["best_epoch"]
    with_validation = [r["epoch"] for r in records if r["val_loss"] is not None]
    if best is not None and best not in with_validation:
        return f"history.best_epoch {best} is not an epoch of its records with a validation"
    for record in records:
        if any(_outside(record[key], 0) for key in COSTS):
            return f"a cost below 0 in the record of epoch {record['epoch']}"
        if any(_outside(record[key], 0, 1) for key in ACCURACIES):
            return f"an accuracy outside [0, 1] in the record of epoch {record['epoch']}"
    return None


def _outside(value, low: float, high: float = math.inf) -> bool:
    """Whether ``value`` (a number, or None) is outside [low, high] (NaN is not)."""
    return value is not None and (value < low or value > high)


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
