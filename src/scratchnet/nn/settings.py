"""Checks of the settings of nn's objects (optimizers, schedules), made when one is built."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

from ..errors import InvalidArgumentError


def check_setting(value, name: str, accepted: Callable[[float], bool], interval: str) -> None:
    """Refuse ``value`` unless it is a real number (a bool is not) that ``accepted``
    takes; ``interval`` says which, as in "[0, 1)"."""
    number = real_number(value)
    if number is None or not accepted(number):
        raise InvalidArgumentError(f"{name} must be a number in {interval}, got {value!r}")


def named(name, choices: dict, what: str):
    """``choices[name]``; InvalidArgumentError listing the choices for any other name,
    one that is not a string (a list, say) included."""
    if not isinstance(name, str) or name not in choices:
        raise InvalidArgumentError(f"unknown {what} {name!r}; choose from {', '.join(choices)}")
    return choices[name]


def real_number(value) -> float | None:
    """A real number as a float (infinite when too large for one, as 10**400 is); None
    for anything else, booleans included."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int, if it is an integer >= ``minimum`` (a bool is not); else
    InvalidArgumentError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
