"""The training loop: epochs of gradient steps, history, early stopping, callbacks.

An epoch is one pass over the training rows: a single full-batch step (the tutorial's
gradient descent, where an epoch is an iteration) or one step per mini-batch of a fresh
permutation of row indices (the data itself is never copied; see batching.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import TrainingDivergedError
from ..nn.dropout import Dropout
from ..nn.optimizers import Optimizer
from ..nn.parameters import Parameters
from ..nn.propagation import (
    ROWS_PER_CHUNK,
    Model,
    Workspace,
    add_weight_decay_,
    gradient,
    measure,
)
from ..nn.schedules import Schedule
from .batching import Dataset, Feeder
from .callbacks import Callback
from .history import History


@dataclass(frozen=True)
class TrainingConfig:
    learning_rate: float
    epochs: int
    batch_size: int | None
    optimizer: Optimizer
    schedule: Schedule
    weight_decay: float
    patience: int | None
    log_every: int


def train(
    model: Model,
    data: Dataset,
    validation: Dataset | None,
    config: TrainingConfig,
    rng: np.random.Generator | np.random.RandomState,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Fit ``model.parameters`` in place; return the history of logged epochs.

    Overflow is not warned about: an infinity that reaches the cost stops training with
    TrainingDivergedError, and one squashed by a sigmoid or tanh is its exact limit.
    """
    loop = _Loop(model, data, validation, config, rng, callbacks)
    with np.errstate(over="ignore", invalid="ignore"):
        return loop.run()


class _Loop:
    def __init__(self, model, data, validation, config, rng, callbacks):
        self.model, self.data, self.validation = model, data, validation
        self.config, self.rng, self.callbacks = config, rng, list(callbacks)
        batch = config.batch_size or len(data)
        rows = min(batch, len(data), ROWS_PER_CHUNK)
        params = model.parameters
        hidden = params.widths[1:-1]
        self.workspace = Workspace(params.widths, rows, params.flat.dtype, model.dropout > 0)
        self.dropout = (
            Dropout(model.dropout, hidden, rows, params.flat.dtype) if model.dropout else None
        )
        self.feeder = Feeder(data, rows)
        self.grads = params.zeros_like()
        self.state = config.optimizer.init(params.flat)
        self.steps_per_epoch = math.ceil(len(data) / batch)
        self.step = 0
        self.history = History()
        self.best: Parameters | None = None
        self.best_loss = math.inf
        self.records_since_best = 0
        if validation is not None:
            eval_rows = min(len(validation), ROWS_PER_CHUNK)
            self.eval_workspace = Workspace(params.widths, eval_rows, params.flat.dtype)
            self.eval_feeder = Feeder(validation, eval_rows)

    def run(self) -> History:
        config = self.config
        for callback in self.callbacks:
            callback.on_train_begin(config.epochs, self.steps_per_epoch)
        for epoch in range(config.epochs):
            lr = config.schedule(config.learning_rate, epoch, config.epochs)
            loss, accuracy = self._epoch(epoch, lr)
            record = None
            if epoch % config.log_every == 0 or epoch == config.epochs - 1:
                record = self._record(epoch, lr, loss, accuracy)
            for callback in self.callbacks:
                callback.on_epoch_end(epoch, record)
            if record is not None and self._should_stop(record):
                self.history.stopped_early = True
                break
        if self.best is not None:
            np.copyto(self.model.parameters.flat, self.best.flat)
        for callback in self.callbacks:
            callback.on_train_end(self.history)
        return self.history

    def _epoch(self, epoch: int, lr: float) -> tuple[float, float]:
        """One pass over the data; returns mean loss and accuracy over its batches."""
        loss_sum = correct = 0
        for batch in self._batches():
            batch_loss, batch_correct, size = self._gradient_step(batch, lr, epoch)
            loss_sum += batch_loss
            correct += batch_correct
            for callback in self.callbacks:
                callback.on_step_end(epoch, self.step, batch_loss / size)
        return loss_sum / len(self.data), correct / len(self.data)

    def _batches(self) -> Iterator[slice | np.ndarray]:
        size, n = self.config.batch_size, len(self.data)
        if size is None or size >= n:
            yield self.data.all_rows()
            return
        order = self.rng.permutation(n)
        if self.data.rows is not None:
            order = self.data.rows[order]
        for start in range(0, n, size):
            yield order[start : start + size]

    def _gradient_step(self, batch, lr: float, epoch: int) -> tuple[float, int, int]:
        """Gradient of the mean loss over ``batch``, then one optimizer update."""
        model, grads = self.model, self.grads
        size = batch.stop - batch.start if isinstance(batch, slice) else len(batch)
        loss_sum, correct = self._gradient(batch, 1.0 / size)
        self.step += 1
        if not math.isfinite(loss_sum):
            raise TrainingDivergedError(
                f"training diverged: the cost became {loss_sum} at iteration {self.step} "
                f"(epoch {epoch + 1}) with learning rate {lr:g}; try a smaller learning rate"
            )
        if self.config.weight_decay:
            add_weight_decay_(grads, model.parameters, self.config.weight_decay)
        self.config.optimizer.update_(model.parameters.flat, grads.flat, self.state, lr)
        return loss_sum, correct, size

    def _gradient(self, batch, scale: float) -> tuple[float, int]:
        """Write ``scale * sum of dL/dparams`` over the batch into ``self.grads``."""
        loss_sum, correct = 0.0, 0
        for index, (x, t) in enumerate(self.feeder.chunks(batch)):
            masks = self.dropout.draw(self.rng, len(x)) if self.dropout else None
            chunk_loss, chunk_correct = gradient(
                self.model, self.grads, x, t, self.data.active, self.workspace, scale,
                masks, accumulate=index > 0,
            )  # fmt: skip
            loss_sum += chunk_loss
            correct += chunk_correct
        return loss_sum, correct

    def _record(self, epoch: int, lr: float, loss: float, accuracy: float) -> dict:
        record = {
            "epoch": epoch,
            "step": self.step,
            "lr": lr,
            "loss": loss,
            "accuracy": accuracy,
            "val_loss": None,
            "val_accuracy": None,
        }
        if self.validation is not None:
            record["val_loss"], record["val_accuracy"] = evaluate(
                self.model, self.eval_feeder, self.eval_workspace
            )
        self.history.records.append(record)
        return record

    def _should_stop(self, record: dict) -> bool:
        """Early stopping on validation loss; keeps a copy of the best weights."""
        patience = self.config.patience
        if patience is None or record["val_loss"] is None:
            return False
        if record["val_loss"] < self.best_loss:
            self.best_loss = record["val_loss"]
            self.history.best_epoch = record["epoch"]
            if self.best is None:
                self.best = self.model.parameters.copy()
            else:
                np.copyto(self.best.flat, self.model.parameters.flat)
            self.records_since_best = 0
            return False
        self.records_since_best += 1
        return self.records_since_best >= patience


def evaluate(model: Model, feeder: Feeder, workspace: Workspace) -> tuple[float, float]:
    """Mean loss and accuracy of the model on the feeder's data (no dropout)."""
    data = feeder.data
    loss_sum, correct = 0.0, 0
    for x, t in feeder.chunks(data.all_rows()):
        chunk_loss, chunk_correct = measure(model, x, t, data.active, workspace)
        loss_sum += chunk_loss
        correct += chunk_correct
    return loss_sum / len(data), correct / len(data)
