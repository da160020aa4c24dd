"""Surveys and their answers: opening invitations, recording answers, reminders and expiry.

Every change that also sends something writes its outbox rows in the same transaction
(`storage.outbox.enqueue`), so a message is never lost or sent for a change that did not happen.
Times are naive UTC except `answers.answered_at`, which is local (reports count by local day).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import Answer, Case, CaseLink, Chat, OutboxMessage, Procedure, Survey
from storage.outbox import OutboxIntent, enqueue

chats_t = Chat.__table__  # type: ignore[attr-defined]
links_t = CaseLink.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]

OPEN_SURVEY = ("invited", "in_progress")
START_BATCH = 500


@dataclass(frozen=True, slots=True)
class SurveyRow:
    id: int
    case_code: str
    chat_id: int
    version: int
    status: str
    current_code: str | None
    prompt_message_id: str | None
    draft_choices: tuple[str, ...]
    invited_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AnswerRow:
    question_code: str
    value_int: int | None
    value_text: str | None
    choices: tuple[str, ...] | None
    skipped: bool


_SURVEY_COLUMNS = (
    surveys_t.c.id,
    surveys_t.c.case_code,
    surveys_t.c.chat_id,
    surveys_t.c.questionnaire_version,
    surveys_t.c.status,
    surveys_t.c.current_code,
    surveys_t.c.prompt_message_id,
    surveys_t.c.draft_choices,
    surveys_t.c.invited_at,
    surveys_t.c.expires_at,
)
_SURVEY_BY_ID = select(*_SURVEY_COLUMNS).where(surveys_t.c.id == bindparam("survey_id"))
_ANSWERS_OF = select(
    answers_t.c.question_code,
    answers_t.c.value_int,
    answers_t.c.value_text,
    answers_t.c.choices,
    answers_t.c.skipped,
).where(answers_t.c.survey_id == bindparam("survey_id"))


def _survey(row: Any) -> SurveyRow:
    return SurveyRow(
        id=row.id,
        case_code=row.case_code,
        chat_id=row.chat_id,
        version=row.questionnaire_version,
        status=row.status,
        current_code=row.current_code,
        prompt_message_id=row.prompt_message_id,
        draft_choices=tuple(row.draft_choices or ()),
        invited_at=row.invited_at,
        expires_at=row.expires_at,
    )


def _answer(row: Any) -> AnswerRow:
    return AnswerRow(
        question_code=row.question_code,
        value_int=row.value_int,
        value_text=row.value_text,
        choices=None if row.choices is None else tuple(row.choices),
        skipped=bool(row.skipped),
    )


class SurveyStore:
    """Surveys and their answers; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)
        self._answer_insert = (
            self._insert(answers_t)
            .values(
                survey_id=bindparam("survey_id"),
                question_code=bindparam("question_code"),
                value_int=bindparam("value_int"),
                value_text=bindparam("value_text"),
                choices=bindparam("choices", type_=answers_t.c.choices.type),
                skipped=bindparam("skipped"),
                answered_at=bindparam("answered_at"),
            )
            .on_conflict_do_nothing(index_elements=["survey_id", "question_code"])
            .returning(answers_t.c.id)
        )

    async def open_surveys(
        self,
        items: Sequence[tuple[str, int]],
        *,
        version: int,
        first_code: str,
        now: datetime,
        expires_at: datetime,
        intents_for: Callable[[int, str, int], Sequence[OutboxIntent]],
    ) -> int:
        """Open many surveys (case code, chat id) in one transaction; return how many opened.

        `intents_for(survey_id, case_code, chat_id)` gives each new survey's first messages.
        """
        statement = (
            self._insert(surveys_t)
            .values(
                case_code=bindparam("case_code"),
                chat_id=bindparam("chat_id"),
                questionnaire_version=version,
                status="invited",
                current_code=first_code,
                invited_at=now,
                expires_at=expires_at,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["case_code"])
            .returning(surveys_t.c.id)
        )
        opened = 0
        with translate_errors():
            async with self.engine.begin() as conn:
                intents: list[OutboxIntent] = []
                for case_code, chat_id in items:
                    survey_id = (
                        await conn.execute(statement, {"case_code": case_code, "chat_id": chat_id})
                    ).scalar()
                    if survey_id is not None:
                        opened += 1
                        intents.extend(intents_for(int(survey_id), case_code, chat_id))
                await enqueue(conn, intents, now=now)
        return opened

    async def survey(self, survey_id: int) -> tuple[SurveyRow, list[AnswerRow]] | None:
        """A survey and its answers, read together."""
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(_SURVEY_BY_ID, {"survey_id": survey_id})).first()
                if row is None:
                    return None
                answers = (await conn.execute(_ANSWERS_OF, {"survey_id": survey_id})).all()
        return _survey(row), [_answer(a) for a in answers]

    async def survey_awaiting_text(self, chat_id: int) -> SurveyRow | None:
        """The chat's open survey most recently prompted (typed answers go there)."""
        stmt = (
            select(*_SURVEY_COLUMNS)
            .where(surveys_t.c.chat_id == chat_id, surveys_t.c.status.in_(OPEN_SURVEY))
            .order_by(surveys_t.c.updated_at.desc(), surveys_t.c.id.desc())
            .limit(1)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else _survey(row)

    async def record_answer(
        self,
        survey: SurveyRow,
        *,
        question_code: str,
        value_int: int | None,
        value_text: str | None,
        choices: Sequence[str] | None,
        skipped: bool,
        answered_at: datetime,
        next_code: str | None,
        now: datetime,
        intents: Sequence[OutboxIntent],
    ) -> bool:
        """Store one answer and move the survey on; False if it was answered meanwhile."""
        with translate_errors():
            async with self.engine.begin() as conn:
                inserted = (
                    await conn.execute(
                        self._answer_insert,
                        {
                            "survey_id": survey.id,
                            "question_code": question_code,
                            "value_int": value_int,
                            "value_text": value_text,
                            "choices": list(choices) if choices is not None else None,
                            "skipped": skipped,
                            "answered_at": answered_at,
                        },
                    )
                ).scalar()
                if inserted is None:
                    return False
                moved = await conn.execute(
                    update(surveys_t)
                    .where(
                        surveys_t.c.id == survey.id,
                        # a takeover may have given the survey to another chat meanwhile
                        surveys_t.c.chat_id == survey.chat_id,
                        surveys_t.c.status.in_(OPEN_SURVEY),
                        surveys_t.c.current_code == question_code,
                    )
                    .values(
                        status="completed" if next_code is None else "in_progress",
                        current_code=next_code,
                        prompt_message_id=None,
                        draft_choices=None,
                        started_at=func.coalesce(surveys_t.c.started_at, now),
                        completed_at=now if next_code is None else None,
                        updated_at=now,
                    )
                )
                if moved.rowcount != 1:
                    await conn.rollback()
                    return False
                await enqueue(conn, intents, now=now)
        return True

    async def set_draft(self, survey_id: int, choices: Sequence[str], *, now: datetime) -> None:
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(surveys_t)
                    .where(surveys_t.c.id == survey_id)
                    .values(draft_choices=list(choices), updated_at=now)
                )

    async def due_for_start(self, statuses: Sequence[int]) -> list[tuple[str, int, str]]:
        """Linked cases at a survey status without a survey: (case code, chat id, procedure)."""
        stmt = (
            select(links_t.c.case_code, links_t.c.chat_id, procedures_t.c.name)
            .join(cases_t, cases_t.c.code == links_t.c.case_code)
            .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
            .join(chats_t, chats_t.c.id == links_t.c.chat_id)
            .outerjoin(surveys_t, surveys_t.c.case_code == links_t.c.case_code)
            .where(
                surveys_t.c.id.is_(None),
                cases_t.c.status.in_(list(statuses)),
                chats_t.c.opted_out.is_(False),
                chats_t.c.blocked_at.is_(None),
            )
            .limit(START_BATCH)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [(r.case_code, int(r.chat_id), str(r.name)) for r in rows]

    async def expire(self, *, now: datetime) -> int:
        """End open surveys whose invitation has expired."""
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    update(surveys_t)
                    .where(surveys_t.c.status.in_(OPEN_SURVEY), surveys_t.c.expires_at <= now)
                    .values(status="expired", updated_at=now)
                )
        return int(result.rowcount or 0)

    async def due_reminders(self, *, invited_before: datetime, now: datetime) -> list[SurveyRow]:
        stmt = (
            select(*_SURVEY_COLUMNS)
            .join(chats_t, chats_t.c.id == surveys_t.c.chat_id)
            .where(
                surveys_t.c.status.in_(OPEN_SURVEY),
                surveys_t.c.reminded_at.is_(None),
                surveys_t.c.invited_at <= invited_before,
                surveys_t.c.expires_at > now,
                chats_t.c.blocked_at.is_(None),
                chats_t.c.opted_out.is_(False),
            )
            .limit(1000)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [_survey(r) for r in (await conn.execute(stmt)).all()]

    async def remind(
        self, survey_id: int, *, now: datetime, intents: Sequence[OutboxIntent]
    ) -> bool:
        with translate_errors():
            async with self.engine.begin() as conn:
                marked = await conn.execute(
                    update(surveys_t)
                    .where(surveys_t.c.id == survey_id, surveys_t.c.reminded_at.is_(None))
                    .values(reminded_at=now)
                )
                if marked.rowcount != 1:
                    return False
                await enqueue(conn, intents, now=now)
        return True

    async def survey_summary(self, case_code: str) -> tuple[str, int] | None:
        """(status, number of answers) of a case's survey for the read API."""
        stmt = (
            select(surveys_t.c.status, func.count(answers_t.c.id))
            .outerjoin(
                answers_t,
                and_(answers_t.c.survey_id == surveys_t.c.id, answers_t.c.skipped.is_(False)),
            )
            .where(surveys_t.c.case_code == case_code)
            .group_by(surveys_t.c.status)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else (str(row[0]), int(row[1]))

    async def hand_to_chat(
        self, survey_id: int, *, chat_id: int, from_channel: str, now: datetime
    ) -> bool:
        """Give an unanswered survey held by a chat of `from_channel` (ZNS) to a chat the
        citizen just linked, and drop what still waits to go to the old one; False when the
        survey was answered, finished or moved meanwhile."""
        from_chats = select(chats_t.c.id).where(chats_t.c.channel == from_channel)
        unanswered = ~select(answers_t.c.id).where(answers_t.c.survey_id == survey_id).exists()
        with translate_errors():
            async with self.engine.begin() as conn:
                moved = await conn.execute(
                    update(surveys_t)
                    .where(
                        surveys_t.c.id == survey_id,
                        surveys_t.c.status.in_(OPEN_SURVEY),
                        surveys_t.c.chat_id.in_(from_chats.scalar_subquery()),
                        unanswered,
                    )
                    .values(
                        chat_id=chat_id,
                        source=select(chats_t.c.channel)
                        .where(chats_t.c.id == chat_id)
                        .scalar_subquery(),
                        prompt_message_id=None,
                        updated_at=now,
                    )
                )
                if moved.rowcount != 1:
                    return False
                await conn.execute(
                    update(outbox_t)
                    .where(
                        outbox_t.c.survey_id == survey_id,
                        outbox_t.c.status == "pending",
                        outbox_t.c.chat_id != chat_id,
                    )
                    .values(status="cancelled", last_error="survey moved to a linked chat")
                )
        return True


__all__ = ["OPEN_SURVEY", "START_BATCH", "AnswerRow", "SurveyRow", "SurveyStore"]
