"""The record of a training run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import InvalidArgumentError

RECORD_KEYS = (
    "epoch", "step", "lr", "loss", "accuracy",
    "train_loss", "train_accuracy", "val_loss", "val_accuracy",
)  # fmt: skip


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
    accuracies are None.

    ``best_epoch`` is the ``epoch`` of the record with the lowest validation cost when
    early stopping was on (its weights are the ones kept); ``stopped_early`` says whether
    patience ran out before the last epoch.
    """

    records: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

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


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
