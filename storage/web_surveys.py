"""The web survey's reads and its one write: a case's survey as the web page needs it, and a
whole submitted form stored in one transaction.

The web form is all or nothing: a POST either records every answer the respondent still owed
(completing the survey, whichever channel opened it) or records nothing. A survey that does
not exist yet is opened by the same transaction (`chat_id` NULL, `source` "web"); one that a
chat opened is completed only if nobody moved it on meanwhile (its current question and chat
are what the page was built from), so a chat and the web answering at once never both count.
Times are naive UTC except `answers.answered_at`, which is local (as in `storage.surveys`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import Answer, CaseEvent, OutboxMessage, Survey
from storage.outbox import PENDING
from storage.surveys import OPEN_SURVEY, AnswerRow

surveys_t = Survey.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]
events_t = CaseEvent.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]

WEB_SOURCE = "web"


@dataclass(frozen=True, slots=True)
class WebSurveyRow:
    """A case's survey as the web sees it (`chat_id` is None when no chat holds it)."""

    id: int
    case_code: str
    chat_id: int | None
    source: str
    version: int
    status: str
    current_code: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class WebCaseState:
    """A case's survey and its answers (None and [] when none is open yet), and when the case
    was first recorded at a survey status (naive UTC; None if it never was)."""

    survey: WebSurveyRow | None
    answers: list[AnswerRow]
    reached_at: datetime | None


_SURVEY_OF_CASE = select(
    surveys_t.c.id,
    surveys_t.c.case_code,
    surveys_t.c.chat_id,
    surveys_t.c.source,
    surveys_t.c.questionnaire_version,
    surveys_t.c.status,
    surveys_t.c.current_code,
    surveys_t.c.expires_at,
).where(surveys_t.c.case_code == bindparam("case_code"))
_ANSWERS_OF = (
    select(
        answers_t.c.question_code,
        answers_t.c.value_int,
        answers_t.c.value_text,
        answers_t.c.choices,
        answers_t.c.skipped,
    )
    .where(answers_t.c.survey_id == bindparam("survey_id"))
    .order_by(answers_t.c.id)
)


def _row(row: Any) -> WebSurveyRow:
    return WebSurveyRow(
        id=int(row.id),
        case_code=row.case_code,
        chat_id=None if row.chat_id is None else int(row.chat_id),
        source=row.source,
        version=int(row.questionnaire_version),
        status=row.status,
        current_code=row.current_code,
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


class WebSurveyStore:
    """The web survey's queries; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        insert = dialect_insert(engine)
        self._open = (
            insert(surveys_t)
            .values(
                case_code=bindparam("case_code"),
                chat_id=None,
                source=WEB_SOURCE,
                questionnaire_version=bindparam("version"),
                status="completed",
                current_code=None,
                invited_at=bindparam("now"),
                started_at=bindparam("now"),
                completed_at=bindparam("now"),
                expires_at=bindparam("expires_at"),
                updated_at=bindparam("now"),
            )
            .on_conflict_do_nothing(index_elements=["case_code"])
            .returning(surveys_t.c.id)
        )
        self._answer = (
            insert(answers_t)
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

    async def state(self, case_code: str, statuses: Sequence[int]) -> WebCaseState:
        """The case's survey with its answers (in the order given), and when it reached one of
        `statuses` (its first such delivery, as recorded)."""
        reached = select(func.min(events_t.c.recorded_at)).where(
            events_t.c.case_code == case_code, events_t.c.status.in_(list(statuses))
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(_SURVEY_OF_CASE, {"case_code": case_code})).first()
                answers = (
                    []
                    if row is None
                    else (await conn.execute(_ANSWERS_OF, {"survey_id": row.id})).all()
                )
                reached_at = (await conn.execute(reached)).scalar()
        return WebCaseState(
            survey=None if row is None else _row(row),
            answers=[_answer(a) for a in answers],
            reached_at=reached_at,
        )

    async def complete(
        self,
        case_code: str,
        survey: WebSurveyRow | None,
        *,
        version: int,
        answers: Sequence[AnswerRow],
        answered_at: datetime,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        """Store `answers` (in asking order) and complete the case's survey; its id, or None
        when the survey changed since `survey` was read (nothing is stored then).

        `survey` None opens the case's survey as a web one on `version` (None again if another
        channel opened one meanwhile); otherwise `survey` must still be open, unexpired, on the
        same current question and held by the same chat. Messages still waiting to go to its
        chat about this survey (a question, a reminder) are cancelled: it is answered."""
        with translate_errors():
            async with self.engine.begin() as conn:
                if survey is None:
                    opened = (
                        await conn.execute(
                            self._open,
                            {
                                "case_code": case_code,
                                "version": version,
                                "now": now,
                                "expires_at": expires_at,
                            },
                        )
                    ).scalar()
                    if opened is None:
                        await conn.rollback()
                        return None
                    survey_id = int(opened)
                    if not await self._insert_answers(conn, survey_id, answers, answered_at):
                        await conn.rollback()
                        return None
                    return survey_id
                # Answers first, then the guarded move: the order a chat's answer takes, so the
                # two writers wait on each other instead of deadlocking.
                if not await self._insert_answers(conn, survey.id, answers, answered_at):
                    await conn.rollback()
                    return None
                moved = await conn.execute(
                    update(surveys_t)
                    .where(
                        surveys_t.c.id == survey.id,
                        surveys_t.c.status.in_(OPEN_SURVEY),
                        surveys_t.c.expires_at > now,
                        surveys_t.c.current_code == survey.current_code,
                        surveys_t.c.chat_id.is_not_distinct_from(survey.chat_id),
                    )
                    .values(
                        status="completed",
                        current_code=None,
                        prompt_message_id=None,
                        draft_choices=None,
                        started_at=func.coalesce(surveys_t.c.started_at, now),
                        completed_at=now,
                        updated_at=now,
                    )
                )
                if moved.rowcount != 1:
                    await conn.rollback()
                    return None
                await conn.execute(
                    update(outbox_t)
                    .where(outbox_t.c.survey_id == survey.id, outbox_t.c.status == PENDING)
                    .values(status="cancelled", last_error="survey answered on the web")
                )
        return survey.id

    async def _insert_answers(
        self,
        conn: AsyncConnection,
        survey_id: int,
        answers: Sequence[AnswerRow],
        answered_at: datetime,
    ) -> bool:
        """Insert the answers in one statement (SQLAlchemy's "insert many values": one
        round trip); False when one was already there (answered meanwhile)."""
        if not answers:
            return True
        rows = [
            {
                "survey_id": survey_id,
                "question_code": answer.question_code,
                "value_int": answer.value_int,
                "value_text": answer.value_text,
                "choices": None if answer.choices is None else list(answer.choices),
                "skipped": answer.skipped,
                "answered_at": answered_at,
            }
            for answer in answers
        ]
        inserted = (await conn.execute(self._answer, rows)).all()
        return len(inserted) == len(rows)


__all__ = ["WEB_SOURCE", "WebCaseState", "WebSurveyRow", "WebSurveyStore"]
