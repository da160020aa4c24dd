"""The case page before the survey status: the case as the receipt's link shows it (code,
procedure, status, dates, timeliness — nothing about the applicant), and how to follow it on
Telegram or Zalo: the bot's deep link, the OA's link, and the link code in large type for the
chats that have no deep links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.onestop.links import format_link_code
from bot.texts import CASE_STATUS, TIMELINESS, text
from bot.web.pages.layout import esc, page, paragraph


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the page may show of a case."""

    code: str
    procedure: str
    status: int
    received_at: datetime
    due_at: datetime | None
    timeliness: str


@dataclass(frozen=True, slots=True)
class Follow:
    """Ways to follow the case: the Telegram deep link, the OA link, the link code (None
    when no chat without deep links is on)."""

    telegram: str | None = None
    zalo: str | None = None
    link_code: str | None = None


def case_rows(lang: str, case: CaseFacts) -> str:
    """The case's facts as a definition list."""
    rows = [
        (text(lang, "case_page.case_code"), case.code),
        (text(lang, "case_page.procedure"), case.procedure),
        (text(lang, "case_page.status"), CASE_STATUS[lang].get(case.status, str(case.status))),
        (text(lang, "case_page.received"), case.received_at.strftime("%d/%m/%Y %H:%M")),
    ]
    if case.due_at is not None:
        rows.append((text(lang, "case_page.promised"), case.due_at.strftime("%d/%m/%Y")))
    rows.append((text(lang, "case_page.timeliness"), TIMELINESS[lang][case.timeliness]))
    return (
        '<dl id="case">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows) + "</dl>"
    )


def follow_section(lang: str, follow: Follow) -> str:
    """How to get the case's notices and survey in a chat ("" when no chat is on)."""
    parts: list[str] = []
    if follow.telegram:
        parts.append(
            f'<p><a class="btn" id="telegram" href="{esc(follow.telegram)}">'
            f"{esc(text(lang, 'case_page.telegram'))}</a></p>"
        )
    if follow.zalo:
        parts.append(
            f'<p><a class="btn" id="zalo" href="{esc(follow.zalo)}">'
            f"{esc(text(lang, 'web.zalo_oa'))}</a></p>"
        )
    if follow.link_code:
        parts.append(paragraph(text(lang, "web.link_code_hint"), id_="link-code-hint"))
        parts.append(
            f'<p class="code" id="link-code" aria-describedby="link-code-hint">'
            f"{esc(format_link_code(follow.link_code))}</p>"
        )
    if not parts:
        return ""
    title = esc(text(lang, "web.follow_title"))
    return f'<section id="follow"><h2>{title}</h2>{"".join(parts)}</section>'


def case_page(lang: str, case: CaseFacts, follow: Follow) -> str:
    """The whole case page."""
    body = (
        case_rows(lang, case)
        + paragraph(text(lang, "case_page.survey_later"))
        + follow_section(lang, follow)
    )
    return page(lang, text(lang, "case_page.title"), body)
