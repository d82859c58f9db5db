"""Errors raised for bad user input, each naming the field, the value and what is accepted."""

from __future__ import annotations

import math
from typing import Any


class SpecError(ValueError):
    """A spec or option value that is out of its accepted range.

    The message is one line: ``<field>: got <value>; expected <accepted>`` (or ``<field>: <message>`` where a
    library already said what is wrong). Front ends (CLI, GUI) show it as it is, without a traceback.
    """

    def __init__(self, field: str, value: Any, accepted: str, message: str | None = None):
        self.field = field
        self.value = value
        self.accepted = accepted
        super().__init__(f"{field}: {message}" if message else f"{field}: got {value!r}; expected {accepted}")


def check_number(field: str, value: Any, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, integer: bool = False) -> None:
    """Check that ``value`` is a finite number inside ``[low, high]`` (``(low, high]`` with ``low_open``).

    Raises:
        SpecError: If the value is not a number, not finite, or out of range.
    """
    kind = "an integer" if integer else "a number"
    bounds = _describe_bounds(low, high, low_open)
    accepted = f"{kind} {bounds}".strip()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise SpecError(field, value, accepted)
    if not math.isfinite(value):
        raise SpecError(field, value, accepted)
    if low is not None and (value <= low if low_open else value < low):
        raise SpecError(field, value, accepted)
    if high is not None and value > high:
        raise SpecError(field, value, accepted)


def check_range(field: str, value: Any, low: float | None = None, high: float | None = None) -> None:
    """Check that ``value`` is an ordered pair ``(min, max)`` of numbers inside ``[low, high]``."""
    accepted = f"a pair (min, max) with min <= max {_describe_bounds(low, high, False)}".strip()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise SpecError(field, value, accepted)
    for item in value:
        check_number(field, item, low, high)
    if value[0] > value[1]:
        raise SpecError(field, value, accepted)


def check_pair(field: str, value: Any, low: float | None = None, high: float | None = None, *, low_open: bool = False) -> None:
    """Check that ``value`` is a pair of numbers, each inside the bounds (a size along x and y, say)."""
    accepted = f"a pair of numbers {_describe_bounds(low, high, low_open)}".strip()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise SpecError(field, value, accepted)
    for item in value:
        try:
            check_number(field, item, low, high, low_open=low_open)
        except SpecError:
            raise SpecError(field, value, accepted) from None


def _describe_bounds(low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}]"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"<= {high}"
    return ""
