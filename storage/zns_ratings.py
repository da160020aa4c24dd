"""ZNS service ratings as survey responses: the survey a rating's tracking id names, and a
rating recorded in one transaction.

The first rating of a survey completes it (whichever channel opened it, while it is open, or
expired after the rating was given); a later rating of a survey a rating completed replaces
the answers the earlier one wrote. Both are guarded like a chat's answer: the answers are
written first, then the survey row is moved only if it is still what the caller read, so a
chat, the web form, the webhook and the poll writing at once never both count; a caller whose
guard failed gets False and nothing is stored.

Without a column of its own (no migration), a survey completed by a rating keeps
`zns:<submit time in ms>` of the rating in effect in `prompt_message_id`, where a chat's
survey keeps the message its answer came from — cleared on every other completion — so "was
this completed by a rating, and by which" is one column and a compare-and-swap on it.
Times are naive UTC except `answers.answered_at`, which is local (as in `storage.surveys`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import Answer, OutboxMessage, Survey
from storage.outbox import PENDING
from storage.surveys import AnswerRow

surveys_t = Survey.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]

RATING_MARK = "zns:"
COMPLETED = "completed"


def rating_mark(submitted_ms: int) -> str:
    """What a survey completed by the rating submitted at `submitted_ms` keeps."""
    return f"{RATING_MARK}{submitted_ms}"


def rated_ms(mark: str | None) -> int | None:
    """The submit time kept by `rating_mark`, or None for anything else."""
    if mark is None or not mark.startswith(RATING_MARK):
        return None
    digits = mark[len(RATING_MARK) :]
    return int(digits) if digits.isascii() and digits.isdigit() else None


@dataclass(frozen=True, slots=True)
class RatedSurvey:
    """A survey as a rating sees it; `rated_ms` is the submit time of the rating in effect
    when a rating completed it (None otherwise)."""

    id: int
    case_code: str
    chat_id: int | None
    version: int
    status: str
    current_code: str | None
    expires_at: datetime
    rated_ms: int | None


_SURVEY = select(
    surveys_t.c.id,
    surveys_t.c.case_code,
    surveys_t.c.chat_id,
    surveys_t.c.questionnaire_version,
    surveys_t.c.status,
    surveys_t.c.current_code,
    surveys_t.c.expires_at,
    surveys_t.c.prompt_message_id,
).where(surveys_t.c.id == bindparam("survey_id"))


def _survey(row: Any) -> RatedSurvey:
    completed = row.status == COMPLETED
    return RatedSurvey(
        id=int(row.id),
        case_code=row.case_code,
        chat_id=None if row.chat_id is None else int(row.chat_id),
        version=int(row.questionnaire_version),
        status=row.status,
        current_code=row.current_code,
        expires_at=row.expires_at,
        rated_ms=rated_ms(row.prompt_message_id) if completed else None,
    )


class ZnsRatingStore:
    """The queries of ZNS ratings; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._answer = (
            dialect_insert(engine)(answers_t)
            .values(
                survey_id=bindparam("survey_id"),
                question_code=bindparam("question_code"),
                value_int=bindparam("value_int"),
                value_text=bindparam("value_text"),
                choices=bindparam("choices", type_=answers_t.c.choices.type),
                skipped=False,
                answered_at=bindparam("answered_at"),
            )
            .on_conflict_do_nothing(index_elements=["survey_id", "question_code"])
            .returning(answers_t.c.id)
        )

    async def survey(self, survey_id: int) -> RatedSurvey | None:
        """The survey with this id, or None."""
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(_SURVEY, {"survey_id": survey_id})).first()
        return None if row is None else _survey(row)

    async def record(
        self,
        survey: RatedSurvey,
        *,
        clear: Sequence[str],
        answers: Sequence[AnswerRow],
        submitted_ms: int,
        answered_at: datetime,
        now: datetime,
    ) -> bool:
        """Store a rating's `answers` (after removing the survey's answers to `clear`) and
        complete `survey` with it — or, when a rating completed it (`survey.rated_ms`), put
        this later one in its place. False, with nothing stored, when the survey changed
        since it was read (or another writer stored one of these answers meanwhile)."""
        codes = sorted({*clear, *(answer.question_code for answer in answers)})
        mark = rating_mark(submitted_ms)
        with translate_errors():
            async with self.engine.begin() as conn:
                # Answers first, then the guarded move: the order a chat's answer takes, so
                # the writers wait on each other instead of deadlocking.
                await conn.execute(
                    delete(answers_t).where(
                        answers_t.c.survey_id == survey.id, answers_t.c.question_code.in_(codes)
                    )
                )
                if not await self._insert(conn, survey.id, answers, answered_at):
                    await conn.rollback()
                    return False
                moved = await conn.execute(self._move(survey, mark, now))
                if moved.rowcount != 1:
                    await conn.rollback()
                    return False
                if survey.rated_ms is None:
                    await conn.execute(
                        update(outbox_t)
                        .where(outbox_t.c.survey_id == survey.id, outbox_t.c.status == PENDING)
                        .values(status="cancelled", last_error="survey answered by a ZNS rating")
                    )
        return True

    @staticmethod
    def _move(survey: RatedSurvey, mark: str, now: datetime) -> Any:
        """The guarded update of the survey row: a compare-and-swap of the rating in effect,
        or the completion of a survey nobody moved on since it was read."""
        if survey.rated_ms is not None:
            return (
                update(surveys_t)
                .where(
                    surveys_t.c.id == survey.id,
                    surveys_t.c.status == COMPLETED,
                    surveys_t.c.prompt_message_id == rating_mark(survey.rated_ms),
                )
                .values(prompt_message_id=mark, updated_at=now)
            )
        return (
            update(surveys_t)
            .where(
                surveys_t.c.id == survey.id,
                surveys_t.c.status == survey.status,
                surveys_t.c.current_code.is_not_distinct_from(survey.current_code),
                surveys_t.c.chat_id.is_not_distinct_from(survey.chat_id),
            )
            .values(
                status=COMPLETED,
                current_code=None,
                prompt_message_id=mark,
                draft_choices=None,
                started_at=func.coalesce(surveys_t.c.started_at, now),
                completed_at=now,
                updated_at=now,
            )
        )

    async def _insert(
        self,
        conn: AsyncConnection,
        survey_id: int,
        answers: Sequence[AnswerRow],
        answered_at: datetime,
    ) -> bool:
        """Insert each answer; False as soon as one was there already (written meanwhile)."""
        for answer in answers:
            inserted = (
                await conn.execute(
                    self._answer,
                    {
                        "survey_id": survey_id,
                        "question_code": answer.question_code,
                        "value_int": answer.value_int,
                        "value_text": answer.value_text,
                        "choices": None if answer.choices is None else list(answer.choices),
                        "answered_at": answered_at,
                    },
                )
            ).scalar()
            if inserted is None:
                return False
        return True


__all__ = ["RATING_MARK", "RatedSurvey", "ZnsRatingStore", "rated_ms", "rating_mark"]
