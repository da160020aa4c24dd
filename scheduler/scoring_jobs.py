"""Scoring jobs: score a day into stored counts; build the agency report from stored data.

`meta` maps a question code to (factor, topic) for every code that may be stored — the active
and earlier questionnaires and the built-in full SIPAS form — and is given by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from scoring.agency_report import agency_report
from scoring.agency_tree import subtree_map
from scoring.counts import counts_from_levels, empty_counts, with_totals
from scoring.frames import LIKERT_TOPICS
from scoring.indicators import timeliness_summary
from scoring.sipas import DEFAULT_RULE, IndexRule, rank, sipas_index
from storage import scores

QuestionMeta = Mapping[str, tuple[int | None, str]]


def with_meta(rows: pd.DataFrame, meta: QuestionMeta) -> pd.DataFrame:
    """Add factor and topic by question code; keep only five-level (criterion/overall) rows."""
    rows = rows.copy()
    rows["factor"] = pd.array(
        [meta.get(code, (None, ""))[0] for code in rows["question_code"]], dtype="Int64"
    )
    rows["topic"] = [meta.get(code, (None, ""))[1] for code in rows["question_code"]]
    return rows[rows["topic"].isin(LIKERT_TOPICS)]


async def counts_between(
    engine: AsyncEngine, start: date, end: date, meta: QuestionMeta
) -> pd.DataFrame:
    """COUNTS of [start, end] straight from the stored answers (grouped in SQL)."""
    rows = await scores.level_rows(engine, start, end)
    return counts_from_levels(with_meta(rows, meta).drop(columns=["topic"]))


async def score_day(engine: AsyncEngine, day: date, meta: QuestionMeta) -> str:
    """Store the counts of `day` (replacing any earlier scoring of that day)."""
    counts = await counts_between(engine, day, day, meta)
    stored = await scores.store_day(engine, day, counts)
    answers = int(counts["n_valid"].sum()) if not counts.empty else 0
    return f"{day.isoformat()}: {stored} count rows from {answers} answers"


async def report(
    engine: AsyncEngine,
    start: date,
    end: date,
    meta: QuestionMeta,
    *,
    rolled_up: bool = False,
    rule: IndexRule = DEFAULT_RULE,
) -> pd.DataFrame:
    """The agency report of interfaces.md for [start, end], computed from stored data."""
    counts = await counts_between(engine, start, end, meta)
    cases = await scores.case_rows(engine, start, end)
    agencies = await scores.agency_rows(engine)
    responses = await scores.responses_by_agency(engine, start, end)
    return agency_report(
        counts, cases, start, end, agencies, responses=responses, rolled_up=rolled_up, rule=rule
    )


def _counts_of(stored: pd.DataFrame) -> pd.DataFrame:
    """Stored daily rows (n1..n5) → COUNTS with n_valid and n_satisfied."""
    if stored.empty:
        return empty_counts()
    frame = with_totals(stored)
    frame["factor"] = frame["factor"].astype("Int64")
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def _agency_value(indices: pd.DataFrame, column: str = "sipas") -> tuple[float | None, int]:
    if indices.empty:
        return None, 0
    row = indices.iloc[0]
    value = row[column]
    return (None if pd.isna(value) else round(float(value), 1)), int(row["n_min"])


async def daily_job(
    engine: AsyncEngine, yesterday: date, meta: QuestionMeta, *, rule: IndexRule = DEFAULT_RULE
) -> tuple[str, dict[str, pd.DataFrame]]:
    """The 06:00 job: score yesterday, then SIPAS per agency for the day, the month to date
    and the year to date — periods summed in SQL from the per-agency daily counts."""
    message = await score_day(engine, yesterday, meta)
    periods = {
        "day": yesterday,
        "month_to_date": yesterday.replace(day=1),
        "year_to_date": yesterday.replace(month=1, day=1),
    }
    indices = {
        name: sipas_index(
            _counts_of(await scores.agency_period_counts(engine, start, yesterday)),
            "agency_code",
            rule,
        )
        for name, start in periods.items()
    }
    return message, indices


async def digest_figures(
    engine: AsyncEngine,
    agency_codes: list[str],
    today: date,
    *,
    min_sample: int = 30,
    rule: IndexRule = DEFAULT_RULE,
) -> dict[str, object]:
    """What the morning digest shows for a head's agencies (their subtrees included):
    yesterday and month-to-date SIPAS with n, month-to-date on-time rate, open overdue cases,
    best and worst procedure (enough answers only), and SIPAS per day for the last 30 days."""
    yesterday = today - timedelta(days=1)
    month_start = yesterday.replace(day=1)
    first = yesterday - timedelta(days=29)
    agencies = await scores.agency_rows(engine)
    tree = subtree_map(agencies, agency_codes)
    members = sorted(
        set(tree.loc[tree["agency_code"].isin(agency_codes), "member"]) | set(agency_codes)
    )

    async def whole(start: date) -> tuple[float | None, int]:
        counts = _counts_of(
            await scores.agency_period_counts(engine, start, yesterday, agencies=members)
        )
        counts["agency_code"] = "all"
        return _agency_value(sipas_index(counts, "agency_code", rule, min_sample=min_sample))

    daily = _counts_of(
        await scores.agency_period_counts(engine, first, yesterday, agencies=members, by_day=True)
    )
    by_day = sipas_index(daily, "day", rule, min_sample=min_sample) if not daily.empty else daily
    values = (
        {}
        if by_day.empty
        else {
            pd.Timestamp(d).date().isoformat(): (None if pd.isna(v) else round(float(v), 1))
            for d, v in zip(by_day["day"], by_day["sipas"], strict=True)
        }
    )
    day_series = [
        (
            (yesterday - timedelta(days=o)).isoformat(),
            values.get((yesterday - timedelta(days=o)).isoformat()),
        )
        for o in range(29, -1, -1)
    ]
    yday, yday_n = await whole(yesterday)
    mtd, mtd_n = await whole(month_start)
    procedures = sipas_index(
        _counts_of(await scores.procedure_period_counts(engine, month_start, yesterday, members)),
        "procedure_code",
        rule,
        min_sample=min_sample,
    )
    worst = rank(procedures, "sipas", worst_first=True, limit=1)
    best = rank(procedures, "sipas", worst_first=False, limit=1)
    cases = await scores.case_rows(engine, month_start, yesterday)
    cases = cases[cases["agency_code"].isin(members)].copy()
    cases["scope"] = "all"
    summary = timeliness_summary(cases, month_start, yesterday, "scope")
    on_time = (
        None
        if summary.empty or pd.isna(summary.iloc[0]["on_time_rate"])
        else round(float(summary.iloc[0]["on_time_rate"]), 1)
    )
    overdue = 0 if summary.empty else int(summary.iloc[0]["overdue_open"])
    return {
        "yesterday": yesterday.isoformat(),
        "sipas_yesterday": yday,
        "n_yesterday": yday_n,
        "sipas_mtd": mtd,
        "n_mtd": mtd_n,
        "on_time_rate_mtd": on_time,
        "overdue_open": overdue,
        "best_procedure": None if best.empty else str(best.iloc[0]["procedure_code"]),
        "worst_procedure": None if worst.empty else str(worst.iloc[0]["procedure_code"]),
        "series": day_series,
    }


async def monthly_figures(
    engine: AsyncEngine,
    agency_codes: list[str],
    start: date,
    end: date,
    meta: QuestionMeta,
    *,
    rule: IndexRule = DEFAULT_RULE,
) -> dict[str, dict[str, object]]:
    """Per agency, its subtree rolled up: the period's report row as plain JSON values."""
    frame = await report(engine, start, end, meta, rolled_up=True, rule=rule)
    figures: dict[str, dict[str, object]] = {}
    for row in frame.to_dict("records"):
        code = str(row["MaCoQuan"])
        if code in agency_codes:
            figures[code] = {
                key: None if pd.isna(value) else (value.item() if hasattr(value, "item") else value)
                for key, value in row.items()
                if key != "MaCoQuan"
            }
    return figures
