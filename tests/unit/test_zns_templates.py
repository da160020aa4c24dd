"""ZNS templates by purpose: the `ZALO_ZNS_TEMPLATES` setting, which outbox rows ZNS carries,
and the parameters a template is sent with."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.zns import case_chat_id, case_of
from bot.zns.templates import (
    RATING,
    CaseFacts,
    TemplateSettingError,
    ZnsTemplates,
    parse_templates,
    purpose_of,
    template_data,
)
from tests.conftest import make_settings
from tests.fakes.zalo_oa_api import DEFAULT_OA_ID, DEFAULT_OA_SECRET_KEY
from tests.fakes.zalo_zns_api import DEFAULT_TEMPLATE_IDS, templates_setting

CASE = "H12.22-261001-0001"
AGENCY = "000.00.01.H12"


def test_the_template_setting_is_read_and_checked() -> None:
    assert parse_templates(templates_setting()) == DEFAULT_TEMPLATE_IDS
    assert parse_templates(" rating = 1 ,, ") == {"rating": "1"}
    assert parse_templates("") == {}
    for bad in ("rating", "stars=1", "rating=1,rating=2", "invite=a b"):
        with pytest.raises(TemplateSettingError):
            parse_templates(bad)
    with pytest.raises(ValueError, match="ZALO_ZNS_TEMPLATES"):
        make_settings("sqlite+aiosqlite:///x.db", zalo_zns_templates="stars=1")
    on = make_settings(
        "sqlite+aiosqlite:///x.db",
        zalo_oa_id=DEFAULT_OA_ID,
        zalo_oa_secret_key=DEFAULT_OA_SECRET_KEY,
        zalo_zns_templates="invite=9",
    )
    assert on.zns_enabled and on.zns_templates.survey_purpose == "invite"
    assert not make_settings("sqlite+aiosqlite:///x.db", zalo_zns_templates="rating=1").zns_enabled
    assert on.zalo_zns_poll_seconds == 300 and on.zalo_zns_rate_per_second == 10


def test_outbox_rows_map_to_template_purposes() -> None:
    templates = ZnsTemplates.parse(templates_setting())
    assert purpose_of("zns", {"purpose": "apology"}, templates) == "apology"
    assert purpose_of("zns", {"purpose": "other"}, templates) is None
    assert purpose_of("question", {"intro": "invite"}, templates) == RATING
    assert purpose_of("question", {"intro": "reminder"}, templates) == RATING
    assert purpose_of("question", {"intro": None}, templates) is None
    assert purpose_of("notice", {"status": 9}, templates) == "result_ready"
    assert purpose_of("notice", {"status": 5}, templates) is None
    assert purpose_of("apology", {}, templates) == "apology"
    assert purpose_of("text", {}, templates) is None
    assert case_of(case_chat_id(CASE)) == CASE and case_of("7101") is None


def test_template_data_is_clipped_and_dated() -> None:
    facts = CaseFacts(
        code=CASE,
        procedure_name="Thủ tục " + "rất dài " * 40,
        agency_name="",
        agency_code=AGENCY,
        end_event_at=datetime(2026, 10, 9, 8, 0),
    )
    data = template_data(RATING, facts, today=date(2027, 1, 1))
    assert len(data["ten_thu_tuc"]) == 200 and data["ten_thu_tuc"].endswith("…")
    assert data["ten_co_quan"] == AGENCY  # no name known: the code
    assert data["ngay_tra"] == "09/10/2026"
    assert "ngay_tra" not in template_data("apology", facts, today=date(2027, 1, 1))
