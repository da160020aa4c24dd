"""What scoring needs from the bot's side: which factor and topic each question code has."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.survey.questionnaire import FORMS, Questionnaire, builtin
from storage.errors import translate_errors
from storage.models import QuestionnaireVersion

if TYPE_CHECKING:  # only the type: scheduler.scoring_jobs loads pandas
    from scheduler.scoring_jobs import QuestionMeta

forms_t = QuestionnaireVersion.__table__  # type: ignore[attr-defined]


async def question_meta(engine: AsyncEngine) -> QuestionMeta:
    """(factor, topic) of every code of the built-in forms and every stored version."""
    forms = [builtin(base) for base in FORMS]
    with translate_errors():
        async with engine.connect() as conn:
            # Only versions surveys can have used: an unpublished draft must not change scoring.
            stmt = select(forms_t.c.definition).where(forms_t.c.status != "draft")
            rows = (await conn.execute(stmt.order_by(forms_t.c.id))).all()
    forms += [Questionnaire.from_dict(dict(row.definition)) for row in rows]
    meta: dict[str, tuple[int | None, str]] = {}
    for form in forms:  # later versions win for a reused code
        for question in form.questions:
            meta[question.code] = (question.factor, question.topic)
    return meta
