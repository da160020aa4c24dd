"""What agency heads read by chat, always restricted to a set of agencies (their scope).

Every read takes the agency codes the caller may see and filters on them in SQL, so a head's
query can never return another agency's rows. Case dates (`due_at`, `ended_at`, ...) are naive
local time as stored; alert times are naive UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import scores
from storage.errors import translate_errors
from storage.models import (
    Agency,
    Alert,
    Answer,
    Case,
    Procedure,
    QuestionnaireVersion,
    Survey,
)
from storage.roles import AgencyRow
from storage.scores import answer_cases, day_bounds, read_frame, with_dates

agencies_t = Agency.__table__  # type: ignore[attr-defined]
alerts_t = Alert.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]
forms_t = QuestionnaireVersion.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]

CLOSED_STATUSES = (3, 7, 8)  # refused, withdrawn, stopped: nothing is late any more


@dataclass(frozen=True, slots=True)
class LateCase:
    """An open case of the scope, due before the horizon: what a head needs, no identity."""

    code: str
    agency_code: str
    procedure: str
    due_at: datetime


async def _rows(engine: AsyncEngine, statement: Any) -> list[Any]:
    with translate_errors():
        async with engine.connect() as conn:
            return list((await conn.execute(statement)).all())


# -- the agency tree --------------------------------------------------------------------------


async def agencies(engine: AsyncEngine) -> list[AgencyRow]:
    """Every agency with its parent and its own alert threshold and minimum sample."""
    rows = await _rows(
        engine,
        select(
            agencies_t.c.code,
            agencies_t.c.name,
            agencies_t.c.parent_code,
            agencies_t.c.alert_threshold,
            agencies_t.c.min_sample,
        ).order_by(agencies_t.c.code),
    )
    return [
        AgencyRow(
            code=str(r.code),
            name=str(r.name),
            parent_code=None if r.parent_code is None else str(r.parent_code),
            alert_threshold=None if r.alert_threshold is None else float(r.alert_threshold),
            min_sample=None if r.min_sample is None else int(r.min_sample),
        )
        for r in rows
    ]


def subtree(rows: Sequence[AgencyRow], roots: Sequence[str]) -> set[str]:
    """The roots and all their descendants (any depth; a cycle in the tree ends the walk)."""
    children: dict[str, list[str]] = {}
    for row in rows:
        if row.parent_code is not None:
            children.setdefault(row.parent_code, []).append(row.code)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        code = stack.pop()
        if code in seen:
            continue
        seen.add(code)
        stack.extend(children.get(code, ()))
    return seen


# -- late cases ---------------------------------------------------------------------------------


async def late_cases(
    engine: AsyncEngine, agency_codes: Sequence[str], *, horizon: datetime, limit: int = 50
) -> tuple[list[LateCase], int]:
    """Open cases of these agencies promised before `horizon` (local), oldest promise first;
    at most `limit` of them, and how many there are in all."""
    where = (
        cases_t.c.agency_code.in_(list(agency_codes)),
        cases_t.c.ended_at.is_(None),
        cases_t.c.due_at.is_not(None),
        cases_t.c.due_at < horizon,
        cases_t.c.status.not_in(CLOSED_STATUSES),
    )
    statement = (
        select(
            cases_t.c.code,
            cases_t.c.agency_code,
            procedures_t.c.name,
            cases_t.c.due_at,
        )
        .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
        .where(*where)
        .order_by(cases_t.c.due_at, cases_t.c.code)
        .limit(limit)
    )
    rows = await _rows(engine, statement)
    total = await _rows(engine, select(func.count()).select_from(cases_t).where(*where))
    found = [
        LateCase(code=str(r[0]), agency_code=str(r[1]), procedure=str(r[2]), due_at=r[3])
        for r in rows
    ]
    return found, int(total[0][0])


# -- report figures -----------------------------------------------------------------------------


async def level_rows(
    engine: AsyncEngine, start: date, end: date, agency_codes: Sequence[str]
) -> pd.DataFrame:
    """Five-level answers dated in [start, end] of these agencies' cases, counted per
    day/agency/procedure/question/level (the shape `scoring.counts.counts_from_levels` takes);
    a head's report does not split by officer."""
    frame = await scores.level_rows(engine, start, end, agency_codes)
    frame["officer_name"] = ""
    return frame


