"""On time, early, late, overdue (domain.md §3): the rule for one case, in plain Python.

The rule compares local calendar dates. An ended case is early when its end date is strictly
before the promised date, on time when on it, late when after; a case ended without a promised
date counts as on time. An open case is overdue once its promised date is before `today`.
The bot classifies single cases with it at any time, without pandas; `scoring.timeliness`
applies it to frames.
"""

from __future__ import annotations

from datetime import date

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


__all__ = ["EARLY", "LATE", "ON_TIME", "OPEN", "OVERDUE", "classify", "classify_end"]
