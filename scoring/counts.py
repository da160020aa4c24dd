"""The storable daily aggregates of the answers: COUNTS and daily responses (domain.md §5).

``daily_counts(answers)`` turns five-level answers (topics ``criterion`` and ``overall``) into
the COUNTS frame: one row per (day, agency_code, procedure_code, officer_name, question_code,
factor) with ``n_valid`` (answers 1–5), ``n_satisfied`` (4–5, the default rule) and the
per-level counts ``n1``..``n5``. Storing the level counts lets any `scoring.sipas.IndexRule` be
recomputed later without the answers. Storage may run the GROUP BY in SQL instead (``SELECT
date(answered_at) AS day, agency_code, procedure_code, officer_name, question_code, factor,
value_int, count(*) AS answers … GROUP BY …``) and hand the rows to ``counts_from_levels``,
which keeps memory flat. A day is stored as a whole: ``replace_days(stored, fresh, days)``
drops the stored rows of the re-scored days first. Any period is the sum of its days:
``select_days(counts, start, end)``.

Distinct survey responses cannot be summed over days, so ``daily_responses`` keeps one row per
(day, survey) and ``responses_in_period`` counts them for a period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from scoring.frames import (
    AGENCY_CODE,
    ANSWERED_AT,
    COUNT_KEYS,
    COUNT_VALUES,
    COUNTS,
    DAILY_RESPONSES,
    DAY,
    FACTOR,
    LEVEL_COLUMNS,
    LEVELS,
    LIKERT_TOPICS,
    N_SATISFIED,
    N_VALID,
    OFFICER_NAME,
    PROCEDURE_CODE,
    QUESTION_CODE,
    RESPONSES,
    SURVEY_ID,
    TOPIC,
    VALUE_INT,
    DateLike,
    as_day,
    group_keys,
    in_days,
    local_day,
    require,
    sum_by,
)

_COUNT_DTYPES = {
    DAY: "datetime64[ns]",
    AGENCY_CODE: "object",
    PROCEDURE_CODE: "object",
    OFFICER_NAME: "object",
    QUESTION_CODE: "object",
    FACTOR: "Int64",
    **{c: "int64" for c in COUNT_VALUES},
}


def empty_counts() -> pd.DataFrame:
    """A COUNTS frame without rows, with the COUNTS dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=_COUNT_DTYPES[c]) for c in COUNTS})


def with_totals(levels: pd.DataFrame) -> pd.DataFrame:
    """`levels` (COUNTS keys and n1..n5, as stored) with ``n_valid`` and ``n_satisfied`` added
    (the default rule: levels 4–5 are satisfied)."""
    out = levels.copy()
    out[N_VALID] = out[list(LEVEL_COLUMNS)].sum(axis=1)
    out[N_SATISFIED] = out["n4"] + out["n5"]
    return out


def counts_from_levels(rows: pd.DataFrame, *, count_column: str = "answers") -> pd.DataFrame:
    """COUNTS from rows already grouped by the count keys and the level.

    `rows` has the COUNTS keys (day, agency_code, procedure_code, officer_name, question_code,
    factor), ``value_int`` and `count_column` (how many answers had that value) — the shape of
    a SQL ``GROUP BY …, value_int``. Values outside 1–5 are not valid answers and are dropped.
    """
    require(rows, [*COUNT_KEYS, VALUE_INT, count_column], "level rows")
    value = pd.to_numeric(rows[VALUE_INT], errors="coerce")
    rows = rows[value.isin(LEVELS)]
    if rows.empty:
        return empty_counts()
    value = pd.to_numeric(rows[VALUE_INT]).astype("int64")
    weight = pd.to_numeric(rows[count_column]).astype("int64")
    work = rows[list(COUNT_KEYS)].copy()
    work[DAY] = local_day(work[DAY])
    work[FACTOR] = work[FACTOR].astype("Int64")
    for level, column in zip(LEVELS, LEVEL_COLUMNS, strict=True):
        work[column] = np.where(value == level, weight, 0)
    out = with_totals(sum_by(work, COUNT_KEYS, LEVEL_COLUMNS))[list(COUNTS)]
    return out.astype({c: "int64" for c in COUNT_VALUES}).reset_index(drop=True)