async def case_rows(
    engine: AsyncEngine, start: date, end: date, agency_codes: Sequence[str]
) -> pd.DataFrame:
    """These agencies' cases received by `end` and not ended before `start` (the columns of
    `storage.scores.case_rows`)."""
    return await scores.case_rows(engine, start, end, agency_codes)


async def feedback_answers(
    engine: AsyncEngine,
    start: date,
    end: date,
    agency_codes: Sequence[str],
    question_codes: Sequence[str],
) -> pd.DataFrame:
    """Answers to some questions (complaints, overall, expectations) on these agencies'
    cases, when the case ended in [start, end] or the answer is dated in it."""
    low, high = day_bounds(start, end)
    statement = (
        select(
            answers_t.c.survey_id,
            surveys_t.c.case_code,
            cases_t.c.ended_at,
            answers_t.c.question_code,
            answers_t.c.value_int,
            answers_t.c.choices,
            answers_t.c.answered_at,
        )
        .select_from(answer_cases)
        .where(
            cases_t.c.agency_code.in_(list(agency_codes)),
            answers_t.c.question_code.in_(list(question_codes)),
            answers_t.c.skipped.is_(False),
            or_(
                (cases_t.c.ended_at >= low) & (cases_t.c.ended_at < high),
                (answers_t.c.answered_at >= low) & (answers_t.c.answered_at < high),
            ),
        )
    )
    return with_dates(await read_frame(engine, statement), "ended_at", "answered_at")


async def invitations(
    engine: AsyncEngine, low: datetime, high: datetime, agency_codes: Sequence[str]
) -> tuple[int, int]:
    """Surveys sent to citizens in [low, high) (naive UTC) for these agencies' cases, and how
    many of them were completed (imported paper surveys are not invitations)."""
    statement = (
        select(
            func.count(),
            func.count().filter(surveys_t.c.status == "completed"),
        )
        .select_from(surveys_t)
        .join(cases_t, cases_t.c.code == surveys_t.c.case_code)
        .where(
            cases_t.c.agency_code.in_(list(agency_codes)),
            surveys_t.c.source != "import",
            surveys_t.c.invited_at >= low,
            surveys_t.c.invited_at < high,
        )
    )
    row = (await _rows(engine, statement))[0]
    return int(row[0] or 0), int(row[1] or 0)


async def procedure_names(engine: AsyncEngine, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await _rows(
        engine,
        select(procedures_t.c.code, procedures_t.c.name).where(
            procedures_t.c.code.in_(list(codes))
        ),
    )
    return {str(code): str(name) for code, name in rows}


async def questionnaire_definitions(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every published questionnaire definition, oldest first (later versions win a reused
    code); the unpublished draft is left out, so editing it cannot change any report."""
    stmt = select(forms_t.c.definition).where(forms_t.c.status != "draft")
    rows = await _rows(engine, stmt.order_by(forms_t.c.id))
    return [dict(r[0]) for r in rows]


# -- open alerts --------------------------------------------------------------------------------


async def open_alerts(
    engine: AsyncEngine, agency_codes: Sequence[str], *, limit: int = 10
) -> tuple[list[tuple[int, dict[str, Any], bool]], int]:
    """Unhandled alerts of these agencies, oldest first: (id, payload, complaint) of at most
    `limit`, and how many there are in all."""
    where = (alerts_t.c.agency_code.in_(list(agency_codes)), alerts_t.c.handled_at.is_(None))
    rows = await _rows(
        engine,
        select(alerts_t.c.id, alerts_t.c.payload, alerts_t.c.complaint)
        .where(*where)
        .order_by(alerts_t.c.created_at, alerts_t.c.id)
        .limit(limit),
    )
    total = await _rows(engine, select(func.count()).select_from(alerts_t).where(*where))
    return [(int(r[0]), dict(r[1]), bool(r[2])) for r in rows], int(total[0][0])


__all__ = [
    "AgencyRow",
    "LateCase",
    "agencies",
    "case_rows",
    "feedback_answers",
    "invitations",
    "late_cases",
    "level_rows",
    "open_alerts",
    "procedure_names",
    "questionnaire_definitions",
    "subtree",
]
