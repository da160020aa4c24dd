"""The outbox rows the survey queues: a catalog text by key, a survey question by code.

Rows carry codes and values, never rendered text: the views (`bot.conversation.views`) render
them at send time in the recipient's language and for the recipient's channel.
"""

from __future__ import annotations

from datetime import datetime

from storage.outbox import OutboxIntent


def text_intent(
    chat_id: int,
    key: str,
    *,
    keyboard: str | None = None,
    not_before: datetime | None = None,
    dedupe_key: str | None = None,
    **params: object,
) -> OutboxIntent:
    payload: dict[str, object] = {"key": key, "params": params}
    if keyboard:
        payload["keyboard"] = keyboard
    return OutboxIntent(
        chat_id=chat_id,
        kind="text",
        payload=payload,
        not_before=not_before,
        dedupe_key=dedupe_key,
    )


def question_intent(
    *,
    chat_id: int,
    survey_id: int,
    version: int,
    code: str | None,
    position: tuple[int, int],
    case_code: str,
    intro: str | None = None,
    draft: tuple[str, ...] = (),
    procedure: str | None = None,
    not_before: datetime | None = None,
) -> OutboxIntent:
    """The outbox row that asks a survey question (`position`: its number and the total)."""
    number, total = position
    payload: dict[str, object] = {
        "survey_id": survey_id,
        "version": version,
        "code": code,
        "number": number,
        "total": total,
        "intro": intro,
        "case_code": case_code,
        "draft": list(draft),
    }
    if procedure is not None:
        payload["procedure"] = procedure
    return OutboxIntent(
        chat_id=chat_id,
        kind="question",
        survey_id=survey_id,
        not_before=not_before,
        payload=payload,
    )
