"""HTML of the citizen's pages behind the receipt's link (`GET/POST /s/<token>`): the case
page, the survey form, the thank-you page and the short error pages.

Pure rendering: each function takes plain values and returns a whole document as text; the
routes (`bot.web.survey_page`) decide which page to show and send the headers. The frame, the
CSS and the one script are `bot.web.pages.layout`.
"""

from __future__ import annotations

from bot.web.pages.case import CaseFacts, Follow, case_page
from bot.web.pages.form import FormPage, survey_form
from bot.web.pages.layout import csp, lang_query, language
from bot.web.pages.messages import (
    bad_form_page,
    closed_page,
    expired_page,
    forbidden_page,
    not_found_page,
    slow_down_page,
    thanks_page,
)

__all__ = [
    "CaseFacts",
    "Follow",
    "FormPage",
    "bad_form_page",
    "case_page",
    "closed_page",
    "csp",
    "expired_page",
    "forbidden_page",
    "lang_query",
    "language",
    "not_found_page",
    "slow_down_page",
    "survey_form",
    "thanks_page",
]
