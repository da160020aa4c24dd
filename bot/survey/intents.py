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
    answered: dict[str, object] | None = None,
) -> OutboxIntent:
    """The outbox row that asks a survey question (`position`: its number and the total).

    `answered` is the question just answered (its code, number and the answer's values, never
    free text): a channel that cannot edit the answered message confirms it in this one."""
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
    if answered is not None:
        payload["answered"] = answered
    return OutboxIntent(
        chat_id=chat_id,
        kind="question",
        survey_id=survey_id,
        not_before=not_before,
        payload=payload,
    )
