"""How messages to agency heads read: alerts, the monthly report, the morning digest."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.channels.actions import AlertPress, FollowUp, encode
from bot.channels.base import Choice
from bot.commands.head_texts import channel_line, report_text
from bot.conversation.wording import lang as _lang
from bot.conversation.wording import say, say_head
from bot.texts import BUTTONS


def alert_choices(alert_id: int, language: str) -> list[list[Choice]]:
    return [
        [
            Choice(say_head(language, "ack"), encode(AlertPress(alert_id, "ack"))),
            Choice(say_head(language, "done"), encode(AlertPress(alert_id, "done"))),
        ]
    ]


def follow_up_choices(alert_id: int, language: str) -> list[list[Choice]]:
    labels = BUTTONS[_lang(language)]
    return [
        [
            Choice(labels["yes"], encode(FollowUp(alert_id, True))),
            Choice(labels["no"], encode(FollowUp(alert_id, False))),
        ]
    ]


def alert_text(payload: dict[str, Any], language: str) -> str:
    """An alert to heads: short enough for a phone, nothing about the citizen's identity.

    `items` and `reasons` are already in the head's language (the renderer resolves the
    question codes a low-score alert carries)."""
    lang = _lang(language)
    lines: list[str] = []
    if payload.get("escalated"):
        lines.append(say_head(lang, "escalated"))
    if payload.get("kind") == "below_threshold":
        lines.append(say_head(lang, "below_title", agency=payload.get("agency", "")))
        lines.append(
            say_head(
                lang,
                "below_line",
                sipas=payload.get("sipas"),
                threshold=payload.get("threshold"),
                n=payload.get("n"),
            )
        )
    elif payload.get("kind") == "late_cases":
        lines.append(say_head(lang, "late_title", agency=payload.get("agency", "")))
        for group in ("overdue", "due_soon", "late_no_apology"):
            items = payload.get("groups", {}).get(group) or []
            if items:
                lines.append(say_head(lang, group))
                lines.extend(say_head(lang, "late_line", **item) for item in items[:30])
                if len(items) > 30:
                    lines.append(f"… (+{len(items) - 30})")
    else:
        lines.append(say_head(lang, "low_title", agency=payload.get("agency", "")))
        lines.append(say_head(lang, "case", code=payload.get("code", "")))
        lines.append(say_head(lang, "procedure", procedure=payload.get("procedure", "")))
        if payload.get("officer"):
            lines.append(say_head(lang, "officer", officer=payload["officer"]))
        if payload.get("money"):
            lines.append(say_head(lang, "money"))
        if payload.get("harass"):
            lines.append(say_head(lang, "harass"))
        if payload.get("items"):
            lines.append(say_head(lang, "low_items", items="; ".join(payload["items"])))
        if payload.get("reasons"):
            lines.append(say_head(lang, "reasons", reasons="; ".join(payload["reasons"])))
        if payload.get("comment"):
            lines.append(say_head(lang, "comment", comment=str(payload["comment"])[:500]))
    lines.append(f"#{payload.get('alert_id', '')}")
    return "\n".join(lines)[:4000]


def monthly_text(payload: dict[str, Any], language: str) -> str:
    lang = _lang(language)

    def pct(key: str) -> str:
        value = payload.get(key)
        return say_head(lang, "no_data") if value is None else f"{value}%"

    title = say_head(
        lang, "monthly_title", month=payload.get("month", ""), agency=payload.get("agency", "")
    )
    body = say_head(
        lang,
        "monthly_body",
        sipas=pct("sipas"),
        responses=payload.get("responses", 0),
        cases=payload.get("cases", 0),
        on_time_rate=pct("on_time_rate"),
        late=payload.get("late", 0),
        overdue_open=payload.get("overdue_open", 0),
    )
    return "\n".join([title, body, *_monthly_channels(payload, lang)])


def _monthly_channels(payload: dict[str, Any], lang: str) -> list[str]:
    """The monthly report's "by channel" lines: each channel's response rate (invitations
    completed), then the month's ZNS messages and billable Zalo OA replies, when any."""
    lines: list[str] = []
    channels = [c for c in payload.get("channels") or [] if int(c.get("invited") or 0) > 0]
    if channels:
        lines.append(report_text(lang, "channels_title"))
    lines.extend(
        channel_line(
            lang, str(c["channel"]), invited=int(c["invited"]), completed=int(c["completed"])
        )
        for c in channels
    )
    for key, field in (("monthly_zns", "zns_messages"), ("monthly_oa", "oa_billable")):
        count = int(payload.get(field) or 0)
        if count:
            lines.append(say_head(lang, key, count=count))
    return lines


def digest_text(payload: dict[str, Any], language: str) -> str:
    lang = _lang(language)

    def pct(value: object) -> str:
        return say_head(lang, "no_data") if value is None else f"{value}%"

    day = format_day(parse_day(payload.get("yesterday")), lang)
    lines = [
        say_head(lang, "digest_title", agency=payload.get("agency", "")),
        say_head(
            lang,
            "digest_yesterday",
            day=day,
            sipas=pct(payload.get("sipas_yesterday")),
            n=payload.get("n_yesterday", 0),
        ),
        say_head(
            lang, "digest_mtd", sipas=pct(payload.get("sipas_mtd")), n=payload.get("n_mtd", 0)
        ),
        say_head(lang, "digest_on_time", rate=pct(payload.get("on_time_rate_mtd"))),
        say_head(lang, "digest_overdue", count=payload.get("overdue_open", 0)),
    ]
    if payload.get("best_procedure"):
        lines.append(say_head(lang, "digest_best", procedure=payload["best_procedure"]))
    if payload.get("worst_procedure"):
        lines.append(say_head(lang, "digest_worst", procedure=payload["worst_procedure"]))
    return "\n".join(lines)[:1000]


def parse_day(value: str | None) -> date | None:
    return None if value is None else datetime.fromisoformat(value).date()


def format_day(value: date | None, language: str) -> str:
    return value.strftime("%d/%m/%Y") if value else say(language, "no_date")
