"""The channel contract on ZNS, for what it can do: send only.

The send-only part of the chat contract, through the real ZNS channel (`ZnsService`: route,
sender, client) and its own outbox dispatcher in front of the fake ZNS over real HTTP
(`tests.channels.zns_platform`), on the harness's clock, SQLite and PostgreSQL. Each scenario
asserts what the citizen's phone received: the survey as the `rating` template, its quiet
hours, one response per case, the reminder and the expiry, the notices of a case without a
chat as templates, and Zalo's final and daily refusals.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from itertools import count
from typing import Any

import pytest
from sqlalchemy import text

from bot.zns import case_chat_id
from tests.channels.harness import TZ, Conversation, conversation
from tests.channels.zns_platform import ZnsLink, ZnsPlatform, zns_phones
from tests.fakes.zalo_zns_api import DEFAULT_TEMPLATE_IDS, ZnsMessage
from tests.fakes.zalo_zns_events import LOW_STARS

CODE = "H12.22-261001-0001"
OTHER = "H12.22-261001-0002"
PHONE = "0912345678"
OTHER_PHONE = "0977111222"
RATING = DEFAULT_TEMPLATE_IDS["rating"]
CASE_FACTS = {
    "ma_ho_so": CODE,
    "ten_thu_tuc": "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
    "ten_co_quan": "Trung tâm Phục vụ hành chính công tỉnh",
}
MOVED = {
    "NgayHenTraTruoc": "20261008170000",
    "NgayHenTraMoi": "20261015170000",
    "LyDo": "Chờ kết quả xác minh",
}
_minutes = count(1)


def moment() -> str:
    """A fresh, increasing `ThoiDiemXuLy` (5 October 2026 from 08:00, a minute apart)."""
    minutes = next(_minutes)
    return f"20261005{8 + minutes // 60:02d}{minutes % 60:02d}00"


@pytest.fixture
async def phones() -> AsyncIterator[ZnsPlatform]:
    async with zns_phones() as found:
        yield found


@pytest.fixture
async def talk(migrated_url: str, phones: ZnsPlatform) -> AsyncIterator[Conversation]:
    async with conversation(migrated_url, phones) as found:
        yield found


def zns(talk: Conversation) -> ZnsLink:
    link = talk.link
    assert isinstance(link, ZnsLink)
    return link


async def event(talk: Conversation, code: str = CODE, **fields: Any) -> None:
    """The one-stop system reports a new event of the case; the loops run; all is sent."""
    await talk.case(code, ThoiDiemXuLy=moment(), **fields)
    await talk.tick()


async def returned(talk: Conversation, code: str = CODE, phone: str | None = PHONE) -> None:
    """The case's result was handed over (status 10) on 5 October 2026."""
    await event(talk, code, TrangThaiHoSo=10, NgayTra="20261005090000", SoDienThoai=phone)


def sent(phones: ZnsPlatform, phone: str = PHONE) -> list[ZnsMessage]:
    return phones.templates(phone)


def send_errors(phones: ZnsPlatform) -> list[int | None]:
    """Zalo's answer (0: accepted) to every template send the product made."""
    return [call.error for call in phones.zns.calls if call.kind == "message"]


async def rows(talk: Conversation, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with talk.services.engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(text(sql), params)).all()]


async def survey(talk: Conversation, code: str = CODE) -> tuple[int, str, str]:
    """(id, status, source) of the case's survey."""
    [(survey_id, status, source)] = await rows(
        talk, "SELECT id, status, source FROM surveys WHERE case_code = :c", c=code
    )
    return int(survey_id), str(status), str(source)


async def overall(talk: Conversation, survey_id: int) -> dict[str, int | None]:
    found = await talk.services.surveys.surveys.survey(survey_id)
    assert found is not None
    return {answer.question_code: answer.value_int for answer in found[1]}


async def zns_rows(talk: Conversation, code: str = CODE) -> list[tuple[Any, ...]]:
    """(status, last_error) of the case's ZNS outbox rows, oldest first."""
    return await rows(
        talk,
        "SELECT o.status, o.last_error FROM outbox o JOIN chats c ON c.id = o.chat_id "
        "WHERE c.channel = 'zns' AND c.external_id = :e ORDER BY o.id",
        e=case_chat_id(code),
    )


