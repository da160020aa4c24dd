"""The period grammar of `/report`: what a head may type, turned into local dates.

No argument is the month to date; ``thang``/``quy``/``nam`` (with or without diacritics, or in
English) this month, quarter or year to date; ``YYYY-MM`` or ``MM/YYYY`` that month, up to
today when it is the current one. A period that cannot be read raises `PeriodError`, whose
`key` names the reply text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PERIOD_WORDS = {
    "thang": "month_to_date",
    "tháng": "month_to_date",
    "month": "month_to_date",
    "quy": "quarter_to_date",
    "quý": "quarter_to_date",
    "quarter": "quarter_to_date",
    "nam": "year_to_date",
    "năm": "year_to_date",
    "year": "year_to_date",
}
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$|^(\d{1,2})/(\d{4})$")
_DATEISH = re.compile(r"^[\d/.-]+$")


class PeriodError(ValueError):
    """The period argument is not understood; `key` and `params` name the reply text."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date


def is_period(token: str) -> bool:
    """Whether an argument is meant as a period (a word or something date-like)."""
    return token.lower() in PERIOD_WORDS or bool(_DATEISH.match(token)) or token.isalpha()


def parse_period(token: str | None, today: date) -> Period:
    """No argument: the month to date; thang/quy/nam: this month/quarter/year to date;
    YYYY-MM (or MM/YYYY): that month, to today when it is the current one."""
    # Imported when a period is read (for a report), not with the bot: scoring.frames loads
    # pandas.
    from scoring.frames import period

    if token is None:
        return Period(*period("month_to_date", today))
    word = PERIOD_WORDS.get(token.strip().lower())
    if word is not None:
        return Period(*period(word, today))
    match = _MONTH.match(token.strip())
    if match is None:
        raise PeriodError("bad_period", arg=token[:40])
    year = int(match.group(1) or match.group(4))
    month = int(match.group(2) or match.group(3))
    if not 1 <= month <= 12:
        raise PeriodError("bad_period", arg=token[:40])
    if year < 2000:
        raise PeriodError("too_old")
    first = date(year, month, 1)
    if first > today:
        raise PeriodError("future_period", month=f"{month:02d}/{year}")
    start, end = period("month", first)
    return Period(start, min(end, today))


__all__ = ["PERIOD_WORDS", "Period", "PeriodError", "is_period", "parse_period"]
