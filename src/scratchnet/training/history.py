"""The record of a training run."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """One record per logged epoch: epoch, step, lr, loss, accuracy, val_loss, val_accuracy.

    Training metrics are means over the epoch's batches as they were drawn (for full-batch
    training: the forward pass before the update); validation metrics are measured with
    the weights at the end of the epoch.
    """

    records: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def column(self, key: str) -> list:
        return [record[key] for record in self.records]

    def to_dict(self) -> dict:
        return {
            "records": self.records,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
        }
