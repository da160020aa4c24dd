"""On time, early, late, overdue (domain.md §3): the rule as pure functions.

The rule compares local calendar dates. An ended case is early when its end date is strictly
before the promised date, on time when on it, late when after; a case ended without a promised
date counts as on time. An open case is overdue once its promised date is before `today`.
Storage evaluates the same rule in SQL when a case ends (`storage.intake_sql.timeliness_sql`);
both are tested against the same table of cases.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

OPEN = "open"
OVERDUE = "overdue"
EARLY = "early"
ON_TIME = "on_time"
LATE = "late"


def classify_end(ended: date, due: date | None) -> str:
    """Timeliness of a case that ended on `ended` and was promised for `due`."""
    if due is None or ended == due:
        return ON_TIME
    return EARLY if ended < due else LATE


def classify(*, ended: date | None, due: date | None, today: date) -> str:
    """Timeliness as the read API shows it on `today`."""
    if ended is not None:
        return classify_end(ended, due)
    if due is not None and due < today:
        return OVERDUE
    return OPEN


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
