"""The training loop: epochs of gradient steps, history, early stopping, callbacks.

An epoch is one pass over the training rows: a single full-batch step (the tutorial's
gradient descent, where an epoch is an iteration) or one step per mini-batch of a fresh
permutation of row indices (the data itself is never copied; see batching.py).

Every record describes one set of weights (see ``History``). In full-batch training the
forward pass that gives a step's gradient also measures the weights it starts from, so
a record logged at epoch e is taken before that epoch's update, with the validation set
measured on the same weights; after the last update one more record measures the final
weights. In mini-batch training a record is logged after its epoch.

A run may continue a state that has trained before (``NeuralNet.partial_fit``): its
epochs, steps and history go on, and the weights its last record measured are not
recorded twice. Records of an output layer that does not classify (regression) have
accuracy None.

The run stops with TrainingDivergedError when a step's cost is not finite or explodes,
or when the final weights are not all finite; the state it was given is then left as it
was when the error arose, and ``NeuralNet`` keeps none of it. A cost explodes when it
exceeds EXPLOSION times the larger of the first step's cost and the cost of the best
constant prediction (``OutputLayer.constant_loss``): a run that starts from trained
weights (a warm start) has a first cost far below where a harmless first step can take
it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError, TrainingDivergedError
from ..nn.dropout import Dropout
from ..nn.optimizers import Optimizer, get_optimizer
from ..nn.parallel import Team, halves
from ..nn.propagation import (
    ROWS_PER_CHUNK,
    Columns,
    Model,
    Propagation,
    add_parts,
    add_weight_decay_,
)
from ..nn.schedules import Schedule, get_schedule
from ..validation import (
    check_flag,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_training_length,
)
from .batching import Dataset, Feeder
from .callbacks import Callback, StopTraining
from .history import RECORD_KEYS
from .state import TrainingState
from .threads import one_blas_thread

FULL_BATCH_ITERATIONS = 1000  # the defaults of fit's length and logging
MINI_BATCH_EPOCHS = 20
FULL_BATCH_LOG_EVERY = 100
EXPLOSION = 1e3  # a cost this many times its yardstick means the run diverged


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
    measure_training: bool = False
    augment: object | None = None  # distorts training images: augment.distort(x, rng, out)


class Checkpointer:
    """What the loop tells a checkpoint: the state at each epoch's end (a consistent
    point) and an interruption. See ``checkpoint.Checkpoint``."""

    def epoch_end(self, state: TrainingState) -> None:
        """Called after every epoch, with the state the next epoch starts from."""

    def interrupted(self) -> None:
        """Called when KeyboardInterrupt (Ctrl-C, or SIGTERM made one) stops the run."""


def train(
    model: Model,
    data: Dataset,
    validation: Dataset | None,
    config: TrainingConfig,
    state: TrainingState,
    callbacks: Sequence[Callback] = (),
    checkpoint: Checkpointer | None = None,
) -> TrainingState:
    """Run from ``state`` (a new one, or one restored from a checkpoint) to the last
    epoch; ``model.parameters`` is ``state.parameters`` and is trained in place.

    Overflow is not warned about: an infinity that reaches the cost stops training with
    TrainingDivergedError, and one squashed by a sigmoid or tanh is its exact limit.
    """
    team = Team()
    with np.errstate(over="ignore", invalid="ignore"), one_blas_thread():
        try:
            return _Loop(model, data, validation, config, state, callbacks, team).run(checkpoint)
        except KeyboardInterrupt:
            if checkpoint is not None:
                checkpoint.interrupted()
            raise
        finally:
            team.close()


def steps_per_epoch(rows: int, batch_size: int | None) -> int:
    """Updates in an epoch over ``rows`` rows: one for a full batch (no ``batch_size``,
    or one of all rows at least), else one per batch, the last one short."""
    if batch_size is None or batch_size >= rows:
        return 1
    return math.ceil(rows / batch_size)


def _constant_loss(output, data: Dataset) -> float:
    """The mean cost, over the training rows, of the best prediction that ignores the
    inputs; 0 (no yardstick) where it overflows (targets near the float64 limit)."""
    rows = data.all_rows()
    weights = None if data.weights is None else data.weights[rows]
    loss = output.constant_loss(data.targets[rows], weights)
    return loss if math.isfinite(loss) else 0.0


class _Loop:
    def __init__(self, model, data, validation, config, state, callbacks, team):
        assert model.parameters is state.parameters
        self.model, self.data, self.validation = model, data, validation
        self.config, self.state, self.callbacks = config, state, list(callbacks)
        self.steps_per_epoch = steps_per_epoch(len(data), config.batch_size)
        self.full_batch = self.steps_per_epoch == 1
        batch = len(data) if self.full_batch else config.batch_size
        rows = min(batch, len(data), ROWS_PER_CHUNK)
        params = model.parameters
        dtype = params.flat.dtype
        self.team = team
        self.columns = Columns(data.active)
        self.propagation = Propagation(
            model, self.columns, rows, team, model.dropout > 0, training=True
        )
        self.parts: list[np.ndarray] = []  # the last batch's gradient, in parts
        self.dropout = (
            Dropout(model.dropout, params.widths[1:-1], rows, dtype) if model.dropout else None
        )
        self.feeder = Feeder(data, rows, self._distorter(config.augment))
        self.grads = params.zeros_like()
        self.measurers: dict[int, Measurer] = {}
        self.constant_loss = _constant_loss(model.output, data)
        self.last_rate: float | None = None  # of this call's last update (an earlier
        # call's, which made the weights it starts from, is not known here)
        self.stop_asked = False  # a callback raised StopTraining
        self.unlogged: tuple | None = None  # (epoch, lr, loss, accuracy) of a mini-batch
        # epoch that logged no record

    # -- the run ---------------------------------------------------------------------------

    def run(self, checkpoint: Checkpointer | None) -> TrainingState:
        state, config = self.state, self.config
        try:
            for callback in self.callbacks:
                callback.on_train_begin(config.epochs, self.steps_per_epoch)
        except StopTraining:
            raise InvalidArgumentError(
                "StopTraining ends a run after an epoch: raise it in on_step_end or "
                "on_epoch_end (on_train_begin comes before the first)"
            ) from None
        stopped = False  # by early stopping
        while state.epochs_done < config.epochs and not (stopped or self.stop_asked):
            epoch = state.epochs_done + 1
            lr = config.schedule(config.learning_rate, epoch - 1, config.epochs)
            run_epoch = self._full_batch_epoch if self.full_batch else self._mini_batch_epoch
            record, stopped = run_epoch(epoch, lr)
            if checkpoint is not None and not stopped:  # first: what a callback shows of
                checkpoint.epoch_end(state)  # the epoch (its line) is then kept
            shown = None if record is None else dict(record)  # the history's stays as logged
            self._tell("on_epoch_end", epoch, shown)
            if self.stop_asked and self.unlogged is not None and not stopped:
                # logged as the last epoch is, after the checkpoint: a run resumed from
                # it goes on as one never stopped would, whose history lacks this record
                stopped = self._should_stop(self._record(*self.unlogged))
        if self.full_batch and not stopped:
            self._final_record()
        self._check_final_weights()
        # patience that runs out as the last epoch ends stops nothing (a full batch
        # stopped by it skips that epoch's update: then not every epoch is done)
        # (nor does patience that runs out as a callback ends the run)
        state.history.stopped_early = (
            stopped and state.epochs_done < config.epochs and not self.stop_asked
        )
        if config.patience is None:  # the weights kept are the last: a best epoch of an
            state.history.best_epoch = None  # earlier run (partial_fit's) is not theirs
        if state.best is not None:
            np.copyto(state.parameters.flat, state.best.flat)
        self._tell("on_train_end", state.history)  # (a StopTraining there changes nothing)
        return state

    def _tell(self, hook: str, *arguments) -> None:
        """Call every callback's ``hook``; one that raises StopTraining asks the run to
        end after this epoch, and the others are still called."""
        for callback in self.callbacks:
            try:
                getattr(callback, hook)(*arguments)
            except StopTraining:
                self.stop_asked = True

    def _full_batch_epoch(self, epoch: int, lr: float) -> tuple[dict | None, bool]:
        """Measure the weights after epoch - 1 updates with the forward pass of this
        step's gradient, log them if due, then update (unless patience ran out)."""
        loss_sum, correct, _ = self._gradient(self.data.all_rows(), 1.0 / len(self.data))
        loss, accuracy = loss_sum / len(self.data), accuracy_of(self.model, correct, len(self.data))
        self._check_cost(loss, epoch)
        record = None
        if (epoch - 1) % self.config.log_every == 0 and not self._recorded(epoch - 1):
            record = self._record(epoch - 1, self._rate_that_made(epoch - 1), loss, accuracy)
            if self._should_stop(record):
                return record, True
        self._update(lr)
        self.state.epochs_done = epoch
        self._tell("on_step_end", epoch, self.state.steps_done, loss)
        return record, False

    def _mini_batch_epoch(self, epoch: int, lr: float) -> tuple[dict | None, bool]:
        """One step per mini-batch, then the epoch's record if due."""
        loss_sum = correct = 0
        for batch in self._batches():
            size = batch.stop - batch.start if isinstance(batch, slice) else len(batch)
            batch_loss, batch_correct, batch_weight = self._gradient(batch, 1.0 / size)
            if batch_weight > 0:  # its own weighted mean cost; a batch that weighs nothing has none
                self._check_cost(batch_loss / batch_weight, epoch)
            self._update(lr)
            loss_sum += batch_loss
            correct += batch_correct
            self._tell("on_step_end", epoch, self.state.steps_done, batch_loss / size)
        self.state.epochs_done = epoch
        measured = (
            epoch,
            lr,
            loss_sum / len(self.data),
            accuracy_of(self.model, correct, len(self.data)),
        )
        if epoch % self.config.log_every != 0 and epoch != self.config.epochs:
            self.unlogged = measured  # logged if a callback ends the run at this epoch
            return None, False
        self.unlogged = None
        record = self._record(*measured)
        return record, self._should_stop(record)

    def _final_record(self) -> None:
        """Full-batch training: the weights after the last update, measured (without
        dropout, if there was any)."""
        epochs = self.state.epochs_done  # config.epochs, unless a callback ended the run
        loss, accuracy = self._measure(self.data)
        self._check_cost(loss, epochs, final=True)
        self._should_stop(self._record(epochs, self._rate_that_made(epochs), loss, accuracy,
                                       measured=True))  # fmt: skip

    def _rate_that_made(self, updates: int) -> float:
        """The learning rate of the update that produced the weights after ``updates``
        full-batch updates (the first update's for the initial weights)."""
        epoch_index = max(updates - 1, 0)
        return self.config.schedule(self.config.learning_rate, epoch_index, self.config.epochs)

    def _distorter(self, augment):
        """A fresh distortion of each training chunk, drawn from the run's generator."""
        if augment is None:
            return None
        return lambda x, out: augment.distort(x, self.state.rng, out)

    # -- steps -----------------------------------------------------------------------------

    def _batches(self) -> Iterator[slice | np.ndarray]:
        size, n = self.config.batch_size, len(self.data)
        order = self.state.rng.permutation(n)
        if self.data.rows is not None:
            order = self.data.rows[order]
        for start in range(0, n, size):
            yield order[start : start + size]

    def _gradient(self, batch, scale: float) -> tuple[float, float, float]:
        """Write ``scale * sum of dL/dparams`` over the batch into ``self.grads``; return
        the batch's summed loss, its correct predictions and its rows' summed weight (all
        weighted, when the rows are)."""
        loss_sum, correct, weight_sum = 0.0, 0, 0.0
        first_weight = self.columns.weight(self.model.parameters.layers[0].weight)
        for index, (x, t, weights) in enumerate(self.feeder.chunks(batch)):
            masks = self.dropout.draw(self.state.rng, len(x)) if self.dropout else None
            chunk_loss, chunk_correct = self.propagation.gradient(
                x, t, first_weight, scale, masks, accumulate=index > 0, weights=weights
            )
            loss_sum += chunk_loss
            correct += chunk_correct
            weight_sum += len(x) if weights is None else float(np.add.reduce(weights))
        self.parts = self.propagation.finish()
        return loss_sum, correct, weight_sum

    def _update(self, lr: float) -> None:
        """One optimizer step with the batch's gradient, the sum of its parts; the flat
        arrays are cut into halves updated side by side."""
        optimizer, state = self.config.optimizer, self.state
        coefficients = optimizer.advance(state.optimizer_state, lr)

        def update(span: slice) -> None:
            add_parts([part[span] for part in self.parts], self.grads.flat[span])
            if self.config.weight_decay:
                add_weight_decay_(self.grads, state.parameters, self.config.weight_decay, span)
            optimizer.update_span_(state.parameters.flat, self.grads.flat,
                                   state.optimizer_state, coefficients, span)  # fmt: skip

        self.team.map(update, [(span,) for span in halves(state.parameters.count)])
        state.steps_done += 1
        self.last_rate = lr

    def _check_cost(self, loss: float, epoch: int, final: bool = False) -> None:
        """Stop on a cost that is not finite or that exploded; ``final``: the cost of
        the final weights, after the last update."""
        state = self.state
        if state.first_loss is None and math.isfinite(loss) and loss > 0:
            state.first_loss = loss  # (a cost of exactly 0 is no yardstick)
        first = state.first_loss or 0.0
        yardstick = max(first, self.constant_loss)
        exploded = yardstick > 0 and loss > EXPLOSION * yardstick
        if math.isfinite(loss) and not exploded:
            return
        what = f"became {loss}" if not math.isfinite(loss) else (
            f"exploded to {loss:.6g}, over {EXPLOSION:g} times " + (
                f"its first value {first:.6g}," if first >= self.constant_loss else
                f"{self.constant_loss:.6g}, the cost of the best constant prediction (its "
                f"first value was {first:.6g}),"
            )
        )  # fmt: skip
        raise TrainingDivergedError(
            f"training diverged: the cost {what} {self._when(epoch, final)}"
        )

    def _when(self, epoch: int, final: bool) -> str:
        """Which weights a cost that diverged belongs to, the rate of the update that
        made them, and what to try: before any update the rate is not the cause, nor
        after a start far off."""
        done = self.state.steps_done
        if final:
            return f"after the last update (iteration {done}); {self._advice()}"
        if done == 0:
            return "on the initial weights, before any update: " + self._scaling_hint()
        weights = f"iteration {done}" if self.full_batch else f"step {done + 1} (epoch {epoch})"
        updates = f"{done} update" + ("s" if done > 1 else "")
        rate = "" if self.last_rate is None else f", the last with learning rate {self.last_rate:g}"
        return f"at {weights}, on the weights after {updates}{rate}; {self._advice()}"

    def _advice(self) -> str:
        """What to try about a run that diverged after updates: smaller steps, unless
        its first cost was already over EXPLOSION times that of a network that learned
        nothing (then inputs far too large for the initial weights made what followed),
        or the weight decay times the learning rate is over 1, when either may be the
        cause (gradient descent's w <- (1 - lr lambda) w - lr g then flips the weights'
        sign at every step, and past 2 grows them; Adam's squared gradient overflows
        sooner than with lambda small)."""
        first, scale = self.state.first_loss, self._know_nothing_loss()
        decay = self.config.weight_decay
        if decay * self.config.learning_rate > 1:
            return (f"try a smaller weight decay or learning rate (weight decay {decay:g} "
                    f"times learning rate {self.config.learning_rate:g} is over 1)")  # fmt: skip
        if first is None or not first > EXPLOSION * scale > 0:
            return "try a smaller learning rate"
        what = "predicting every class alike" if self.model.output.classifies else (
            "the best constant prediction")  # fmt: skip
        return (
            f"the initial weights already cost {first:.6g}, over {EXPLOSION:g} times the "
            f"{scale:.6g} of {what}: " + self._scaling_hint()
        )

    def _know_nothing_loss(self) -> float:
        """The cost of a network that learned nothing: for k classes, log k (the uniform
        prediction, which class imbalance does not shrink); for regression, the best
        constant prediction's."""
        if not self.model.output.classifies:
            return self.constant_loss
        return math.log(max(2, self.model.parameters.widths[-1]))

    def _scaling_hint(self) -> str:
        if self.model.output.name == "identity":  # a regression's cost is the targets'
            return (  # squared error too
                "the features or the targets are too large for them; scale the features (to "
                "[0, 1], say) and the targets (to a standard deviation of 1, say)"
            )
        return "the inputs are too large for them; scale the features (to [0, 1], say)"

    def _check_final_weights(self) -> None:
        if not np.all(np.isfinite(self.state.parameters.flat)):
            raise TrainingDivergedError(
                f"training diverged: the weights are not all finite after "
                f"{self.state.steps_done} updates; {self._advice()}"
            )

    # -- records ---------------------------------------------------------------------------

    def _recorded(self, epoch: int) -> bool:
        """Whether the history's last record already measures the weights after
        ``epoch`` epochs (a run continuing where a full-batch run ended)."""
        records = self.state.history.records
        return bool(records) and records[-1]["epoch"] == epoch

    def _record(
        self, epoch: int, lr: float, loss: float, accuracy: float, measured: bool = False
    ) -> dict:
        """Log the weights as they are now; ``measured``: loss and accuracy come from all
        training rows without dropout or distortions."""
        record = dict.fromkeys(RECORD_KEYS)
        record.update(epoch=epoch, step=self.state.steps_done, lr=lr, loss=loss, accuracy=accuracy)
        if measured or (self.full_batch and self.dropout is None and self.config.augment is None):
            record["train_loss"], record["train_accuracy"] = loss, accuracy
        elif self.config.measure_training:
            record["train_loss"], record["train_accuracy"] = self._measure(self.data)
        if self.validation is not None:
            record["val_loss"], record["val_accuracy"] = self._measure(self.validation)
        self.state.history.records.append(record)
        return record

    def _measure(self, data: Dataset) -> tuple[float, float | None]:
        """Mean loss and accuracy of the current weights on ``data``, without dropout."""
        if id(data) not in self.measurers:
            self.measurers[id(data)] = Measurer(self.model, data, self.team)
        return self.measurers[id(data)].measure()

    def _should_stop(self, record: dict) -> bool:
        """Early stopping on validation cost; keeps a copy of the best weights."""
        state, patience = self.state, self.config.patience
        if patience is None or record["val_loss"] is None:
            return False
        if record["val_loss"] < state.best_loss:
            state.best_loss = record["val_loss"]
            state.history.best_epoch = record["epoch"]
            if state.best is None:
                state.best = state.parameters.copy()
            else:
                np.copyto(state.best.flat, state.parameters.flat)
            state.records_since_best = 0
            return False
        state.records_since_best += 1
        return state.records_since_best >= patience


