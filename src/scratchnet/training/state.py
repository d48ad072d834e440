"""Where a training run stands: everything it needs to go on exactly as if it had never
stopped (parameters, optimizer state, random generator, history, early-stopping state)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ..nn.parameters import Parameters
from .history import History

RandomSource = np.random.Generator | np.random.RandomState


@dataclass
class TrainingState:
    """The state of a run after ``epochs_done`` epochs and ``steps_done`` updates.

    ``optimizer_state`` is the optimizer's dict of arrays and counters; ``best`` holds
    the weights of the best record so far (early stopping), ``best_loss`` its validation
    cost and ``records_since_best`` how many records have not improved on it;
    ``first_loss`` is the cost of the first step, against which an exploding cost is
    judged.
    """

    parameters: Parameters
    optimizer_state: dict
    rng: RandomSource
    epochs_done: int = 0
    steps_done: int = 0
    history: History = field(default_factory=History)
    best: Parameters | None = None
    best_loss: float = math.inf
    records_since_best: int = 0
    first_loss: float | None = None

    def snapshot(self) -> TrainingState:
        """An independent copy: later training changes nothing in it."""
        return TrainingState(
            parameters=self.parameters.copy(),
            optimizer_state=copy.deepcopy(self.optimizer_state),
            rng=copy.deepcopy(self.rng),
            epochs_done=self.epochs_done,
            steps_done=self.steps_done,
            history=self.history.copy(),
            best=None if self.best is None else self.best.copy(),
            best_loss=self.best_loss,
            records_since_best=self.records_since_best,
            first_loss=self.first_loss,
        )
