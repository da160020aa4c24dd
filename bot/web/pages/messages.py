"""The short pages: thank-you (and "already answered"), expired or closed survey, unknown
link, refused form, too many requests. Each is a title and one or two sentences."""

from __future__ import annotations

from bot.texts import text
from bot.web.pages.layout import page, paragraph


def thanks_page(lang: str, case_code: str, *, again: bool = False) -> str:
    """After a response from any channel; `again` when a form came after it (not recorded)."""
    body = paragraph(text(lang, "web.thanks", code=case_code), id_="thanks")
    if again:
        body = paragraph(text(lang, "web.already_answered", code=case_code), id_="again") + body
    return page(lang, text(lang, "web.thanks_title"), body)


def expired_page(lang: str, case_code: str) -> str:
    return page(
        lang,
        text(lang, "web.expired_title"),
        paragraph(text(lang, "web.expired", code=case_code), id_="expired"),
    )


def closed_page(lang: str, case_code: str) -> str:
    return page(
        lang,
        text(lang, "web.expired_title"),
        paragraph(text(lang, "web.closed", code=case_code), id_="closed"),
    )


def not_found_page(lang: str) -> str:
    return page(
        lang,
        text(lang, "case_page.not_found_title"),
        paragraph(text(lang, "case_page.not_found"), id_="not-found"),
    )


def forbidden_page(lang: str) -> str:
    return page(
        lang,
        text(lang, "web.forbidden_title"),
        paragraph(text(lang, "web.forbidden"), id_="forbidden"),
    )


def bad_form_page(lang: str) -> str:
    return page(
        lang,
        text(lang, "web.bad_form_title"),
        paragraph(text(lang, "web.bad_form"), id_="bad-form"),
    )


def slow_down_page(lang: str) -> str:
    return page(
        lang,
        text(lang, "web.slow_down_title"),
        paragraph(text(lang, "web.slow_down"), id_="slow-down"),
    )
