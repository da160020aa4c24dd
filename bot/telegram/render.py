"""Render outbox intents and survey questions as Telegram messages and keyboards."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.survey.engine import DONE, NO, SKIP, YES, Given
from bot.survey.questionnaire import Question
from bot.survey.service import FormCache
from bot.texts import BUTTONS, CASE_STATUS, LIKERT, TIMELINESS, VI, chat_text, head_text
from scoring.timeliness import classify

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
PRESS_PREFIX = "a"
ALERT_PREFIX = "k"  # k:<alert id>:a (acknowledged) | k:<alert id>:d (handled)
FOLLOW_UP_PREFIX = "f"  # f:<alert id>:y | f:<alert id>:n (the citizen is satisfied or not)
# Row ids the bot puts in buttons: ASCII digits that fit the databases' 64-bit integers.
_ID = r"[0-9]{1,18}"
ALERT_PRESS = re.compile(rf"{ALERT_PREFIX}:({_ID}):([ad])")
FOLLOW_UP_PRESS = re.compile(rf"{FOLLOW_UP_PREFIX}:({_ID}):([yn])")
_SURVEY_ID = re.compile(_ID)


def press_data(survey_id: int, code: str, value: str) -> str:
    """Callback data of an answer button: short ids only (Telegram allows 64 bytes)."""
    return f"{PRESS_PREFIX}:{survey_id}:{code}:{value}"


def parse_press(data: str) -> tuple[int, str, str] | None:
    """(survey id, question code, value) of an answer button; None for anything the bot does
    not make (a forged id too long for the database included)."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != PRESS_PREFIX or not _SURVEY_ID.fullmatch(parts[1]):
        return None
    return int(parts[1]), parts[2], parts[3]


def parse_alert_press(data: str) -> tuple[int, str] | None:
    """(alert id, "a" | "d") of an alert button, or None."""
    found = ALERT_PRESS.fullmatch(data)
    return None if found is None else (int(found.group(1)), found.group(2))


def parse_follow_up(data: str) -> tuple[int, bool] | None:
    """(alert id, satisfied?) of a follow-up button, or None."""
    found = FOLLOW_UP_PRESS.fullmatch(data)
    return None if found is None else (int(found.group(1)), found.group(2) == "y")


def _lang(language: str) -> str:
    return language if language in LIKERT else VI


def question_text(question: Question, language: str) -> str:
    return question.text_en if _lang(language) == "en" else question.text_vi


def option_label(question: Question, code: str, language: str) -> str:
    option = question.option(code)
    if option is None:
        return code
    return option.text_en if _lang(language) == "en" else option.text_vi


def answer_label(question: Question, answer: Given, language: str) -> str:
    """How an answer reads back to the citizen."""
    lang = _lang(language)
    if answer.skipped:
        return chat_text(lang, "skipped")
    if question.kind == "likert5" and answer.value_int is not None:
        return LIKERT[lang][answer.value_int - 1]
    if question.kind == "yes_no":
        return BUTTONS[lang]["yes" if answer.value_int else "no"]
    if question.kind == "choice" and answer.choices:
        return "; ".join(option_label(question, c, lang) for c in answer.choices)
    return answer.value_text or ""


def prompt(question: Question, language: str, *, number: int, total: int) -> str:
    lang = _lang(language)
    text = chat_text(
        lang, "question", number=number, total=total, text=question_text(question, lang)
    )
    if question.kind == "text":
        text += "\n" + chat_text(lang, "hint_text")
    elif question.kind == "choice" and question.max_choices > 1:
        text += "\n" + chat_text(lang, "hint_multi", max=question.max_choices)
    return text


def answered_text(
    question: Question, answer: Given, language: str, *, number: int, total: int
) -> str:
    """The question message after it was answered: the question and the answer, no buttons."""
    lang = _lang(language)
    asked = chat_text(
        lang, "question", number=number, total=total, text=question_text(question, lang)
    )
    return asked + "\n" + chat_text(lang, "answered", choice=answer_label(question, answer, lang))


def question_keyboard(
    survey_id: int, question: Question, language: str, *, draft: tuple[str, ...] = ()
) -> InlineKeyboardMarkup | None:
    lang = _lang(language)
    labels = BUTTONS[lang]
    rows: list[list[InlineKeyboardButton]] = []

    def button(text: str, value: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text, callback_data=press_data(survey_id, question.code, value))

    if question.kind == "likert5":
        rows = [
            [button(f"{level}. {label}", str(level))]
            for level, label in enumerate(LIKERT[lang], start=1)
        ]
    elif question.kind == "yes_no":
        rows = [[button(labels["yes"], YES), button(labels["no"], NO)]]
    elif question.kind == "choice":
        for option in question.options:
            mark = "✅ " if option.code in draft else ""
            rows.append([button(mark + option_label(question, option.code, lang), option.code)])
        if question.max_choices > 1:
            rows.append([button(labels["done"], DONE)])
    if not question.required:
        rows.append([button(labels["skip"], SKIP)])
    return InlineKeyboardMarkup(rows) if rows else None


