"""Reads and writes behind `sipas import-responses` (historical paper, kiosk or portal surveys).

The import is validated in full before anything is written (`bot.importer`); the write is one
transaction: a survey (source ``import``, no chat) for every case that has none, then every
answer. A (survey, question) pair stored by someone else in the meantime makes the unique
constraint fail, and the whole import is rolled back (`ImportConflict`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import StorageError, translate_errors
from storage.models import Answer, Case, Survey

cases_t = Case.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]

# Bound parameters per statement stay far below SQLite's and asyncpg's limits.
CHUNK = 500


class ImportConflict(StorageError):
    """An answer of the import was stored by someone else meanwhile; nothing was written."""


@dataclass(frozen=True, slots=True)
class CaseRef:
    """What the import needs to know of a case."""

    code: str
    agency_code: str
    survey_id: int | None


@dataclass(frozen=True, slots=True)
class NewAnswer:
    """One validated answer to store; `answered_at` is naive local time."""

    case_code: str
    question_code: str
    value_int: int
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class Written:
    answers: int
    cases: int
    surveys_created: int


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    unique = sorted(set(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


async def case_refs(engine: AsyncEngine, codes: Iterable[str]) -> dict[str, CaseRef]:
    """The known cases among `codes`, with their agency and survey (if any)."""
    found: dict[str, CaseRef] = {}
    with translate_errors():
        async with engine.connect() as conn:
            for chunk in _chunks(codes):
                statement = (
                    select(cases_t.c.code, cases_t.c.agency_code, surveys_t.c.id)
                    .outerjoin(surveys_t, surveys_t.c.case_code == cases_t.c.code)
                    .where(cases_t.c.code.in_(chunk))
                )
                for code, agency, survey_id in (await conn.execute(statement)).all():
                    found[code] = CaseRef(
                        code=code,
                        agency_code=agency,
                        survey_id=None if survey_id is None else int(survey_id),
                    )
    return found


async def stored_pairs(engine: AsyncEngine, codes: Iterable[str]) -> set[tuple[str, str]]:
    """(case code, question code) of every answer already stored for the cases `codes`.

    A skipped answer counts: it holds the (survey, question) slot all the same.
    """
    pairs: set[tuple[str, str]] = set()
    with translate_errors():
        async with engine.connect() as conn:
            for chunk in _chunks(codes):
                statement = (
                    select(surveys_t.c.case_code, answers_t.c.question_code)
                    .join(answers_t, answers_t.c.survey_id == surveys_t.c.id)
                    .where(surveys_t.c.case_code.in_(chunk))
                )
                pairs.update((c, q) for c, q in (await conn.execute(statement)).all())
    return pairs


async def write_answers(
    engine: AsyncEngine, answers: Sequence[NewAnswer], *, version: int, now: datetime
) -> Written:
    """Store `answers` in one transaction, creating the missing surveys first.

    A new survey is ``source='import'``, no chat, ``completed``, tied to questionnaire
    `version`; `now` is naive UTC. A case that already has a survey gets the answers added.
    """
    codes = sorted({a.case_code for a in answers})
    insert_survey = dialect_insert(engine)(surveys_t).on_conflict_do_nothing(
        index_elements=["case_code"]
    )
    try:
        with translate_errors():
            async with engine.begin() as conn:
                existing: dict[str, int] = {}
                for chunk in _chunks(codes):
                    rows = await conn.execute(
                        select(surveys_t.c.case_code, surveys_t.c.id).where(
                            surveys_t.c.case_code.in_(chunk)
                        )
                    )
                    existing.update((c, int(i)) for c, i in rows.all())
                missing = [c for c in codes if c not in existing]
                created = 0
                if missing:
                    result = await conn.execute(
                        insert_survey.returning(surveys_t.c.case_code, surveys_t.c.id),
                        [_new_survey(code, version=version, now=now) for code in missing],
                    )
                    made = {c: int(i) for c, i in result.all()}
                    created = len(made)
                    existing.update(made)
                    # Created by someone else between the read and the insert: use theirs.
                    for chunk in _chunks(c for c in missing if c not in made):
                        rows = await conn.execute(
                            select(surveys_t.c.case_code, surveys_t.c.id).where(
                                surveys_t.c.case_code.in_(chunk)
                            )
                        )
                        existing.update((c, int(i)) for c, i in rows.all())
                if answers:
                    await conn.execute(
                        insert(answers_t),
                        [
                            {
                                "survey_id": existing[a.case_code],
                                "question_code": a.question_code,
                                "value_int": a.value_int,
                                "value_text": None,
                                "choices": None,
                                "skipped": False,
                                "answered_at": a.answered_at,
                            }
                            for a in answers
                        ],
                    )
    except IntegrityError as exc:
        raise ImportConflict(
            "an answer of this file was stored meanwhile; nothing was imported"
        ) from exc
    return Written(answers=len(answers), cases=len(codes), surveys_created=created)


def _new_survey(code: str, *, version: int, now: datetime) -> dict[str, Any]:
    return {
        "case_code": code,
        "chat_id": None,
        "source": "import",
        "questionnaire_version": version,
        "status": "completed",
        "current_code": None,
        "invited_at": now,
        "completed_at": now,
        "expires_at": now,
        "updated_at": now,
    }


__all__ = [
    "CaseRef",
    "ImportConflict",
    "NewAnswer",
    "Written",
    "case_refs",
    "stored_pairs",
    "write_answers",
]
