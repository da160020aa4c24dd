"""The frames scoring works on: column names, topics, periods and rounding.

Scoring is a set of pure functions from pandas frames to pandas frames. Storage reads the
database into the input frames below (or runs the equivalent GROUP BY in SQL, see
`scoring.counts.counts_from_levels`) and stores what scoring returns; nothing in `scoring`
touches the database, the clock or the network.

Input frames
------------
ANSWERS — one row per stored answer (skipped answers may be left out or given with
``value_int`` NA; either way they are not valid answers):

    survey_id, case_code, agency_code, procedure_code, officer_name, question_code,
    factor (Int64, NA for a question that is not a criterion), topic (questionnaire topic),
    value_int (Int64: 1–5 for five-level questions, 1 = yes / 0 = no for yes-no questions),
    choices (list[str] or None, for choice questions), answered_at (datetime64, local, naive)

    plus, optionally, ``value_text`` (free text; the COMMENT answer). No column identifies the
    citizen and none must be added.

CASES — one row per case:

    case_code, agency_code, procedure_code, status (int, TrangThaiHoSo), received_at, due_at,
    ended_at (datetime64, local, naive, NaT when none), timeliness ("early", "on_time", "late"
    or None while open; as storage computed it when the case ended)

AGENCIES — the agency tree:

    code, parent_code (None for a root), name

COUNTS — the storable daily aggregate (`scoring.counts.daily_counts`): one row per
(day, agency_code, procedure_code, officer_name, question_code, factor) with n_valid,
n_satisfied and n1..n5. Summing counts over days gives any period.

Periods are inclusive ranges of local calendar dates [start, end]; `period` gives the usual
ones (day, month to date, quarter to date, year to date, and whole months, quarters, years).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from scoring.rounding import round_half_up
from scoring.rules import LEVELS

# --- ANSWERS ------------------------------------------------------------------------------
SURVEY_ID = "survey_id"
CASE_CODE = "case_code"
AGENCY_CODE = "agency_code"
PROCEDURE_CODE = "procedure_code"
OFFICER_NAME = "officer_name"
QUESTION_CODE = "question_code"
FACTOR = "factor"
TOPIC = "topic"
VALUE_INT = "value_int"
VALUE_TEXT = "value_text"
CHOICES = "choices"
ANSWERED_AT = "answered_at"

ANSWERS = (
    SURVEY_ID,
    CASE_CODE,
    AGENCY_CODE,
    PROCEDURE_CODE,
    OFFICER_NAME,
    QUESTION_CODE,
    FACTOR,
    TOPIC,
    VALUE_INT,
    CHOICES,
    ANSWERED_AT,
)

# --- CASES --------------------------------------------------------------------------------
STATUS = "status"
RECEIVED_AT = "received_at"
DUE_AT = "due_at"
ENDED_AT = "ended_at"
TIMELINESS = "timeliness"

CASES = (
    CASE_CODE,
    AGENCY_CODE,
    PROCEDURE_CODE,
    STATUS,
    RECEIVED_AT,
    DUE_AT,
    ENDED_AT,
    TIMELINESS,
)

# --- AGENCIES -----------------------------------------------------------------------------
CODE = "code"
PARENT_CODE = "parent_code"
NAME = "name"

AGENCIES = (CODE, PARENT_CODE, NAME)

# --- COUNTS -------------------------------------------------------------------------------
DAY = "day"
N_VALID = "n_valid"
N_SATISFIED = "n_satisfied"
LEVEL_COLUMNS = tuple(f"n{level}" for level in LEVELS)
COUNT_KEYS = (DAY, AGENCY_CODE, PROCEDURE_CODE, OFFICER_NAME, QUESTION_CODE, FACTOR)
COUNT_VALUES = (N_VALID, N_SATISFIED, *LEVEL_COLUMNS)
COUNTS = (*COUNT_KEYS, *COUNT_VALUES)

# --- daily responses (distinct surveys per day; `scoring.counts.daily_responses`) ----------
RESPONSES = "responses"
DAILY_RESPONSES = (DAY, SURVEY_ID, CASE_CODE, AGENCY_CODE, PROCEDURE_CODE, OFFICER_NAME)

# --- topics (bot/data/questionnaires.json) -------------------------------------------------
CRITERION = "criterion"
OVERALL = "overall"
MONEY_ASKED = "money_asked"
HARASSMENT = "harassment"
ON_TIME_TOPIC = "on_time"
VISITS = "visits"
EXPECTATIONS = "expectations"
REASON = "reason"
SUGGESTION = "suggestion"
# Topics answered on the five-level scale: what the daily counts hold.
LIKERT_TOPICS = frozenset({CRITERION, OVERALL})
COMPLAINT_TOPICS = frozenset({MONEY_ASKED, HARASSMENT})
YES = 1

FACTORS = (1, 2, 3, 4, 5)
FACTOR_COLUMNS = tuple(f"factor_{f}" for f in FACTORS)

# --- the report (interfaces.md "Report") ---------------------------------------------------
REPORT_COLUMNS = (
    "MaCoQuan",
    "responses",
    "sipas",
    *FACTOR_COLUMNS,
    "cases",
    "on_time_rate",
    "late",
    "overdue_open",
)

DateLike: TypeAlias = date | datetime | pd.Timestamp | str


def require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ValueError naming the columns `frame` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks columns: {', '.join(missing)}")


def group_keys(by: str | Sequence[str]) -> list[str]:
    """The grouping columns named by `by`: one column, several, or none (a grand total)."""
    return [by] if isinstance(by, str) else list(by)


def as_day(value: DateLike) -> pd.Timestamp:
    """A local calendar day as a midnight Timestamp."""
    return pd.Timestamp(value).normalize()


def local_day(values: pd.Series) -> pd.Series:
    """The local calendar day of each datetime (NaT stays NaT)."""
    return pd.to_datetime(values).dt.normalize()


def in_days(days: pd.Series, start: DateLike, end: DateLike) -> pd.Series:
    """Mask of `days` (datetimes, compared by calendar date) inside [start, end]."""
    d = local_day(days)
    return (d >= as_day(start)) & (d <= as_day(end))


def period(kind: str, on: DateLike) -> tuple[date, date]:
    """[start, end] of a named period that contains `on` (inclusive local dates).

    kinds: ``day``; ``month_to_date``, ``quarter_to_date``, ``year_to_date`` (end = `on`);
    ``month``, ``quarter``, ``year`` (the whole calendar period containing `on`).
    """
    day = as_day(on).date()
    quarter_first_month = 3 * ((day.month - 1) // 3) + 1
    if kind == "day":
        return day, day
    if kind == "month_to_date":
        return day.replace(day=1), day
    if kind == "quarter_to_date":
        return date(day.year, quarter_first_month, 1), day
    if kind == "year_to_date":
        return date(day.year, 1, 1), day
    if kind == "month":
        start = day.replace(day=1)
        return start, (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
    if kind == "quarter":
        start = date(day.year, quarter_first_month, 1)
        return start, (pd.Timestamp(start) + pd.offsets.QuarterEnd(0)).date()
    if kind == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise ValueError(f"unknown period kind: {kind!r}")


def round_series(values: pd.Series, decimals: int) -> pd.Series:
    """`round_half_up` over a series; the result is float64 with NaN where there is no value."""
    return pd.Series(
        [round_half_up(v, decimals) for v in values], index=values.index, dtype="float64"
    )


def natural_key(code: str) -> tuple[Any, ...]:
    """Sort key that orders E2 before E10 and 1.2 before 1.10."""
    parts: list[Any] = []
    token = ""
    digits = False
    for ch in str(code):
        if ch.isdigit() != digits and token:
            parts.append((0, int(token), "") if digits else (1, 0, token))
            token = ""
        digits = ch.isdigit()
        token += ch
    if token:
        parts.append((0, int(token), "") if digits else (1, 0, token))
    return tuple(parts)


def sum_by(frame: pd.DataFrame, keys: Sequence[str], values: Sequence[str]) -> pd.DataFrame:
    """Sums of `values` per group of `keys`, NA keys kept as a group; no keys = one row."""
    keys = list(keys)
    values = list(values)
    if not keys:
        return pd.DataFrame({v: [frame[v].sum()] for v in values})
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=frame[c].dtype) for c in [*keys, *values]})
    out = frame.groupby(keys, dropna=False, sort=True)[values].sum().reset_index()
    return out


def empty_like(columns: Sequence[str], dtypes: dict[str, Any] | None = None) -> pd.DataFrame:
    """An empty frame with `columns` (object dtype unless given)."""
    dtypes = dtypes or {}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "object")) for c in columns})


def to_float(values: pd.Series) -> pd.Series:
    """A numeric series as float64 with NaN for missing values."""
    return pd.to_numeric(values, errors="coerce").astype("float64").fillna(np.nan)
