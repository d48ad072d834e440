"""Hooks into the training loop, and the progress display built on them.

Epochs and steps are counted from 1 everywhere: ``epoch`` is the epoch in progress (in
``on_step_end``) or just completed (in ``on_epoch_end``), ``step`` the number of updates
done. Records carry their own ``epoch``: the number of epochs completed when their
weights were measured (see ``History``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable

from ..errors import InvalidTypeError
from ..metrics import percent
from ..validation import check_flag

REFRESH_SECONDS = 0.2


class StopTraining(Exception):
    """Raise it in ``on_step_end`` or ``on_epoch_end`` to end the run once the epoch in
    progress is over: a time budget, an accuracy reached. The run then ends as if that
    epoch were its last (the learning-rate schedule keeps the planned length): its
    record is logged (one ``log_every`` skips reaches ``on_train_end``'s history, not
    ``on_epoch_end``, which has run), the remaining callbacks still hear of the epoch,
    and early stopping's best weights (with ``patience``) are kept. A checkpoint goes on
    from its last write, as after any fit: ``resume=True`` trains on to the planned end,
    reaching what a run never stopped reaches. In ``on_train_begin`` it is refused; in
    ``on_train_end`` it changes nothing."""


class Callback:
    """Override what you need; every hook is optional."""

    def on_train_begin(self, epochs: int, steps_per_epoch: int) -> None:
        """Called once before the first epoch."""

    def on_step_end(self, epoch: int, step: int, loss: float) -> None:
        """Called after every parameter update with the mean loss of its batch (raise
        StopTraining to end the run after this epoch)."""

    def on_epoch_end(self, epoch: int, record: dict | None) -> None:
        """Called after every epoch; ``record`` is a copy of the history entry logged
        during it, if one was (in full-batch training it describes the weights before
        the epoch's update). Raise StopTraining to end the run here."""

    def on_train_end(self, history) -> None:
        """Called once when training stops (in full-batch training the history's last
        record then describes the final weights)."""


def describe(record: dict, validation_label: str = "validation") -> str:
    """One line for a history record, each number labelled with what it measures (a
    regression's records have no accuracy)."""
    if record["train_loss"] is not None and record["train_loss"] == record["loss"]:
        parts = _measured("cost", record["loss"], "train accuracy", record["accuracy"], 6)
    else:
        parts = _measured("batch cost", record["loss"], "batch accuracy", record["accuracy"], 4)
        if record["train_loss"] is not None:
            parts += _measured(
                "train cost", record["train_loss"], "train accuracy", record["train_accuracy"], 4
            )
    if record["val_loss"] is not None:
        parts += _measured(
            f"{validation_label} cost", record["val_loss"],
            f"{validation_label} accuracy", record["val_accuracy"], 6,
        )  # fmt: skip
    return ", ".join(parts)


def _measured(cost_label: str, cost: float, accuracy_label: str, accuracy, digits: int) -> list:
    parts = [f"{cost_label} {cost:.{digits}f}"]
    if accuracy is not None:
        parts.append(f"{accuracy_label} {percent(accuracy)}")
    return parts


def early_stop_summary(history, unit: str = "epoch") -> str:
    """'stopped early after epoch 12: the validation cost last improved at epoch 9, whose
    weights are kept' (``unit``: epoch or iteration)."""
    last, best = history.records[-1]["epoch"], history.best_epoch
    return (
        f"stopped early after {unit} {last}: the validation cost last improved at "
        f"{unit} {best}, whose weights are kept"
    )


class ProgressBar(Callback):
    """Progress bars on stderr, records as lines.

    Full-batch training: one bar over the iterations, and each logged record printed on
    its own line of stdout (``iteration i: ...``, the weights after i updates), as the
    tutorial prints its costs: ``> costs.txt`` keeps them. Mini-batch training: one bar
    per epoch over its batches with the running cost, replaced at the epoch's end by the
    line of its record (on stderr), whole whatever the terminal's width. When stderr is
    not a terminal (output piped to a file) there are no bars: the same line per epoch,
    or one per logged iteration.
    """

    def __init__(self, validation_label: str = "validation", bar: bool | None = None):
        self.validation_label = validation_label
        self.bar_wanted = None if bar is None else check_flag(bar, "bar")
        self.bar = None
        self.last_printed = None  # the epoch of the last record printed
        self.last_shown = None  # the epoch of the last epoch line with its record

    def on_train_begin(self, epochs, steps_per_epoch):
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.full_batch = steps_per_epoch == 1
        if self.bar_wanted is None:  # (no stderr at all: a program started without one)
            self.show_bar = sys.stderr is not None and sys.stderr.isatty()
        else:
            self.show_bar = self.bar_wanted and sys.stderr is not None
        self.last_printed = self.last_shown = None
        self._reset_running_cost()

    def on_step_end(self, epoch, step, loss):
        if not self.show_bar:
            return
        if self.bar is None:
            self.bar = self._new_bar(epoch)
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
                self._print_iteration(record)
            return
        line = f"epoch {epoch}/{self.epochs}" + (
            f": {describe(record, self.validation_label)}" if record is not None else ""
        )
        if record is not None:
            self.last_shown = epoch
        if self.bar is not None:  # erased on closing: a bar's end is cut to the terminal's
            self.bar.close()  # width, so the record gets a line of its own, as without bars
            self.bar = None
        _to_stderr(line)

    def on_train_end(self, history):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        final = history.records[-1] if history.records else None
        if self.full_batch and final is not None and final["epoch"] != self.last_printed:
            self._print_iteration(final)  # the final weights (a resumed run's history
            # holds the records of the run before it, already printed then)
        unit = "iteration" if self.full_batch else "epoch"
        if history.stopped_early:
            _to_stderr(early_stop_summary(history, unit))
        elif final is not None and final["epoch"] < self.epochs:  # StopTraining's doing
            if not self.full_batch and final["epoch"] != self.last_shown:  # logged at the
                _to_stderr(f"epoch {final['epoch']}/{self.epochs}: "  # stop, after its line
                           f"{describe(final, self.validation_label)}")  # fmt: skip
            _to_stderr(f"stopped after {unit} {final['epoch']} of {self.epochs}: a callback "
                       "ended the run")  # fmt: skip

    def _new_bar(self, epoch: int):
        if self.full_batch:
            return _progress_bar(total=self.epochs, initial=epoch - 1, unit="iteration",
                                desc="training")  # fmt: skip
        return _progress_bar(total=self.steps_per_epoch, unit="batch",
                            desc=f"epoch {epoch}/{self.epochs}", leave=False)  # fmt: skip

    def _print_iteration(self, record: dict) -> None:
        line = f"iteration {record['epoch']}: {describe(record, self.validation_label)}"
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line, flush=True)
        self.last_printed = record["epoch"]

    def _reset_running_cost(self):
        self.loss_sum, self.steps, self.last_refresh = 0.0, 0, 0.0


def _to_stderr(line: str) -> None:
    """Print ``line`` on stderr, if the program has one (print would take stdout)."""
    if sys.stderr is not None:
        print(line, file=sys.stderr, flush=True)


def _progress_bar(**options):
    """A tqdm bar (a widget in a notebook). tqdm is imported here, when a bar is first
    shown: with the asyncio it brings it takes about 5 MiB, which a run without bars
    (the library's default, a piped command) should not hold."""
    from tqdm.auto import tqdm

    return tqdm(**options)


def check_callbacks(callbacks) -> list[Callback]:
    """The callbacks as a list (None: none), each an sn.Callback."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or not isinstance(callbacks, Iterable):
        raise InvalidTypeError(
            f"callbacks must be a list of sn.Callback objects, got {callbacks!r}"
        )
    callbacks = list(callbacks)
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise InvalidTypeError(
                f"callbacks must be sn.Callback objects (subclass sn.Callback), got {callback!r}"
            )
    return callbacks
