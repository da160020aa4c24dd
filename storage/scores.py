"""Reads for scoring and reports, aggregated in SQL so memory stays flat; stored daily counts.

Answers are grouped by local day, agency, procedure, officer, question and level in SQL; pandas
(`scoring`) turns those rows into indices. `daily_scores` keeps the counts of each scored day
(re-scoring a day replaces it), so month and year figures sum stored days instead of rescanning
every answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, func, insert, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.errors import translate_errors
from storage.intake_sql import local_date
from storage.models import Agency, AgencyDailyScore, Answer, Case, DailyScore, Survey

answers_t = Answer.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
agencies_t = Agency.__table__  # type: ignore[attr-defined]
scores_t = DailyScore.__table__  # type: ignore[attr-defined]
agency_scores_t = AgencyDailyScore.__table__  # type: ignore[attr-defined]

LEVEL_COLUMNS = ("n1", "n2", "n3", "n4", "n5")


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, day after end 00:00) in naive local time."""
    return datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())


# Answers with the case each belongs to (through its survey): what every answer read joins.
answer_cases = answers_t.join(surveys_t, surveys_t.c.id == answers_t.c.survey_id).join(
    cases_t, cases_t.c.code == surveys_t.c.case_code
)


def answered_between(low: datetime, high: datetime) -> tuple[Any, ...]:
    """The conditions of an answer given (not skipped) in [low, high)."""
    return (
        answers_t.c.answered_at >= low,
        answers_t.c.answered_at < high,
        answers_t.c.skipped.is_(False),
    )


def with_dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """`frame` with `columns` as datetime64 (NaT where there is no date)."""
    for column in columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame


async def read_frame(engine: AsyncEngine, statement: Any) -> pd.DataFrame:
    """The rows of `statement`, its selected column names (labels) as the frame's columns."""
    with translate_errors():
        async with engine.connect() as conn:
            result = await conn.execute(statement)
            columns = list(result.keys())
            rows = result.all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