def alert_keyboard(alert_id: int, language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    head_text(language, "ack"), callback_data=f"{ALERT_PREFIX}:{alert_id}:a"
                ),
                InlineKeyboardButton(
                    head_text(language, "done"), callback_data=f"{ALERT_PREFIX}:{alert_id}:d"
                ),
            ]
        ]
    )


def alert_text(payload: dict[str, Any], language: str) -> str:
    """An alert to heads: short enough for a phone, nothing about the citizen's identity."""
    lang = _lang(language)
    lines: list[str] = []
    if payload.get("escalated"):
        lines.append(head_text(lang, "escalated"))
    if payload.get("kind") == "below_threshold":
        lines.append(head_text(lang, "below_title", agency=payload.get("agency", "")))
        lines.append(
            head_text(
                lang,
                "below_line",
                sipas=payload.get("sipas"),
                threshold=payload.get("threshold"),
                n=payload.get("n"),
            )
        )
    elif payload.get("kind") == "late_cases":
        lines.append(head_text(lang, "late_title", agency=payload.get("agency", "")))
        for group in ("overdue", "due_soon", "late_no_apology"):
            items = payload.get("groups", {}).get(group) or []
            if items:
                lines.append(head_text(lang, group))
                lines.extend(head_text(lang, "late_line", **item) for item in items[:30])
                if len(items) > 30:
                    lines.append(f"… (+{len(items) - 30})")
    else:
        lines.append(head_text(lang, "low_title", agency=payload.get("agency", "")))
        lines.append(head_text(lang, "case", code=payload.get("code", "")))
        lines.append(head_text(lang, "procedure", procedure=payload.get("procedure", "")))
        if payload.get("officer"):
            lines.append(head_text(lang, "officer", officer=payload["officer"]))
        if payload.get("money"):
            lines.append(head_text(lang, "money"))
        if payload.get("harass"):
            lines.append(head_text(lang, "harass"))
        if payload.get("items"):
            lines.append(head_text(lang, "low_items", items="; ".join(payload["items"])))
        if payload.get("reasons"):
            lines.append(head_text(lang, "reasons", reasons="; ".join(payload["reasons"])))
        if payload.get("comment"):
            lines.append(head_text(lang, "comment", comment=str(payload["comment"])[:500]))
    lines.append(f"#{payload.get('alert_id', '')}")
    return "\n".join(lines)[:4000]


def monthly_text(payload: dict[str, Any], language: str) -> str:
    lang = _lang(language)

    def pct(key: str) -> str:
        value = payload.get(key)
        return head_text(lang, "no_data") if value is None else f"{value}%"

    title = head_text(
        lang, "monthly_title", month=payload.get("month", ""), agency=payload.get("agency", "")
    )
    body = head_text(
        lang,
        "monthly_body",
        sipas=pct("sipas"),
        responses=payload.get("responses", 0),
        cases=payload.get("cases", 0),
        on_time_rate=pct("on_time_rate"),
        late=payload.get("late", 0),
        overdue_open=payload.get("overdue_open", 0),
    )
    return title + "\n" + body


def digest_text(payload: dict[str, Any], language: str) -> str:
    lang = _lang(language)

    def pct(value: object) -> str:
        return head_text(lang, "no_data") if value is None else f"{value}%"

    day = _format_day(_day(payload.get("yesterday")), lang)
    lines = [
        head_text(lang, "digest_title", agency=payload.get("agency", "")),
        head_text(
            lang,
            "digest_yesterday",
            day=day,
            sipas=pct(payload.get("sipas_yesterday")),
            n=payload.get("n_yesterday", 0),
        ),
        head_text(
            lang, "digest_mtd", sipas=pct(payload.get("sipas_mtd")), n=payload.get("n_mtd", 0)
        ),
        head_text(lang, "digest_on_time", rate=pct(payload.get("on_time_rate_mtd"))),
        head_text(lang, "digest_overdue", count=payload.get("overdue_open", 0)),
    ]
    if payload.get("best_procedure"):
        lines.append(head_text(lang, "digest_best", procedure=payload["best_procedure"]))
    if payload.get("worst_procedure"):
        lines.append(head_text(lang, "digest_worst", procedure=payload["worst_procedure"]))
    return "\n".join(lines)[:1000]


