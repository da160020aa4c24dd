"""Case and survey indicators besides SIPAS (timeliness, QĐ 766, responses, expectations).

- ``timeliness_summary`` (domain.md §3): among cases *ended* in [start, end] (local dates):
  early / on-time / late counts and shares of the ended cases, ``on_time_rate`` =
  (early + on time) / ended, average processing days (ended_at − received_at in fractional
  days, mean, one decimal); ``overdue_open`` = cases received on or before `end`, not ended by
  `end` (ended_at NaT or dated after it) and promised before `end`; ``received`` = cases
  received in the period. A case's class is the ``timeliness`` storage computed when it
  ended; where that is missing it is derived from the dates with
  `scoring.timeliness.classify_frame` (the same rule).
- ``qd766_satisfaction`` (domain.md §7): satisfaction % = 100 − (late / ended + (complaint +
  dislike) / ended) × 100, clamped to [0, 100]; score = 100 × % / 90 capped at 100; both two
  decimals (half up); ``None`` when no case ended (N/A). ``qd766_table`` applies it per group:
  a complaint is a MONEY or HARASS "yes" on the case's survey; a "dislike" (rule chosen, the
  docs are silent) is an OVERALL answer at level ≤ 2 on a case without a complaint, so a
  case is counted once in the complaint-or-dislike share. Late cases and complained cases are
  added even when they overlap, as the formula is written.
- ``response_rate`` = completed / invited in per cent, ``None`` when nobody was invited.
- ``expectation_ranking``: how often each option of the expectations question was picked
  (each option once per answer), descending, ties in natural code order (E2 before E10);
  ``share`` = per cent of the surveys that picked at least one option; ``rank`` = position.
- ``complaints``: surveys answering "yes" (value 1) to money asked / harassment, and the
  distinct cases with either.

Percentages are returned unrounded except where a rule says otherwise (QĐ 766: two decimals;
average days: one decimal). Rounding is half up on the decimal value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.frames import (
    AGENCY_CODE,
    CASE_CODE,
    CHOICES,
    DUE_AT,
    ENDED_AT,
    EXPECTATIONS,
    HARASSMENT,
    MONEY_ASKED,
    OVERALL,
    RECEIVED_AT,
    SURVEY_ID,
    TIMELINESS,
    TOPIC,
    VALUE_INT,
    YES,
    DateLike,
    as_day,
    group_keys,
    local_day,
    natural_key,
    require,
    round_half_up,
    sum_by,
)
from scoring.timeliness import EARLY, LATE, ON_TIME, classify_frame

RECEIVED = "received"
ENDED = "ended"
EARLY_PCT = "early_pct"
ON_TIME_PCT = "on_time_pct"
LATE_PCT = "late_pct"
ON_TIME_RATE = "on_time_rate"
AVG_DAYS = "avg_days"
OVERDUE_OPEN = "overdue_open"
COMPLAINT_OR_DISLIKE = "complaint_or_dislike"
SATISFACTION_PCT = "satisfaction_pct"
SCORE = "score"
OPTION = "option"
COUNT = "count"
SHARE = "share"
RANK = "rank"
COMPLAINT_CASES = "complaint_cases"

TIMELINESS_COUNTS = (RECEIVED, ENDED, EARLY, ON_TIME, LATE, OVERDUE_OPEN)
FULL_MARKS_AT = 90.0
DISLIKE_AT_MOST = 2


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 × part / whole as float, NaN where whole is 0."""
    whole_f = whole.astype("float64")
    return (100.0 * part.astype("float64") / whole_f.where(whole_f > 0)).astype("float64")


# --- timeliness --------------------------------------------------------------------------------