# --- 1. the survey goes as the rating template ------------------------------------------------


async def test_a_returned_case_with_a_phone_and_no_chat_gets_one_rating_template(
    talk: Conversation, phones: ZnsPlatform
) -> None:
    await returned(talk)
    await returned(talk, OTHER, phone=None)  # no phone: nothing by ZNS
    [message] = sent(phones)
    survey_id, status, source = await survey(talk)
    assert (status, source) == ("invited", "zns")
    assert message.phone == "84912345678" and message.template_id == RATING
    assert message.template_data == {**CASE_FACTS, "ngay_tra": "05/10/2026"}
    assert message.tracking_id == str(survey_id)
    [shown] = talk.texts(PHONE)
    assert shown.startswith("[rating]\n") and "ngay_tra: 05/10/2026" in shown
    assert len(phones.zns.sent) == 1 and send_errors(phones) == [0]
    # The outbox and the chats name the case, never the phone.
    stored = await rows(
        talk,
        "SELECT c.channel, c.external_id, o.status, o.payload FROM outbox o "
        "JOIN chats c ON c.id = o.chat_id",
    )
    assert [row[:3] for row in stored] == [("zns", case_chat_id(CODE), "sent")]
    assert PHONE[1:] not in json.dumps([str(row) for row in stored])


# --- 2. quiet hours ---------------------------------------------------------------------------


async def test_a_case_returned_at_night_is_invited_at_seven(
    migrated_url: str, phones: ZnsPlatform
) -> None:
    async with conversation(migrated_url, phones, quiet_hours="21:00-07:00") as talk:
        talk.clock.advance(hours=12)  # 22:00
        await returned(talk)
        assert sent(phones) == [] and send_errors(phones) == []
        talk.clock.advance(hours=8, minutes=59)  # 06:59 the next morning
        await talk.tick()
        assert sent(phones) == []
        talk.clock.advance(minutes=1)
        await talk.tick()
        [message] = sent(phones)
        local = datetime.fromtimestamp(message.sent_time / 1000, TZ)
        assert (local.day, local.hour, local.minute) == (6, 7, 0)
        assert message.template_data["ngay_tra"] == "05/10/2026"


# --- 3. one response per case -----------------------------------------------------------------


async def test_a_rating_completes_the_survey_and_nothing_more_is_sent(
    talk: Conversation, phones: ZnsPlatform
) -> None:
    await returned(talk)
    [message] = sent(phones)
    await zns(talk).rate(message, 5)
    survey_id, status, _source = await survey(talk)
    assert status == "completed" and await overall(talk, survey_id) == {"OVERALL": 5}

    await returned(talk)  # status 10 delivered again, as a new event
    talk.clock.advance(hours=25)
    assert await talk.sweep() == (0, 0)
    assert len(sent(phones)) == 1 and len(phones.zns.sent) == 1

    await zns(talk).rate(message, 2, feedbacks=[LOW_STARS[0]])  # the citizen changes their mind
    answers = await overall(talk, survey_id)
    assert answers["OVERALL"] == 2 and set(answers) == {"OVERALL", "COMMENT"}
    assert (await survey(talk))[1] == "completed"
    assert len(phones.zns.sent) == 1


# --- 4. reminder and expiry -------------------------------------------------------------------


async def test_one_reminder_after_the_configured_hours_and_nothing_after_expiry(
    migrated_url: str, phones: ZnsPlatform
) -> None:
    settings = {"reminder_hours": 6, "survey_expiry_days": 2}
    async with conversation(migrated_url, phones, **settings) as talk:
        await returned(talk)
        [first] = sent(phones)
        talk.clock.advance(hours=5, minutes=59)
        assert await talk.sweep() == (0, 0)
        talk.clock.advance(minutes=2)
        assert await talk.sweep() == (0, 1)
        [_, again] = sent(phones)
        assert again.template_id == RATING
        assert again.template_data == first.template_data
        assert again.tracking_id == first.tracking_id
        talk.clock.advance(hours=12)
        assert await talk.sweep() == (0, 0)
        assert len(sent(phones)) == 2

        talk.clock.advance(days=2)  # past the two days
        assert await talk.sweep() == (1, 0)
        await zns(talk).rate(again, 5)
        survey_id, status, _source = await survey(talk)
        assert status == "expired" and await overall(talk, survey_id) == {}
        assert len(phones.zns.sent) == 2


