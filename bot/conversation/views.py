"""Outbox intents rendered as neutral `MessageView`s, in the recipient's language.

An intent carries codes and values (a text key and its parameters, a question code, an alert's
question codes and levels), never pre-rendered text: it is rendered here, at send time, in the
language of the chat it goes to. `buttons=False` words the texts for a channel without buttons
(the adapter then shows the choices as numbered lines, `bot.channels.numbered`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from bot.channels.base import MessageView
from bot.charts import sipas_chart
from bot.conversation.head_views import (
    alert_choices,
    alert_text,
    digest_text,
    follow_up_choices,
    format_day,
    monthly_text,
    parse_day,
)
from bot.conversation.questions import answer_label, question_choices, question_view
from bot.conversation.wording import lang as _lang
from bot.conversation.wording import say, say_head
from bot.survey.engine import Given
from bot.survey.questionnaire import Questionnaire
from bot.texts import BUTTONS, CASE_STATUS, LIKERT, TIMELINESS
from scoring.timeliness_rule import classify


class Forms(Protocol):
    async def get(self, version: int) -> Questionnaire: ...


class ViewRenderer:
    """Turns a claimed outbox row's kind and payload into a `MessageView`."""

    def __init__(self, forms: Forms, *, today: Callable[[], date]) -> None:
        self._forms = forms
        self._today = today

    async def render(
        self,
        kind: str,
        payload: dict[str, Any],
        language: str,
        *,
        buttons: bool = True,
        edits: bool = True,
        max_buttons: int | None = None,
    ) -> MessageView:
        """The row as a view, worded for a channel with or without buttons (and, where the
        channel carries fewer buttons than a question has options — `max_buttons` —, worded
        for typing, since those options are then numbered); where the channel cannot edit a
        sent message, a question confirms the answer before it."""
        lang = _lang(language)
        if kind == "text":
            keyboard = payload.get("keyboard")
            params = dict(payload.get("params", {}))
            about = params.pop("question", None)
            if buttons and max_buttons is not None and isinstance(about, dict):
                buttons = await self._options(about) <= max_buttons
            return MessageView(
                say(lang, payload["key"], buttons=buttons, **params),
                ask_phone=BUTTONS[lang]["contact"] if keyboard == "contact" else "",
                ask_phone_note=say(lang, "share_phone_note") if keyboard == "contact" else "",
                clear_keyboard=keyboard == "remove",
            )
        if kind == "question":
            view = await self._question(payload, lang, buttons=buttons, edits=edits)
            if buttons and max_buttons is not None and len(view.flat_choices()) > max_buttons:
                view = await self._question(payload, lang, buttons=False, edits=edits)
            return view
        if kind == "case_status":
            return MessageView(self._case_status(payload, lang))
        if kind == "notice":
            due = format_day(parse_day(payload.get("due")), lang)
            return MessageView(
                say(
                    lang,
                    f"notice_{payload['status']}",
                    code=payload["code"],
                    procedure=payload["procedure"],
                    due=due,
                )
            )
        if kind == "apology":
            return MessageView(self._apology(payload, lang))
        if kind == "monthly":
            return MessageView(monthly_text(payload, lang))
        if kind == "head_text":
            return MessageView(
                say_head(lang, payload["key"], buttons=buttons, **payload.get("params", {}))
            )
        if kind == "alert":
            alert_id = int(payload["alert_id"])
            text = alert_text(await self._resolved(payload, lang), lang)
            return MessageView(text, alert_choices(alert_id, lang))
        if kind == "follow_up":
            text = say_head(lang, "follow_up", buttons=buttons, code=payload.get("code", ""))
            return MessageView(text, follow_up_choices(int(payload["alert_id"]), lang))
        if kind == "digest":
            chart = await asyncio.to_thread(
                sipas_chart,
                [tuple(point) for point in payload.get("series", [])],
                title=say_head(lang, "digest_chart", agency=payload.get("agency", "")),
            )
            return MessageView(digest_text(payload, lang), picture=chart)
        raise ValueError(f"unknown outbox kind {kind!r}")

    async def _options(self, about: dict[str, Any]) -> int:
        """How many options the question a text is about shows."""
        form = await self._forms.get(int(about["version"]))
        question = form.question(str(about.get("code", "")))
        if question is None:
            return 0
        return len([c for row in question_choices(0, question, "vi") for c in row])

    async def _question(
        self, payload: dict[str, Any], lang: str, *, buttons: bool, edits: bool
    ) -> MessageView:
        form = await self._forms.get(int(payload["version"]))
        question = form.question(payload["code"])
        if question is None:
            raise ValueError(f"question {payload['code']!r} not in version {payload['version']}")
        intro = ""
        if payload.get("intro") == "invite":
            procedure = payload.get("procedure") or ""
            intro = say(
                lang, "invite", code=payload.get("case_code", ""), procedure=procedure
            ).replace(" ()", "")
        elif payload.get("intro") == "reminder":
            intro = say(lang, "reminder", code=payload.get("case_code", ""))
        answered = payload.get("answered")
        if not edits and isinstance(answered, dict):
            intro = "\n\n".join(part for part in (_noted(form, answered, lang), intro) if part)
        return question_view(
            int(payload["survey_id"]),
            question,
            lang,
            number=payload["number"],
            total=payload["total"],
            draft=tuple(payload.get("draft") or ()),
            intro=intro,
            buttons=buttons,
        )

    async def _resolved(self, payload: dict[str, Any], lang: str) -> dict[str, Any]:
        """A low-score alert's question codes and levels as text in the head's language.

        Alerts queued before codes were stored carry `items`/`reasons` as text: kept as is."""
        if "low" not in payload and "reason_picks" not in payload:
            return payload
        form = await self._forms.get(int(payload["version"]))
        items: list[str] = []
        for code, value in payload.get("low") or []:
            question = form.question(code)
            level = int(value)
            label = LIKERT[lang][level - 1] if 1 <= level <= 5 else str(value)
            text = (question.text_en if lang == "en" else question.text_vi) if question else code
            items.append(f"{text} → {label}")
        reasons: list[str] = []
        for code, pick in payload.get("reason_picks") or []:
            question = form.question(code)
            option = question.option(pick) if question else None
            reasons.append((option.text_en if lang == "en" else option.text_vi) if option else pick)
        return {**payload, "items": items, "reasons": reasons}

    def _case_status(self, payload: dict[str, Any], lang: str) -> str:
        due = parse_day(payload.get("due"))
        ended = parse_day(payload.get("ended"))
        timeliness = classify(ended=ended, due=due, today=self._today())
        return say(
            lang,
            "status",
            code=payload["code"],
            procedure=payload["procedure"],
            status=CASE_STATUS[lang].get(payload["status"], str(payload["status"])),
            received=format_day(parse_day(payload.get("received")), lang),
            due=format_day(due, lang),
            timeliness=TIMELINESS[lang][timeliness],
        )

    def _apology(self, payload: dict[str, Any], lang: str) -> str:
        return say(
            lang,
            "apology",
            name=payload.get("name") or say(lang, "citizen"),
            agency=payload.get("agency") or "",
            code=payload["code"],
            procedure=payload["procedure"],
            received=format_day(parse_day(payload.get("received")), lang),
            old_due=format_day(parse_day(payload.get("old_due")), lang),
            reason=payload.get("reason") or say(lang, "apology_no_reason"),
            unit=payload.get("unit") or payload.get("agency") or "",
            new_due=format_day(parse_day(payload.get("new_due")), lang),
            place=say(lang, "apology_place"),
        )


def _noted(form: Questionnaire, answered: dict[str, Any], lang: str) -> str:
    """ "✔ Đã ghi nhận câu 3: Hài lòng" — the answer the previous message could not show."""
    question = form.question(str(answered.get("code", "")))
    number = answered.get("number", "")
    if question is None:
        return ""
    if question.kind == "text" and not answered.get("skipped"):
        return say(lang, "answer_noted_plain", number=number)
    given = Given(
        value_int=answered.get("value_int"),
        choices=tuple(answered.get("choices") or ()) or None,
        skipped=bool(answered.get("skipped")),
    )
    return say(lang, "answer_noted", number=number, choice=answer_label(question, given, lang))
