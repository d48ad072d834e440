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


def describe(record: dict, validation_label: str = "validation") -> str:
    """One line for a history record: cost and accuracy, then the monitored set's."""
    parts = [f"cost {record['loss']:.6f}", f"train accuracy {record['accuracy']:.2%}"]
    if record.get("val_loss") is not None:
        parts += [
            f"{validation_label} cost {record['val_loss']:.6f}",
            f"{validation_label} accuracy {record['val_accuracy']:.2%}",
        ]
    return ", ".join(parts)


class ProgressBar(Callback):
    """tqdm progress with the running cost of the epoch.

    Full-batch training gets one bar over its iterations and prints each logged record
    on its own line; mini-batch training gets one bar per epoch over its batches, which
    ends with the epoch's validation metrics.
    """

    def __init__(self, validation_label: str = "validation"):
        self.validation_label = validation_label
        self.bar = None

    def on_train_begin(self, epochs, steps_per_epoch):
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.full_batch = steps_per_epoch == 1
        if self.full_batch:
            self.bar = tqdm(total=epochs, unit="iteration", desc="training")
        self._reset_running_cost()

    def on_step_end(self, epoch, step, loss):
        if self.bar is None:
            self.bar = tqdm(
                total=self.steps_per_epoch, unit="batch", desc=f"epoch {epoch + 1}/{self.epochs}"
            )
        self.loss_sum += loss
        self.steps += 1
        self.bar.update(1)
        now = time.monotonic()
        if now - self.last_refresh > REFRESH_SECONDS:
            self.bar.set_postfix_str(f"cost {self.loss_sum / self.steps:.4g}", refresh=False)
            self.last_refresh = now

    def on_epoch_end(self, epoch, record):
        self._reset_running_cost()
        if self.full_batch:
            if record is not None:
                tqdm.write(f"iteration {epoch}: {describe(record, self.validation_label)}")
            return
        if record is not None:
            self.bar.set_postfix_str(describe(record, self.validation_label))
        self.bar.close()
        self.bar = None

    def on_train_end(self, history):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _reset_running_cost(self):
        self.loss_sum, self.steps, self.last_refresh = 0.0, 0, 0.0