class Measurer:
    """Measures the model on one data set, chunk by chunk, with buffers of its own."""

    def __init__(self, model: Model, data: Dataset, team: Team):
        self.model, self.data = model, data
        self.columns = Columns(data.active)
        rows = min(len(data), ROWS_PER_CHUNK)
        self.feeder = Feeder(data, rows)
        self.propagation = Propagation(model, self.columns, rows, team)

    def measure(self) -> tuple[float, float | None]:
        """Mean loss and accuracy of the model's current weights on the data (no
        dropout; weighted means when the data has sample weights)."""
        first_weight = self.columns.weight(self.model.parameters.layers[0].weight)
        loss_sum, correct = 0.0, 0
        for x, t, weights in self.feeder.chunks(self.data.all_rows()):
            chunk_loss, chunk_correct = self.propagation.measure(x, t, first_weight, weights)
            loss_sum += chunk_loss
            correct += chunk_correct
        n = len(self.data)
        return loss_sum / n, accuracy_of(self.model, correct, n)


def accuracy_of(model: Model, correct: float, n: int) -> float | None:
    """The share of ``n`` rows predicted right (``correct`` counts weights when the rows
    are weighted: their mean is 1); None for an output layer that does not classify."""
    return correct / n if model.output.classifies else None


def training_config(
    *,
    learning_rate,
    n_iterations,
    epochs,
    batch_size,
    optimizer,
    schedule,
    weight_decay,
    patience,
    log_every,
    measure_training,
    augment=None,
) -> TrainingConfig:
    """Validate the training options; an epoch of full-batch training is one iteration."""
    check_training_length(batch_size=batch_size, n_iterations=n_iterations, epochs=epochs)
    full_batch = batch_size is None
    epochs = epochs if epochs is not None else n_iterations
    if epochs is None:
        epochs = FULL_BATCH_ITERATIONS if full_batch else MINI_BATCH_EPOCHS
    if log_every is None:
        log_every = FULL_BATCH_LOG_EVERY if full_batch else 1
    return TrainingConfig(
        learning_rate=check_positive_float(learning_rate, "learning_rate"),
        epochs=check_positive_int(epochs, "epochs" if n_iterations is None else "n_iterations"),
        batch_size=None if full_batch else check_positive_int(batch_size, "batch_size"),
        optimizer=get_optimizer(optimizer),
        schedule=get_schedule(schedule),
        weight_decay=check_non_negative_float(weight_decay, "weight_decay"),
        patience=None if patience is None else check_positive_int(patience, "patience"),
        log_every=check_positive_int(log_every, "log_every"),
        measure_training=check_flag(measure_training, "measure_training"),
        augment=augment,
    )