def _day(value: str | None) -> date | None:
    return None if value is None else datetime.fromisoformat(value).date()


def _format_day(value: date | None, language: str) -> str:
    return value.strftime("%d/%m/%Y") if value else chat_text(language, "no_date")


class TelegramRenderer:
    """Turns a claimed outbox row into (text, reply markup) in the chat's language."""

    def __init__(self, forms: FormCache, *, today: Any) -> None:
        self._forms = forms
        self._today = today

    async def render(
        self,
        kind: str,
        payload: dict[str, Any],
        language: str,
    ) -> tuple[str, Markup | None]:
        lang = _lang(language)
        if kind == "text":
            text = chat_text(lang, payload["key"], **payload.get("params", {}))
            keyboard = payload.get("keyboard")
            if keyboard == "contact":
                return text, ReplyKeyboardMarkup(
                    [[KeyboardButton(BUTTONS[lang]["contact"], request_contact=True)]],
                    resize_keyboard=True,
                    one_time_keyboard=True,
                )
            if keyboard == "remove":
                return text, ReplyKeyboardRemove()
            return text, None
        if kind == "question":
            return await self._question(payload, lang)
        if kind == "case_status":
            return self._case_status(payload, lang), None
        if kind == "notice":
            due = _format_day(_day(payload.get("due")), lang)
            return chat_text(
                lang,
                f"notice_{payload['status']}",
                code=payload["code"],
                procedure=payload["procedure"],
                due=due,
            ), None
        if kind == "apology":
            return self._apology(payload, lang), None
        if kind == "monthly":
            return monthly_text(payload, lang), None
        if kind == "head_text":
            return head_text(lang, payload["key"], **payload.get("params", {})), None
        if kind == "alert":
            return alert_text(payload, lang), alert_keyboard(int(payload["alert_id"]), lang)
        if kind == "follow_up":
            text = head_text(lang, "follow_up", code=payload.get("code", ""))
            alert_id = int(payload["alert_id"])
            return text, InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            BUTTONS[lang]["yes"], callback_data=f"{FOLLOW_UP_PREFIX}:{alert_id}:y"
                        ),
                        InlineKeyboardButton(
                            BUTTONS[lang]["no"], callback_data=f"{FOLLOW_UP_PREFIX}:{alert_id}:n"
                        ),
                    ]
                ]
            )
        raise ValueError(f"unknown outbox kind {kind!r}")

    async def _question(self, payload: dict[str, Any], lang: str) -> tuple[str, Markup | None]:
        form = await self._forms.get(int(payload["version"]))
        question = form.question(payload["code"])
        if question is None:
            raise ValueError(f"question {payload['code']!r} not in version {payload['version']}")
        text = prompt(question, lang, number=payload["number"], total=payload["total"])
        intro = payload.get("intro")
        if intro == "invite":
            procedure = payload.get("procedure") or ""
            head = chat_text(
                lang, "invite", code=payload.get("case_code", ""), procedure=procedure
            ).replace(" ()", "")
            text = head + "\n\n" + text
        elif intro == "reminder":
            text = chat_text(lang, "reminder", code=payload.get("case_code", "")) + "\n\n" + text
        keyboard = question_keyboard(
            int(payload["survey_id"]), question, lang, draft=tuple(payload.get("draft") or ())
        )
        return text, keyboard

    def _case_status(self, payload: dict[str, Any], lang: str) -> str:
        due = _day(payload.get("due"))
        ended = _day(payload.get("ended"))
        timeliness = classify(ended=ended, due=due, today=self._today())
        return chat_text(
            lang,
            "status",
            code=payload["code"],
            procedure=payload["procedure"],
            status=CASE_STATUS[lang].get(payload["status"], str(payload["status"])),
            received=_format_day(_day(payload.get("received")), lang),
            due=_format_day(due, lang),
            timeliness=TIMELINESS[lang][timeliness],
        )

    def _apology(self, payload: dict[str, Any], lang: str) -> str:
        return chat_text(
            lang,
            "apology",
            name=payload.get("name") or chat_text(lang, "citizen"),
            agency=payload.get("agency") or "",
            code=payload["code"],
            procedure=payload["procedure"],
            received=_format_day(_day(payload.get("received")), lang),
            old_due=_format_day(_day(payload.get("old_due")), lang),
            reason=payload.get("reason") or chat_text(lang, "apology_no_reason"),
            unit=payload.get("unit") or payload.get("agency") or "",
            new_due=_format_day(_day(payload.get("new_due")), lang),
            place=chat_text(lang, "apology_place"),
        )
