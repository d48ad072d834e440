"""Learning-rate schedules against their formulas."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest

from scratchnet.errors import InvalidArgumentError
from scratchnet.nn.schedules import Constant, Cosine, StepDecay, get_schedule


def test_constant_keeps_the_base_rate():
    assert [Constant()(0.1, e, 10) for e in (0, 5, 9)] == [0.1, 0.1, 0.1]


def test_step_decay_halves_every_interval():
    schedule = StepDecay(factor=0.5, every=10)
    assert [schedule(0.1, e, 40) for e in (0, 9, 10, 19, 20, 35)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]
    )


def test_step_decay_defaults_to_four_steps_over_the_run():
    schedule = StepDecay()
    assert [schedule(1.0, e, 40) for e in (0, 10, 20, 30, 39)] == [1.0, 0.5, 0.25, 0.125, 0.125]
    assert schedule(1.0, 2, 3) == 0.25  # a run shorter than four epochs decays every epoch
    # at each quarter of any run, three times in all (7 epochs were halved 6 times, to 1/64)
    assert [schedule(1.0, e, 7) for e in range(7)] == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]
    assert [schedule(1.0, e, 10) for e in range(10)][-1] == 0.125


def test_cosine_goes_from_the_base_rate_to_the_floor():
    schedule = Cosine(min_fraction=0.1)
    rates = [schedule(1.0, e, 10) for e in range(10)]
    assert rates[0] == 1.0
    assert rates[5] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 2)) / 2)
    assert rates[9] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 0.9)) / 2)
    assert all(a > b for a, b in pairwise(rates))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: get_schedule("linear"), "unknown schedule 'linear'; choose from constant"),
        (lambda: StepDecay(factor=0.0), r"factor must be a number in \(0, 1\]"),
        (lambda: StepDecay(factor="half"), r"factor must be a number in \(0, 1\], got 'half'"),
        (lambda: StepDecay(every=0), "interval must be an integer >= 1, got 0"),
        (lambda: StepDecay(every=2.5), "interval must be an integer >= 1, got 2.5"),
        (lambda: StepDecay(every="2"), "interval must be an integer >= 1, got '2'"),
        (lambda: Cosine(min_fraction=1.5), r"min_fraction must be a number in \[0, 1\]"),
        (lambda: Cosine(min_fraction=None), r"min_fraction must be a number in \[0, 1\]"),
    ],
)
def test_bad_schedule_settings_are_rejected(make, message):
    with pytest.raises(InvalidArgumentError, match=message):
        make()