def case_classes(cases: pd.DataFrame, on: DateLike) -> pd.Series:
    """early / on_time / late of each ended case (stored class first, else from the dates)."""
    derived = classify_frame(
        pd.DataFrame({"ended": cases[ENDED_AT], "due": cases[DUE_AT]}, index=cases.index),
        today=as_day(on).date(),
    )
    stored = cases[TIMELINESS].astype("object")
    known = stored.isin([EARLY, ON_TIME, LATE])
    return stored.where(known, derived).where(cases[ENDED_AT].notna(), None)


def timeliness_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the early, on-time and late shares and the on-time rate to timeliness counts."""
    frame[EARLY_PCT] = _share(frame[EARLY], frame[ENDED])
    frame[ON_TIME_PCT] = _share(frame[ON_TIME], frame[ENDED])
    frame[LATE_PCT] = _share(frame[LATE], frame[ENDED])
    frame[ON_TIME_RATE] = _share(frame[EARLY] + frame[ON_TIME], frame[ENDED])
    return frame


def timeliness_summary(
    cases: pd.DataFrame,
    start: DateLike,
    end: DateLike,
    by: str | Sequence[str] = AGENCY_CODE,
) -> pd.DataFrame:
    """Per group: received, ended, early, on_time, late, early_pct, on_time_pct, late_pct,
    on_time_rate, avg_days, overdue_open — for groups with any case received, ended or
    overdue in the period (see the module docstring for each definition)."""
    keys = group_keys(by)
    require(cases, [*keys, RECEIVED_AT, DUE_AT, ENDED_AT, TIMELINESS], "cases")
    first, last = as_day(start), as_day(end)
    received_day = local_day(cases[RECEIVED_AT])
    ended_day = local_day(cases[ENDED_AT])
    due_day = local_day(cases[DUE_AT])
    ended_in = ended_day.notna() & (ended_day >= first) & (ended_day <= last)
    classes = case_classes(cases, last)
    flags = pd.DataFrame(index=cases.index)
    flags[RECEIVED] = ((received_day >= first) & (received_day <= last)).astype("int64")
    flags[ENDED] = ended_in.astype("int64")
    for name in (EARLY, ON_TIME, LATE):
        flags[name] = (ended_in & (classes == name)).astype("int64")
    open_at_end = ended_day.isna() | (ended_day > last)
    overdue = open_at_end & due_day.notna() & (due_day < last) & (received_day <= last)
    flags[OVERDUE_OPEN] = overdue.fillna(False).astype("int64")
    elapsed = pd.to_datetime(cases[ENDED_AT]) - pd.to_datetime(cases[RECEIVED_AT])
    flags["_days"] = (elapsed.dt.total_seconds() / 86400.0).where(ended_in)
    for key in keys:
        flags[key] = cases[key]
    relevant = flags[[RECEIVED, ENDED, OVERDUE_OPEN]].sum(axis=1) > 0
    flags = flags[relevant]
    columns = [
        *keys,
        RECEIVED,
        ENDED,
        EARLY,
        ON_TIME,
        LATE,
        EARLY_PCT,
        ON_TIME_PCT,
        LATE_PCT,
        ON_TIME_RATE,
        AVG_DAYS,
        OVERDUE_OPEN,
    ]
    if flags.empty and keys:
        return pd.DataFrame(columns=columns)
    out = sum_by(flags, keys, list(TIMELINESS_COUNTS))
    if keys:
        days = flags.groupby(keys, dropna=False, sort=True)["_days"].mean().to_numpy()
    else:
        days = np.array([flags["_days"].mean()])
    out[AVG_DAYS] = [round_half_up(d, 1) for d in days]
    out = timeliness_rates(out)
    return out[columns].reset_index(drop=True)


# --- QĐ 766 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Qd766:
    """The QĐ 766 satisfaction indicator: the raw percentage and the score out of 100."""

    satisfaction_pct: float
    score: float


def qd766_satisfaction(
    late_cases: int,
    ended_cases: int,
    complaint_cases: int,
    dislike_cases: int = 0,
    *,
    full_marks_at: float = FULL_MARKS_AT,
) -> Qd766 | None:
    """100 % − (late share + complaint-or-dislike share); score = 100 × % / 90, at most 100.

    Shares are of `ended_cases`; pass complaint and dislike counts of distinct cases (they are
    added). ``None`` when `ended_cases` is 0 (shown as N/A). Two decimals, half up.
    """
    if ended_cases <= 0:
        return None
    bad = (late_cases + complaint_cases + dislike_cases) / ended_cases
    pct = min(100.0, max(0.0, 100.0 - 100.0 * bad))
    score = min(100.0, 100.0 * pct / full_marks_at)
    return Qd766(round_half_up(pct, 2), round_half_up(score, 2))


def case_feedback(answers: pd.DataFrame, dislike_at_most: int = DISLIKE_AT_MOST) -> pd.DataFrame:
    """Per case with answers: ``complaint`` (money asked or harassment "yes") and ``dislike``
    (OVERALL at level ≤ `dislike_at_most`, and no complaint)."""
    require(answers, [CASE_CODE, TOPIC, VALUE_INT], "answers")
    value = pd.to_numeric(answers[VALUE_INT], errors="coerce")
    complaint = answers[TOPIC].isin([MONEY_ASKED, HARASSMENT]) & (value == YES)
    low = (answers[TOPIC] == OVERALL) & value.between(1, dislike_at_most)
    flags = pd.DataFrame(
        {
            CASE_CODE: answers[CASE_CODE],
            "complaint": complaint.fillna(False),
            "dislike": low.fillna(False),
        }
    )
    out = flags.groupby(CASE_CODE, sort=True)[["complaint", "dislike"]].any().reset_index()
    out["dislike"] = out["dislike"] & ~out["complaint"]
    return out


def qd766_table(
    cases: pd.DataFrame,
    answers: pd.DataFrame,
    start: DateLike,
    end: DateLike,
    by: str | Sequence[str] = AGENCY_CODE,
    *,
    dislike_at_most: int = DISLIKE_AT_MOST,
) -> pd.DataFrame:
    """Per group of cases ended in [start, end]: ended, late, complaint_or_dislike,
    satisfaction_pct, score (QĐ 766; the feedback may be dated any time)."""
    keys = group_keys(by)
    require(cases, [*keys, CASE_CODE, DUE_AT, ENDED_AT, TIMELINESS], "cases")
    first, last = as_day(start), as_day(end)
    ended_day = local_day(cases[ENDED_AT])
    ended = cases[ended_day.notna() & (ended_day >= first) & (ended_day <= last)].copy()
    columns = [*keys, ENDED, LATE, COMPLAINT_OR_DISLIKE, SATISFACTION_PCT, SCORE]
    if ended.empty:
        return pd.DataFrame(columns=columns)
    feedback = case_feedback(answers, dislike_at_most)
    bad = set(feedback.loc[feedback["complaint"] | feedback["dislike"], CASE_CODE])
    ended[ENDED] = 1
    ended[LATE] = (case_classes(ended, last) == LATE).astype("int64")
    ended[COMPLAINT_OR_DISLIKE] = ended[CASE_CODE].isin(bad).astype("int64")
    out = sum_by(ended, keys, [ENDED, LATE, COMPLAINT_OR_DISLIKE])
    results = [
        qd766_satisfaction(int(late), int(n), int(cd))
        for late, n, cd in zip(out[LATE], out[ENDED], out[COMPLAINT_OR_DISLIKE], strict=True)
    ]
    out[SATISFACTION_PCT] = [r.satisfaction_pct if r else np.nan for r in results]
    out[SCORE] = [r.score if r else np.nan for r in results]
    return out[columns]


# --- survey indicators -------------------------------------------------------------------------


def response_rate(invited: int, completed: int) -> float | None:
    """Completed surveys per invited survey, in per cent; ``None`` when none was invited."""
    if invited <= 0:
        return None
    return 100.0 * completed / invited


def expectation_ranking(answers: pd.DataFrame, by: str | Sequence[str] = ()) -> pd.DataFrame:
    """Per group: option, count, share (% of surveys answering), rank (1 = most picked)."""
    keys = group_keys(by)
    require(answers, [*keys, SURVEY_ID, TOPIC, CHOICES], "answers")
    expect = answers[answers[TOPIC] == EXPECTATIONS]
    columns = [*keys, OPTION, COUNT, SHARE, RANK]
    rows = []
    for index, picks in expect[CHOICES].items():
        if picks is None or isinstance(picks, float):
            continue
        for option in dict.fromkeys(str(p) for p in picks):
            rows.append((index, option))
    if not rows:
        return pd.DataFrame(columns=columns)
    picked = pd.DataFrame(rows, columns=["_row", OPTION]).set_index("_row")
    picked = picked.join(expect[[*keys, SURVEY_ID]])
    if keys:
        counts = picked.groupby([*keys, OPTION], dropna=False)[SURVEY_ID].size()
        counts = counts.rename(COUNT).reset_index()
        answered = picked.groupby(keys, dropna=False)[SURVEY_ID].nunique().rename("_answered")
        counts = counts.merge(answered.reset_index(), on=keys, how="left")
    else:
        counts = picked.groupby(OPTION)[SURVEY_ID].size().rename(COUNT).reset_index()
        counts["_answered"] = picked[SURVEY_ID].nunique()
    counts[SHARE] = _share(counts[COUNT], counts["_answered"])
    counts["_key"] = counts[OPTION].map(natural_key)
    counts["_neg"] = -counts[COUNT]
    counts = counts.sort_values([*keys, "_neg", "_key"], kind="stable")
    if keys:
        counts[RANK] = counts.groupby(keys, dropna=False).cumcount() + 1
    else:
        counts[RANK] = np.arange(1, len(counts) + 1)
    return counts[columns].reset_index(drop=True)


def complaints(answers: pd.DataFrame, by: str | Sequence[str] = AGENCY_CODE) -> pd.DataFrame:
    """Per group with a money or harassment answer: money_asked and harassment (surveys
    answering yes) and complaint_cases (distinct cases with either)."""
    keys = group_keys(by)
    require(answers, [*keys, SURVEY_ID, CASE_CODE, TOPIC, VALUE_INT], "answers")
    asked = answers[answers[TOPIC].isin([MONEY_ASKED, HARASSMENT])].copy()
    columns = [*keys, MONEY_ASKED, HARASSMENT, COMPLAINT_CASES]
    if asked.empty:
        return pd.DataFrame(columns=columns)
    yes = pd.to_numeric(asked[VALUE_INT], errors="coerce") == YES
    asked["_money"] = asked[SURVEY_ID].where(yes & (asked[TOPIC] == MONEY_ASKED))
    asked["_harass"] = asked[SURVEY_ID].where(yes & (asked[TOPIC] == HARASSMENT))
    asked["_case"] = asked[CASE_CODE].where(yes)
    named = {MONEY_ASKED: ("_money", "nunique"), HARASSMENT: ("_harass", "nunique")}
    if keys:
        grouped = asked.groupby(keys, dropna=False, sort=True)
        out = grouped.agg(**named, **{COMPLAINT_CASES: ("_case", "nunique")}).reset_index()
    else:
        out = pd.DataFrame(
            {
                MONEY_ASKED: [asked["_money"].nunique()],
                HARASSMENT: [asked["_harass"].nunique()],
                COMPLAINT_CASES: [asked["_case"].nunique()],
            }
        )
    return out[columns]


__all__ = [
    "Qd766",
    "case_classes",
    "case_feedback",
    "complaints",
    "expectation_ranking",
    "qd766_satisfaction",
    "qd766_table",
    "response_rate",
    "timeliness_rates",
    "timeliness_summary",
]
