"""Scoring jobs: score a day into stored counts; build the agency report from stored data.

`meta` maps a question code to (factor, topic) for every code that may be stored — the active
and earlier questionnaires and the built-in full SIPAS form — and is given by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from scoring.frames import LIKERT_TOPICS
from scoring.indicators import agency_report
from scoring.sipas import counts_from_levels
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
    engine: AsyncEngine, start: date, end: date, meta: QuestionMeta, *, rolled_up: bool = False
) -> pd.DataFrame:
    """The agency report of interfaces.md for [start, end], computed from stored data."""
    counts = await counts_between(engine, start, end, meta)
    cases = await scores.case_rows(engine, start, end)
    agencies = await scores.agency_rows(engine)
    responses = await scores.responses_by_agency(engine, start, end)
    return agency_report(
        counts, cases, start, end, agencies, responses=responses, rolled_up=rolled_up
    )


def _counts_of(stored: pd.DataFrame) -> pd.DataFrame:
    """Stored daily rows (n1..n5) → COUNTS with n_valid and n_satisfied."""
    if stored.empty:
        return counts_from_levels(
            pd.DataFrame(
                columns=[
                    "day",
                    "agency_code",
                    "procedure_code",
                    "officer_name",
                    "question_code",
                    "factor",
                    "value_int",
                    "answers",
                ]
            )
        )
    frame = stored.copy()
    frame["factor"] = frame["factor"].astype("Int64")
    levels = ["n1", "n2", "n3", "n4", "n5"]
    frame["n_valid"] = frame[levels].sum(axis=1)
    frame["n_satisfied"] = frame["n4"] + frame["n5"]
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def _agency_value(indices: pd.DataFrame, column: str = "sipas") -> tuple[float | None, int]:
    if indices.empty:
        return None, 0
    row = indices.iloc[0]
    value = row[column]
    return (None if pd.isna(value) else round(float(value), 1)), int(row["n_min"])


async def digest_figures(
    engine: AsyncEngine, agency_codes: list[str], today: date, *, min_sample: int = 30
) -> dict[str, object]:
    """What the morning digest shows for a head's agencies (their subtrees included):
    yesterday and month-to-date SIPAS with n, month-to-date on-time rate, open overdue cases,
    best and worst procedure (enough answers only), and SIPAS per day for the last 30 days."""
    from scoring.indicators import timeliness_summary
    from scoring.sipas import rank, sipas_index, subtree_map

    yesterday = today - timedelta(days=1)
    month_start = yesterday.replace(day=1)
    first = min(month_start, yesterday - timedelta(days=29))
    agencies = await scores.agency_rows(engine)
    tree = subtree_map(agencies, agency_codes)
    members = set(tree.loc[tree["agency_code"].isin(agency_codes), "member"]) | set(agency_codes)
    counts = _counts_of(await scores.stored_counts(engine, first, yesterday))
    counts = counts[counts["agency_code"].isin(members)].copy()
    counts["scope"] = "all"
    day_series = []
    for offset in range(29, -1, -1):
        day = yesterday - timedelta(days=offset)
        of_day = counts[counts["day"] == pd.Timestamp(day)]
        value, _n = _agency_value(sipas_index(of_day, "scope", min_sample=min_sample))
        day_series.append((day.isoformat(), value))
    month = counts[counts["day"] >= pd.Timestamp(month_start)]
    mtd, mtd_n = _agency_value(sipas_index(month, "scope", min_sample=min_sample))
    last = counts[counts["day"] == pd.Timestamp(yesterday)]
    yday, yday_n = _agency_value(sipas_index(last, "scope", min_sample=min_sample))
    procedures = sipas_index(month, "procedure_code", min_sample=min_sample)
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
    engine: AsyncEngine, agency_codes: list[str], start: date, end: date, meta: QuestionMeta
) -> dict[str, dict[str, object]]:
    """Per agency, its subtree rolled up: the period's report row as plain JSON values."""
    frame = await report(engine, start, end, meta, rolled_up=True)
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