def daily_counts(answers: pd.DataFrame) -> pd.DataFrame:
    """The storable daily COUNTS of the five-level answers (topics criterion and overall).

    A day is the local calendar date of ``answered_at``. Yes-no, choice and text answers are not
    counted here (see `scoring.indicators`); answers without a value 1–5 are not valid.
    """
    require(answers, [*COUNT_KEYS[1:], TOPIC, VALUE_INT, ANSWERED_AT], "answers")
    likert = answers[answers[TOPIC].isin(LIKERT_TOPICS)]
    rows = likert[[*COUNT_KEYS[1:], VALUE_INT]].copy()
    rows.insert(0, DAY, local_day(likert[ANSWERED_AT]))
    rows["answers"] = 1
    return counts_from_levels(rows)


def select_days(counts: pd.DataFrame, start: DateLike, end: DateLike) -> pd.DataFrame:
    """Rows of a daily frame (column ``day``) inside [start, end], local dates inclusive."""
    require(counts, [DAY], "daily")
    return counts[in_days(counts[DAY], start, end)]


def replace_days(
    stored: pd.DataFrame, fresh: pd.DataFrame, days: Iterable[DateLike] | None = None
) -> pd.DataFrame:
    """Stored daily rows with the re-scored days replaced by `fresh` (never added twice).

    `days` names the days that were re-scored (default: the days present in `fresh`); pass it
    so a re-run of a day that now has no answers clears that day.
    """
    require(stored, [DAY], "stored")
    require(fresh, [DAY], "fresh")
    if days is None:
        replaced = set(local_day(fresh[DAY]).dropna())
    else:
        replaced = {as_day(d) for d in days}
    keep = stored[~local_day(stored[DAY]).isin(replaced)]
    parts = [p for p in (keep, fresh) if not p.empty]
    if not parts:
        return stored.iloc[0:0]
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(DAY, kind="stable").reset_index(drop=True)


def daily_responses(answers: pd.DataFrame) -> pd.DataFrame:
    """One row per (day, survey) with any answer that day: the storable base of ``responses``.

    Distinct surveys cannot be summed over days (a survey answered on two days would count
    twice), so responses for a period are counted from these rows with `responses_in_period`.
    """
    require(answers, [*DAILY_RESPONSES[1:], ANSWERED_AT], "answers")
    rows = answers[list(DAILY_RESPONSES[1:])].copy()
    rows.insert(0, DAY, local_day(answers[ANSWERED_AT]))
    return rows.drop_duplicates([DAY, SURVEY_ID]).reset_index(drop=True)


def responses_in_period(
    frame: pd.DataFrame,
    start: DateLike,
    end: DateLike,
    by: str | Sequence[str] = AGENCY_CODE,
) -> pd.DataFrame:
    """Survey responses with at least one answer dated in [start, end], per group.

    `frame` is either ANSWERS (dated by ``answered_at``) or `daily_responses` (by ``day``).
    Returns the `by` columns and ``responses`` (distinct survey ids).
    """
    keys = group_keys(by)
    date_column = DAY if DAY in frame.columns else ANSWERED_AT
    require(frame, [SURVEY_ID, date_column, *keys], "responses")
    inside = frame[in_days(frame[date_column], start, end)]
    if not keys:
        return pd.DataFrame({RESPONSES: [int(inside[SURVEY_ID].nunique())]})
    if inside.empty:
        out = inside[keys].iloc[0:0].copy()
        out[RESPONSES] = pd.Series(dtype="int64")
        return out.reset_index(drop=True)
    out = inside.groupby(keys, dropna=False, sort=True)[SURVEY_ID].nunique()
    return out.rename(RESPONSES).reset_index()


__all__ = [
    "counts_from_levels",
    "daily_counts",
    "daily_responses",
    "empty_counts",
    "replace_days",
    "responses_in_period",
    "select_days",
    "with_totals",
]