# --- 5. the notices of a case without a chat ---------------------------------------------------


async def test_the_apology_and_the_result_ready_notice_go_as_templates(
    talk: Conversation, phones: ZnsPlatform
) -> None:
    await event(talk, TrangThaiHoSo=2, SoDienThoai=PHONE)
    assert sent(phones) == []  # no template for the accepted notice

    await event(
        talk,
        TrangThaiHoSo=4,
        SoDienThoai=PHONE,
        ChuHoSo="Nguyễn Văn An",
        DanhSachHoSoBoSung=[MOVED],
    )
    [apology] = sent(phones)
    assert apology.template_id == DEFAULT_TEMPLATE_IDS["apology"]
    # The slip's fields (domain.md §4): who, when received, the old and new dates, why.
    assert apology.template_data == CASE_FACTS | {
        "ten_nguoi_nop": "Nguyễn Văn An",
        "ngay_nhan": "01/10/2026",
        "ngay_hen_cu": "08/10/2026",
        "ngay_hen_moi": "15/10/2026",
        "don_vi": CASE_FACTS["ten_co_quan"],
        "ly_do": "Chờ kết quả xác minh",
    }
    assert apology.tracking_id and apology.tracking_id.startswith("n")

    await event(talk, TrangThaiHoSo=9, SoDienThoai=PHONE, NgayKetThucXuLy="20261005160000")
    [_, ready] = sent(phones)
    assert ready.template_id == DEFAULT_TEMPLATE_IDS["result_ready"]
    assert ready.template_data == CASE_FACTS

    # The same status and the same new date again: nothing more.
    await event(talk, TrangThaiHoSo=9, SoDienThoai=PHONE, NgayKetThucXuLy="20261005160000")
    await event(talk, TrangThaiHoSo=4, SoDienThoai=PHONE, DanhSachHoSoBoSung=[MOVED])
    assert len(sent(phones)) == 2 and send_errors(phones) == [0, 0]


# --- 6. Zalo's refusals -----------------------------------------------------------------------


async def test_no_zalo_account_is_final_for_the_case(
    talk: Conversation, phones: ZnsPlatform
) -> None:
    phones.zns.no_account.add("84912345678")
    await returned(talk)
    assert send_errors(phones) == [-118] and sent(phones) == []
    [(status, error)] = await zns_rows(talk)
    assert status == "failed" and "-118" in error
    # Nothing more is tried for that case: no notice, no reminder.
    await event(talk, TrangThaiHoSo=10, SoDienThoai=PHONE, DanhSachHoSoBoSung=[MOVED])
    talk.clock.advance(hours=25)
    assert await talk.sweep() == (0, 0)
    assert send_errors(phones) == [-118]


async def test_a_spent_quota_waits_for_the_next_day(
    talk: Conversation, phones: ZnsPlatform
) -> None:
    phones.zns.set_quota(0)
    await returned(talk)
    await returned(talk, OTHER, OTHER_PHONE)
    assert send_errors(phones) == [-144]  # the second case waits without asking Zalo
    assert [row[0] for row in await zns_rows(talk) + await zns_rows(talk, OTHER)] == [
        "pending",
        "pending",
    ]
    talk.clock.advance(hours=13, minutes=59)  # 23:59
    await talk.tick()
    assert send_errors(phones) == [-144]
    talk.clock.advance(minutes=1, seconds=1)  # just past midnight
    await talk.tick()
    assert send_errors(phones) == [-144, 0, 0]
    assert len(sent(phones)) == 1 and len(sent(phones, OTHER_PHONE)) == 1
