"""Neutral message views as Telegram markup: inline buttons, the contact-request keyboard.

The wording and the choices come from the neutral views (`bot.conversation`); the actions the
buttons carry from the one codec (`bot.channels.actions`, at most 64 bytes of `callback_data`).
The names below the markup functions keep the older Telegram-shaped entry points (text and
markup from an outbox row, a question's keyboard) for the tools and tests that use them.
"""

from __future__ import annotations

from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.channels.actions import (
    ALERT_PREFIX,
    FOLLOW_UP_PREFIX,
    answer_action,
    decode_alert,
    decode_answer,
    decode_follow_up,
)
from bot.channels.base import Choice, MessageView
from bot.conversation.questions import answer_label, answered_text, prompt, question_choices
from bot.conversation.views import Forms, ViewRenderer
from bot.survey.questionnaire import Question

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
__all__ = [
    "ALERT_PREFIX",
    "FOLLOW_UP_PREFIX",
    "Markup",
    "TelegramRenderer",
    "answer_label",
    "answered_text",
    "inline_markup",
    "markup",
    "parse_alert_press",
    "parse_follow_up",
    "parse_press",
    "press_data",
    "prompt",
    "question_keyboard",
]


def _inline(rows: list[list[Choice]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=c.action) for c in row] for row in rows]
    )


def inline_markup(view: MessageView) -> InlineKeyboardMarkup | None:
    """The view's choices as inline buttons (None without choices)."""
    return _inline(view.choices)


def markup(view: MessageView) -> Markup | None:
    """Everything under a sent message: inline buttons, or the phone-request keyboard."""
    if view.ask_phone:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(view.ask_phone, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if view.clear_keyboard:
        return ReplyKeyboardRemove()
    return inline_markup(view)


def press_data(survey_id: int, code: str, value: str) -> str:
    """Callback data of an answer button: short ids only (Telegram allows 64 bytes)."""
    return answer_action(survey_id, code, value)


def parse_press(data: str) -> tuple[int, str, str] | None:
    """(survey id, question code, value) of an answer button; None for anything the bot does
    not make (a forged id too long for the database included)."""
    found = decode_answer(data)
    return None if found is None else (found.survey_id, found.code, found.value)


def parse_alert_press(data: str) -> tuple[int, str] | None:
    """(alert id, "a" | "d") of an alert button, or None."""
    found = decode_alert(data)
    return None if found is None else (found.alert_id, "a" if found.action == "ack" else "d")


def parse_follow_up(data: str) -> tuple[int, bool] | None:
    """(alert id, satisfied?) of a follow-up button, or None."""
    found = decode_follow_up(data)
    return None if found is None else (found.alert_id, found.satisfied)


def question_keyboard(
    survey_id: int, question: Question, language: str, *, draft: tuple[str, ...] = ()
) -> InlineKeyboardMarkup | None:
    return _inline(question_choices(survey_id, question, language, draft=draft))


class TelegramRenderer:
    """A claimed outbox row as (text, reply markup) in the chat's language."""

    def __init__(self, forms: Forms, *, today: Any) -> None:
        self._views = ViewRenderer(forms, today=today)

    async def render(
        self, kind: str, payload: dict[str, Any], language: str
    ) -> tuple[str, Markup | None]:
        view = await self._views.render(kind, payload, language)
        return view.text, markup(view)
