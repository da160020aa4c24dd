"""ZNS templates by purpose: the `ZALO_ZNS_TEMPLATES` setting, which outbox rows ZNS carries,
the parameters a template is sent with, and which survey template an agency's cases get."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime

import pytest

from bot.zns import case_chat_id, case_of
from bot.zns.choices import SurveyChoices, resolve
from bot.zns.templates import (
    APOLOGY,
    INVITE,
    RATING,
    CaseFacts,
    TemplateSettingError,
    ZnsTemplates,
    parse_templates,
    purpose_of,
    template_data,
)
from storage.zns import AgencyChoice
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


def test_an_invite_carries_the_web_link_token_and_needs_one() -> None:
    facts = CaseFacts(code=CASE, procedure_name="Thủ tục", agency_name="Sở", agency_code=AGENCY)
    with pytest.raises(ValueError, match="web link"):
        template_data(INVITE, facts, today=date(2027, 1, 1))
    token = "AbCdEfGhIjKlMnOpQrSt_-"
    data = template_data(INVITE, replace(facts, web_token=token), today=date(2027, 1, 1))
    assert data == {
        "ma_ho_so": CASE,
        "ten_thu_tuc": "Thủ tục",
        "ten_co_quan": "Sở",
        "ma_khao_sat": token,
    }


def test_an_apology_carries_the_slips_fields_and_says_something_for_each_missing_one() -> None:
    facts = CaseFacts(code=CASE, procedure_name="Thủ tục", agency_name="Sở", agency_code=AGENCY)
    details = {
        "name": "Trần Thị " + "Bình " * 10,
        "received": "2026-10-01T08:30:00",
        "old_due": "2026-10-08",
        "new_due": "2026-10-15T17:00:00",
        "unit": "Phòng Đăng ký kinh doanh",
        "reason": "Chờ kết quả xác minh",
    }
    data = template_data(APOLOGY, facts, today=date(2027, 1, 1), details=details)
    assert len(data["ten_nguoi_nop"]) <= 30 and data["ten_nguoi_nop"].startswith("Trần Thị Bình")
    assert (data["ngay_nhan"], data["ngay_hen_cu"], data["ngay_hen_moi"]) == (
        "01/10/2026",
        "08/10/2026",
        "15/10/2026",
    )
    assert (data["don_vi"], data["ly_do"]) == ("Phòng Đăng ký kinh doanh", "Chờ kết quả xác minh")
    bare = template_data(APOLOGY, facts, today=date(2027, 1, 1), details={"old_due": "x"})
    assert bare["ten_nguoi_nop"] == "Ông/Bà" and bare["ngay_hen_cu"] == "chưa có"
    assert bare["don_vi"] == "Sở" and bare["ly_do"] == "cần thêm thời gian xử lý"
    assert all(bare.values())


def test_each_agency_follows_its_own_choice_else_its_nearest_ancestors() -> None:
    tree = [
        AgencyChoice("P", None, "invite"),
        AgencyChoice("D1", "P", None),
        AgencyChoice("D2", "D1", "rating"),
        AgencyChoice("D3", "D2", None),
        AgencyChoice("Q", None, None),
        AgencyChoice("C1", "C2", None),  # a cycle ends the walk
        AgencyChoice("C2", "C1", None),
        AgencyChoice("X", "gone", "bogus"),
    ]
    assert resolve(tree) == {
        "P": "invite",
        "D1": "invite",
        "D2": "rating",
        "D3": "rating",
        "Q": None,
        "C1": None,
        "C2": None,
        "X": None,
    }


class _Tree:
    def __init__(self, rows: list[AgencyChoice]) -> None:
        self.rows, self.reads = rows, 0

    async def agency_choices(self) -> list[AgencyChoice]:
        self.reads += 1
        return list(self.rows)


async def test_survey_choices_fall_back_to_a_configured_template_and_reread_the_tree() -> None:
    tree = _Tree([AgencyChoice("P", None, "invite"), AgencyChoice("D", "P", None)])
    clock = [0.0]
    both = ZnsTemplates.parse(templates_setting())
    choices = SurveyChoices(tree, both, monotonic=lambda: clock[0], ttl=30)  # type: ignore[arg-type]
    assert await choices.purpose("D") == INVITE
    assert await choices.purpose("unknown") == RATING  # the default
    tree.rows = [AgencyChoice("P", None, None), AgencyChoice("D", "P", None)]
    assert await choices.purpose("D") == INVITE and tree.reads == 1  # within the ttl
    clock[0] = 30.0
    assert await choices.purpose("D") == RATING and tree.reads == 2
    only_rating = ZnsTemplates({"rating": "1"})
    only_invite = ZnsTemplates({"invite": "2"})
    assert SurveyChoices(tree, only_rating, monotonic=time.monotonic).for_choice(INVITE) == RATING  # type: ignore[arg-type]
    assert SurveyChoices(tree, only_invite, monotonic=time.monotonic).for_choice(RATING) == INVITE  # type: ignore[arg-type]
    assert SurveyChoices(tree, ZnsTemplates({}), monotonic=time.monotonic).for_choice(None) is None  # type: ignore[arg-type]


def test_a_survey_row_goes_as_the_agencys_template() -> None:
    templates = ZnsTemplates.parse(templates_setting())
    question = {"intro": "reminder"}
    assert purpose_of("question", question, templates) == RATING
    assert purpose_of("question", question, templates, INVITE) == INVITE
    assert purpose_of("zns", {"purpose": "apology"}, templates, INVITE) == APOLOGY
