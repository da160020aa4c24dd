"""On time, early, late, overdue (domain.md §3): the rule as pure functions.

The rule for one case (`classify`, `classify_end`, the five values) is
`scoring.timeliness_rule`, plain Python the bot uses without pandas; it is importable from here
too. `classify_frame` applies it over a frame of cases. Storage evaluates the same rule in SQL
when a case ends (`storage.intake_sql.timeliness_sql`); both are tested against the same table
of cases.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from scoring.timeliness_rule import EARLY, LATE, ON_TIME, OPEN, OVERDUE, classify, classify_end


def classify_frame(cases: pd.DataFrame, *, today: date) -> pd.Series:
    """Vectorised `classify` over columns `ended` and `due` (datetimes or dates, NaT = none)."""
    ended = pd.to_datetime(cases["ended"]).dt.normalize()
    due = pd.to_datetime(cases["due"]).dt.normalize()
    day = pd.Timestamp(today)
    result = pd.Series(OPEN, index=cases.index, dtype="object")
    result[due.notna() & (due < day)] = OVERDUE
    has_end = ended.notna()
    result[has_end & (due.isna() | (ended == due))] = ON_TIME
    result[has_end & due.notna() & (ended < due)] = EARLY
    result[has_end & due.notna() & (ended > due)] = LATE
    return result


__all__ = [
    "EARLY",
    "LATE",
    "ON_TIME",
    "OPEN",
    "OVERDUE",
    "classify",
    "classify_end",
    "classify_frame",
]
