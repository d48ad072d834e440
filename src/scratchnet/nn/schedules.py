"""Learning-rate schedules: the rate used during epoch e of E (0-based), from base lr0.

For full-batch gradient descent an epoch is one iteration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .settings import check_positive_int, check_setting, named


class Schedule:
    name: str

    def __call__(self, lr0: float, epoch: int, epochs: int) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(Schedule):
    """lr(e) = lr0."""

    name = "constant"

    def __call__(self, lr0, epoch, epochs):
        return lr0


@dataclass(frozen=True)
class StepDecay(Schedule):
    """lr(e) = lr0 * factor ** floor(e / every); without ``every``,
    lr0 * factor ** floor(4 e / E): a step at each quarter of the run, three in all."""

    factor: float = 0.5
    every: int | None = None
    name = "step"

    def __post_init__(self):
        check_setting(self.factor, "step decay factor", lambda f: 0 < f <= 1, "(0, 1]")
        if self.every is not None:
            check_positive_int(self.every, "step decay interval")

    def __call__(self, lr0, epoch, epochs):
        steps = epoch // self.every if self.every else 4 * epoch // epochs
        return lr0 * self.factor**steps


@dataclass(frozen=True)
class Cosine(Schedule):
    """lr(e) = lr_min + (lr0 - lr_min) (1 + cos(pi e / E)) / 2,  lr_min = min_fraction lr0."""

    min_fraction: float = 0.0
    name = "cosine"

    def __post_init__(self):
        check_setting(self.min_fraction, "min_fraction", lambda f: 0 <= f <= 1, "[0, 1]")

    def __call__(self, lr0, epoch, epochs):
        lr_min = self.min_fraction * lr0
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * epoch / epochs)) / 2


SCHEDULES = {cls.name: cls for cls in (Constant, StepDecay, Cosine)}


def get_schedule(spec: str | Schedule) -> Schedule:
    """A Schedule instance, or the one called ``spec`` with its default settings."""
    if isinstance(spec, Schedule):
        return spec
    return named(spec, SCHEDULES, "schedule")()