async def level_rows(
    engine: AsyncEngine, start: date, end: date, agency_codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Answers with a value 1–5 in [start, end], counted per day/group/question/level; only
    the cases of `agency_codes` when given."""
    low, high = day_bounds(start, end)
    day = local_date(answers_t.c.answered_at)
    officer = func.coalesce(cases_t.c.officer_name, "")
    statement = (
        select(
            day.label("day"),
            cases_t.c.agency_code,
            cases_t.c.procedure_code,
            officer.label("officer_name"),
            answers_t.c.question_code,
            answers_t.c.value_int,
            func.count().label("answers"),
        )
        .select_from(answer_cases)
        .where(
            cases_t.c.agency_code.in_(list(agency_codes)) if agency_codes is not None else true(),
            *answered_between(low, high),
            answers_t.c.value_int.between(1, 5),
        )
        .group_by(
            day,
            cases_t.c.agency_code,
            cases_t.c.procedure_code,
            officer,
            answers_t.c.question_code,
            answers_t.c.value_int,
        )
    )
    return await read_frame(engine, statement)


async def answer_rows(engine: AsyncEngine, start: date, end: date) -> pd.DataFrame:
    """Every answer in [start, end] with its case's agency, procedure and officer (no identity)."""
    low, high = day_bounds(start, end)
    statement = (
        select(
            answers_t.c.survey_id,
            surveys_t.c.case_code,
            cases_t.c.agency_code,
            cases_t.c.procedure_code,
            cases_t.c.officer_name,
            answers_t.c.question_code,
            answers_t.c.value_int,
            answers_t.c.value_text,
            answers_t.c.choices,
            answers_t.c.answered_at,
        )
        .select_from(answer_cases)
        .where(*answered_between(low, high))
    )
    return await read_frame(engine, statement)


async def responses_by_agency(engine: AsyncEngine, start: date, end: date) -> pd.DataFrame:
    """Distinct survey responses with at least one answer dated in [start, end], per agency."""
    low, high = day_bounds(start, end)
    statement = (
        select(
            cases_t.c.agency_code,
            func.count(func.distinct(answers_t.c.survey_id)).label("responses"),
        )
        .select_from(answer_cases)
        .where(*answered_between(low, high))
        .group_by(cases_t.c.agency_code)
    )
    return await read_frame(engine, statement)


async def case_rows(
    engine: AsyncEngine, start: date, end: date, agency_codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Cases received by `end` that were not ended before `start` (all a period report needs);
    only the cases of `agency_codes` when given."""
    low, high = day_bounds(start, end)
    statement = select(
        cases_t.c.code.label("case_code"),
        cases_t.c.agency_code,
        cases_t.c.procedure_code,
        cases_t.c.status,
        cases_t.c.received_at,
        cases_t.c.due_at,
        cases_t.c.ended_at,
        cases_t.c.timeliness,
    ).where(
        cases_t.c.agency_code.in_(list(agency_codes)) if agency_codes is not None else true(),
        cases_t.c.received_at < high,
        or_(cases_t.c.ended_at.is_(None), cases_t.c.ended_at >= low),
    )
    return with_dates(await read_frame(engine, statement), "received_at", "due_at", "ended_at")


async def agency_rows(engine: AsyncEngine) -> pd.DataFrame:
    statement = select(agencies_t.c.code, agencies_t.c.parent_code, agencies_t.c.name)
    return await read_frame(engine, statement)


async def store_day(engine: AsyncEngine, day: date, counts: pd.DataFrame) -> int:
    """Replace the stored counts of `day` with `counts` (COUNTS rows of that day)."""
    rows: list[dict[str, Any]] = [
        {
            "day": day,
            "agency_code": str(r.agency_code),
            "procedure_code": str(r.procedure_code),
            "officer_name": str(r.officer_name or ""),
            "question_code": str(r.question_code),
            "factor": None if pd.isna(r.factor) else int(r.factor),
            **{column: int(getattr(r, column)) for column in LEVEL_COLUMNS},
        }
        for r in counts.itertuples(index=False)
    ]
    per_agency: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (str(row["agency_code"]), str(row["question_code"]))
        total = per_agency.setdefault(
            key,
            {
                "day": day,
                "agency_code": key[0],
                "question_code": key[1],
                "factor": row["factor"],
                **dict.fromkeys(LEVEL_COLUMNS, 0),
            },
        )
        for column in LEVEL_COLUMNS:
            total[column] += row[column]
    with translate_errors():
        async with engine.begin() as conn:
            await conn.execute(delete(scores_t).where(scores_t.c.day == day))
            await conn.execute(delete(agency_scores_t).where(agency_scores_t.c.day == day))
            if rows:
                await conn.execute(insert(scores_t), rows)
                await conn.execute(insert(agency_scores_t), list(per_agency.values()))
    return len(rows)


async def stored_counts(engine: AsyncEngine, start: date, end: date) -> pd.DataFrame:
    """Stored daily counts for [start, end]."""
    statement = select(
        scores_t.c.day,
        scores_t.c.agency_code,
        scores_t.c.procedure_code,
        scores_t.c.officer_name,
        scores_t.c.question_code,
        scores_t.c.factor,
        *(scores_t.c[c] for c in LEVEL_COLUMNS),
    ).where(and_(scores_t.c.day >= start, scores_t.c.day <= end))
    return await read_frame(engine, statement)


async def agency_period_counts(
    engine: AsyncEngine,
    start: date,
    end: date,
    *,
    agencies: Sequence[str] | None = None,
    by_day: bool = False,
) -> pd.DataFrame:
    """Stored counts summed in SQL over [start, end] per agency (or per day), per question.

    Reads the per-agency daily table, so a year is a few hundred thousand rows at most and
    the sum happens in the database; the frame returned is small.
    """
    t = agency_scores_t
    keys = [t.c.day] if by_day else [t.c.agency_code]
    statement = (
        select(
            *keys,
            t.c.question_code,
            t.c.factor,
            *(func.sum(t.c[c]).label(c) for c in LEVEL_COLUMNS),
        )
        .where(t.c.day >= start, t.c.day <= end)
        .group_by(*keys, t.c.question_code, t.c.factor)
    )
    if agencies is not None:
        statement = statement.where(t.c.agency_code.in_(list(agencies)))
    frame = await read_frame(engine, statement)
    if not by_day:
        frame.insert(0, "day", pd.Timestamp(end))
    else:
        frame.insert(1, "agency_code", "")
    frame["procedure_code"] = ""
    frame["officer_name"] = ""
    return frame


async def procedure_period_counts(
    engine: AsyncEngine, start: date, end: date, agencies: Sequence[str]
) -> pd.DataFrame:
    """Stored counts of [start, end] for some agencies, summed in SQL per procedure."""
    t = scores_t
    statement = (
        select(
            t.c.procedure_code,
            t.c.question_code,
            t.c.factor,
            *(func.sum(t.c[c]).label(c) for c in LEVEL_COLUMNS),
        )
        .where(t.c.day >= start, t.c.day <= end, t.c.agency_code.in_(list(agencies)))
        .group_by(t.c.procedure_code, t.c.question_code, t.c.factor)
    )
    frame = await read_frame(engine, statement)
    frame.insert(0, "day", pd.Timestamp(end))
    frame["agency_code"] = ""
    frame["officer_name"] = ""
    return frame


__all__ = [
    "agency_period_counts",
    "agency_rows",
    "answer_rows",
    "case_rows",
    "level_rows",
    "responses_by_agency",
    "store_day",
    "stored_counts",
]
