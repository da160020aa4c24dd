"""Scoring jobs: score a day into stored counts; build the agency report from stored data.

`meta` maps a question code to (factor, topic) for every code that may be stored — the active
and earlier questionnaires and the built-in full SIPAS form — and is given by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

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


async def report(engine: AsyncEngine, start: date, end: date, meta: QuestionMeta) -> pd.DataFrame:
    """The agency report of interfaces.md for [start, end], computed from stored data."""
    counts = await counts_between(engine, start, end, meta)
    cases = await scores.case_rows(engine, start, end)
    agencies = await scores.agency_rows(engine)
    responses = await scores.responses_by_agency(engine, start, end)
    return agency_report(counts, cases, start, end, agencies, responses=responses)
