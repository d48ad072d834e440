"""Hooks into the training loop, and the progress bar built on them."""

from __future__ import annotations

import time

from tqdm.auto import tqdm

REFRESH_SECONDS = 0.2


class Callback:
    """Override what you need; every hook is optional."""

    def on_train_begin(self, epochs: int, steps_per_epoch: int) -> None:
        """Called once before the first epoch."""

    def on_step_end(self, epoch: int, step: int, loss: float) -> None:
        """Called after every parameter update with the mean loss of its batch."""

    def on_epoch_end(self, epoch: int, record: dict | None) -> None:
        """Called after every epoch; ``record`` is the history entry when one was logged."""

    def on_train_end(self, history) -> None:
        """Called once when training stops."""


def describe(record: dict) -> str:
    """One line for a history record: loss, accuracy, validation metrics."""
    parts = [f"cost {record['loss']:.6f}", f"train accuracy {record['accuracy']:.2%}"]
    if record.get("val_loss") is not None:
        parts += [
            f"val cost {record['val_loss']:.6f}",
            f"val accuracy {record['val_accuracy']:.2%}",
        ]
    return ", ".join(parts)


class ProgressBar(Callback):
    """tqdm progress: one bar over iterations for full-batch training, one bar per
    epoch over its batches otherwise. Logged records are printed as they come."""

    def __init__(self, unit_name: str = "iteration"):
        self.unit_name = unit_name
        self.bar = None
        self.last_refresh = 0.0

    def on_train_begin(self, epochs, steps_per_epoch):
        self.epochs, self.full_batch = epochs, steps_per_epoch == 1
        self.steps_per_epoch = steps_per_epoch
        if self.full_batch:
            self.bar = tqdm(total=epochs, unit=self.unit_name, desc="training")

    def on_step_end(self, epoch, step, loss):
        if self.bar is None:
            self.bar = tqdm(
                total=self.steps_per_epoch, unit="batch", desc=f"epoch {epoch + 1}/{self.epochs}"
            )
        self.bar.update(1)
        now = time.monotonic()
        if now - self.last_refresh > REFRESH_SECONDS:
            self.bar.set_postfix_str(f"cost {loss:.4f}", refresh=False)
            self.last_refresh = now

    def on_epoch_end(self, epoch, record):
        if record is not None:
            label = "iteration" if self.full_batch else "epoch"
            number = record["epoch"] if self.full_batch else record["epoch"] + 1
            if self.full_batch:
                tqdm.write(f"{label} {number}: {describe(record)}")
            else:
                self.bar.set_postfix_str(describe(record))
        if not self.full_batch:
            self.bar.close()
            self.bar = None

    def on_train_end(self, history):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
