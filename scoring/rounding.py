"""Rounding as published tables do it, in plain Python (no pandas): the bot rounds its own
figures with it at any time, and `scoring.frames.round_series` rounds columns with it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def is_missing(value: Any) -> bool:
    """Whether a scalar is missing: None, NaN, or pandas' NaT and NA (as `pandas.isna`)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are the values unequal to themselves
    except TypeError:  # pandas.NA: its comparisons give NA, which has no truth value
        return True


def round_half_up(value: Any, decimals: int) -> float:
    """Round a number the way published tables do (2.25 → 2.3), NaN/None → NaN.

    Python's and numpy's rounding go half-to-even on the binary value (72.25 → 72.2); the
    shortest decimal representation is rounded half away from zero instead.
    """
    if is_missing(value):
        return float("nan")
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


__all__ = ["is_missing", "round_half_up"]
