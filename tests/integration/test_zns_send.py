"""ZNS outbound inside the whole service (bot.app): which cases go by ZNS, the templates and
their parameters, Zalo's answers (quota, no account, bad phone, token), quiet hours, the count
per agency and month and the cost class of each message (the rig: `tests.integration.zns_rig`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import ZALO_OA, ZNS
from bot.web.keys import SURVEYS
from bot.zns import CASE_PREFIX, CHANNEL, case_chat_id
from storage.channel_state import BillableStore
from storage.zns import CaseIntent, ZnsStore
from tests.fakes.zalo_oa_api import DEFAULT_ACCESS_TOKEN
from tests.fakes.zalo_zns_api import DEFAULT_TEMPLATE_IDS
from tests.integration.zns_rig import (
    AGENCY,
    CASE,
    CITIZEN,
    OTHER,
    OTHER_PHONE,
    PHONE,
    RATING_ID,
    START,
    TZ,
    Rig,
)

# --- the survey by ZNS -----------------------------------------------------------------------


async def test_a_case_with_a_phone_and_no_chat_gets_the_rating_template(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    await rig.returned()
    message = await rig.zns.wait_for_message(PHONE, template_id=RATING_ID)
    assert message.phone == "84912345678"
    assert message.template_data == {
        "ma_ho_so": CASE,
        "ten_thu_tuc": "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
        "ten_co_quan": "Trung tâm Phục vụ hành chính công tỉnh",
        "ngay_tra": "08/10/2026",
    }
    [(survey_id, source, channel, external_id)] = await rig.rows(
        "SELECT s.id, s.source, c.channel, c.external_id FROM surveys s "
        "JOIN chats c ON c.id = s.chat_id WHERE s.case_code = :c",
        c=CASE,
    )
    assert (source, channel, external_id) == ("zns", "zns", f"case:{CASE}")
    assert message.tracking_id == str(survey_id)
    [(status, _not_before, _error, payload)] = await rig.until(lambda: _sent_rows(rig, CASE))
    assert status == "sent"
    # The outbox row names the purpose and the case, never the phone.
    assert PHONE[1:] not in json.dumps(payload)
    assert len(rig.zns.sent) == 1


def sends(rig: Rig) -> list[Any]:
    """The template sends the fake saw (the ratings poll reads as well)."""
    return [call for call in rig.zns.calls if call.kind == "message"]


async def _sent_rows(rig: Rig, code: str) -> list[tuple[Any, ...]]:
    found = await rig.zns_rows(code)
    return found if found and all(row[0] == "sent" for row in found) else []


async def test_a_case_without_a_phone_gets_nothing_by_zns(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    await rig.deliver(
        TrangThaiHoSo=10,
        ThoiDiemXuLy="20261008100000",
        NgayTra="20261008100000",
        SoDienThoai=None,
    )
    zns = rig.client.app[ZNS]
    # The route's own pass, awaited: nothing is due without a phone.
    assert await zns.route.open_due() == 0
    assert await rig.rows("SELECT id FROM surveys") == []
    assert sends(rig) == []


async def test_a_linked_oa_chat_gets_the_chat_survey_and_no_zns(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    answer = await rig.deliver(TrangThaiHoSo=2, SoDienThoai=PHONE)
    await rig.oa.send_text(CITIZEN, answer["link_code"])
    await rig.oa.wait_for_message(CITIZEN, contains=CASE)
    await rig.returned()
    question = await rig.oa.wait_for_message(CITIZEN, contains="Rất hài lòng")
    assert question.buttons
    [(source, channel)] = await rig.rows(
        "SELECT s.source, c.channel FROM surveys s JOIN chats c ON c.id = s.chat_id"
    )
    assert channel == "zalo_oa" and source != "zns"
    assert await rig.client.app[ZNS].route.open_due() == 0
    assert sends(rig) == [] and await rig.zns_rows() == []


async def test_the_oa_window_closed_the_invitation_goes_by_zns(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    answer = await rig.deliver(TrangThaiHoSo=2, SoDienThoai=PHONE)
    await rig.oa.send_text(CITIZEN, answer["link_code"])
    await rig.oa.wait_for_message(CITIZEN, contains=CASE)
    told = len(rig.oa.messages_to(CITIZEN))
    rig.move(START + timedelta(days=8))  # the citizen's last word is 8 days old
    await rig.returned()
    message = await rig.zns.wait_for_message(PHONE, template_id=RATING_ID)
    [(survey_id, source, channel)] = await rig.rows(
        "SELECT s.id, s.source, c.channel FROM surveys s JOIN chats c ON c.id = s.chat_id"
    )
    assert (source, channel) == ("zns", "zns")
    assert message.tracking_id == str(survey_id)
    # The OA was never called for it (the product knew the window was closed).
    assert len(rig.oa.messages_to(CITIZEN)) == told
    [(status,)] = await rig.rows(
        "SELECT o.status FROM outbox o JOIN chats c ON c.id = o.chat_id "
        "WHERE c.channel = 'zalo_oa' AND o.kind = 'question'"
    )
    assert status == "failed"


async def test_the_result_ready_notice_of_an_unlinked_case_goes_by_zns(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    await rig.deliver(TrangThaiHoSo=2, SoDienThoai=PHONE)
    await rig.deliver(
        TrangThaiHoSo=9, ThoiDiemXuLy="20261007160000", NgayKetThucXuLy="20261007160000"
    )
    message = await rig.zns.wait_for_message(
        PHONE, template_id=DEFAULT_TEMPLATE_IDS["result_ready"]
    )
    assert message.template_data == {
        "ma_ho_so": CASE,
        "ten_thu_tuc": "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
        "ten_co_quan": "Trung tâm Phục vụ hành chính công tỉnh",
    }
    assert message.tracking_id and message.tracking_id.startswith("n")


# --- Zalo's answers --------------------------------------------------------------------------


async def test_a_spent_quota_waits_for_the_next_day_without_calling_zalo_again(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    rig.zns.set_quota(0)
    await rig.returned(CASE)
    [(_s, first_wait, error, _p)] = await rig.until(lambda: _waiting(rig, CASE))
    assert "-144" in error
    midnight = datetime(2027, 3, 11, tzinfo=TZ)
    assert _same(first_wait, midnight)
    # Another case meanwhile waits too, and Zalo is not asked again today.
    await rig.returned(OTHER, OTHER_PHONE)
    [(_s, second_wait, error, _p)] = await rig.until(lambda: _waiting(rig, OTHER))
    assert "quota" in error and _same(second_wait, midnight)
    assert [call.error for call in rig.zns.calls if call.kind == "message"] == [-144]
    rig.move(datetime(2027, 3, 11, 0, 0, 1, tzinfo=TZ))
    await rig.zns.wait_for_message(PHONE, template_id=RATING_ID)
    await rig.zns.wait_for_message(OTHER_PHONE, template_id=RATING_ID)
    assert [call.error for call in rig.zns.calls if call.kind == "message"] == [-144, 0, 0]


def _same(stored: Any, local: datetime) -> bool:
    """Whether a stored naive-UTC time (a string on SQLite) is `local`, to the second."""
    value = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored))
    return abs(value - local.astimezone(UTC).replace(tzinfo=None)) < timedelta(seconds=1)


async def _waiting(rig: Rig, code: str) -> list[tuple[Any, ...]]:
    found = await rig.zns_rows(code)
    return found if found and found[0][0] == "pending" and found[0][2] else []


async def test_a_spent_quota_at_night_waits_for_the_end_of_the_quiet_hours(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start(quiet_hours="21:00-07:00")
    rig.zns.set_quota(0)
    await rig.returned()
    [(_s, not_before, _e, _p)] = await rig.until(lambda: _waiting(rig, CASE))
    assert _same(not_before, datetime(2027, 3, 11, 7, 0, tzinfo=TZ))


@pytest.mark.parametrize(
    ("phone", "code"),
    [(PHONE, -118), ("0243 912 3456", -108)],  # no Zalo account; a landline is no ZNS phone
    ids=["no-account", "bad-phone"],
)
async def test_no_zalo_account_or_a_bad_phone_is_final_for_the_case(
    start: Callable[..., Awaitable[Rig]], phone: str, code: int
) -> None:
    rig = await start()
    rig.zns.no_account.add("84912345678")
    await rig.returned(phone=phone)
    [(_s, _nb, error, _p)] = await rig.until(lambda: _with_status(rig, CASE, "failed"))
    assert str(code) in error
    [(blocked,)] = await rig.rows(
        "SELECT blocked_at FROM chats WHERE channel = 'zns' AND external_id = :e",
        e=case_chat_id(CASE),
    )
    assert blocked is not None
    # Nothing more is ever queued for that case by ZNS: no notice, no reminder.
    store = ZnsStore(rig.engine, channel=CHANNEL, prefix=CASE_PREFIX)
    later = CaseIntent(case_code=CASE, kind="zns", payload={"purpose": "apology", "case": CASE})
    assert await store.queue([later], now=rig.moment.clock.utcnow()) == 0
    rig.move(START + timedelta(days=2))
    assert await rig.client.app[SURVEYS].remind_and_expire() == (0, 0)
    assert [call.error for call in rig.zns.calls if call.kind == "message"] == [code]
    assert len(await rig.zns_rows()) == 1


async def test_an_unanswered_zns_survey_is_reminded_with_the_rating_template(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    await rig.returned()
    first = await rig.zns.wait_for_message(PHONE, template_id=RATING_ID)
    await rig.until(lambda: _sent_rows(rig, CASE))
    rig.move(START + timedelta(hours=25))
    assert await rig.client.app[SURVEYS].remind_and_expire() == (0, 1)
    again = await rig.zns.wait_for_message(PHONE, template_id=RATING_ID, count=2)
    assert again.tracking_id == first.tracking_id
    assert again.template_data == first.template_data


async def _with_status(rig: Rig, code: str, status: str) -> list[tuple[Any, ...]]:
    found = await rig.zns_rows(code)
    return found if found and found[0][0] == status else []


async def test_a_refused_token_is_renewed_and_the_send_made_again(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    rig.oa.expire_access_token()
    await rig.returned()
    await rig.zns.wait_for_message(PHONE, template_id=RATING_ID)
    calls = [call for call in rig.zns.calls if call.kind == "message"]
    assert [call.error for call in calls] == [-124, 0]
    assert calls[0].access_token == DEFAULT_ACCESS_TOKEN != calls[1].access_token
    assert rig.oa.refresh_count == 1


async def test_a_dead_token_pair_stops_zns_and_keeps_its_messages_queued(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    rig.oa.expire_access_token()
    rig.oa.fail_refresh_for_good()
    await rig.returned()
    await asyncio.wait_for(rig.client.app[ZALO_OA].dead.wait(), 10)
    [(status, _nb, error, _p)] = await rig.until(lambda: _waiting(rig, CASE))
    assert status == "pending" and "token dead" in error
    body = await (await rig.client.get("/metrics")).text()
    assert "sipas_zns_up 0.0" in body
    assert rig.zns.sent == []


async def test_a_zns_outage_is_retried(start: Callable[..., Awaitable[Rig]]) -> None:
    rig = await start()
    rig.zns.fail_next("message", status=503)
    await rig.returned()
    [(status, _nb, error, _p)] = await rig.until(lambda: _waiting(rig, CASE))
    assert status == "pending" and "503" in error
    rig.move(START + timedelta(minutes=1))  # past the backoff
    await rig.zns.wait_for_message(PHONE, template_id=RATING_ID)
    assert [call.status for call in rig.zns.calls if call.kind == "message"] == [503, 200]


async def test_the_invitation_waits_for_the_end_of_the_quiet_hours(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start(start=datetime(2027, 3, 10, 22, 0, tzinfo=TZ), quiet_hours="21:00-07:00")
    await rig.returned()
    [(status, not_before, _e, _p)] = await rig.until(lambda: rig.zns_rows(CASE))
    assert status == "pending" and _same(not_before, datetime(2027, 3, 11, 7, 0, tzinfo=TZ))
    assert sends(rig) == []
    rig.move(datetime(2027, 3, 11, 7, 0, 1, tzinfo=TZ))
    await rig.zns.wait_for_message(PHONE, template_id=RATING_ID)


async def test_each_message_is_counted_for_its_agency_and_month(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    await rig.returned(CASE)
    await rig.returned(OTHER, OTHER_PHONE)
    await rig.until(lambda: _sent_rows(rig, CASE))
    await rig.until(lambda: _sent_rows(rig, OTHER))
    billable = BillableStore(rig.engine)
    assert await billable.counts("zns") == [(AGENCY, "2027-03", 2)]
    # Each message is recorded with its cost class too.
    costs = await rig.rows(
        "SELECT o.cost_class FROM outbox o JOIN chats c ON c.id = o.chat_id WHERE c.channel = 'zns'"
    )
    assert costs == [("zns",), ("zns",)]
    body = await (await rig.client.get("/metrics")).text()
    assert f'sipas_zns_messages_by_month{{agency="{AGENCY}",month="2027-03"}} 2.0' in body
    assert 'sipas_zns_sent_total{purpose="rating"} 2.0' in body
    assert "sipas_zns_quota_remaining 498.0" in body
    assert PHONE[1:] not in body


async def test_a_chat_linked_after_the_zns_invitation_takes_the_unrated_survey(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    await rig.returned()
    await rig.zns.wait_for_message(PHONE, template_id=RATING_ID)
    link_code = (await rig.deliver(TrangThaiHoSo=2, SoDienThoai=PHONE))["link_code"]
    # The citizen, invited by ZNS, writes to the OA with the receipt's code instead.
    await rig.oa.send_text(CITIZEN, link_code)
    question = await rig.oa.wait_for_message(CITIZEN, contains="Rất hài lòng")
    assert question.buttons
    [(source, channel)] = await rig.rows(
        "SELECT s.source, c.channel FROM surveys s JOIN chats c ON c.id = s.chat_id"
    )
    assert (source, channel) == ("zalo_oa", "zalo_oa")
    assert len(rig.zns.sent) == 1  # no second ZNS message: a reminder would go to the OA now
