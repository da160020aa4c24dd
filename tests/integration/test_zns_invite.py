"""An agency that prefers the full survey: its cases get the ZNS `invite` template, whose
button opens the case's web survey, and the web form completes the survey ZNS opened; the
reminder goes the same way. The whole service (bot.app) over real HTTP with the fake OA and
ZNS (`tests.integration.zns_rig`), SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.web.keys import SURVEYS
from storage.roles import RoleStore
from tests.fakes.zalo_zns_api import DEFAULT_TEMPLATE_IDS
from tests.integration.zns_rig import AGENCY, CASE, PHONE, START, Rig

INVITE_ID = DEFAULT_TEMPLATE_IDS["invite"]
BASE = "http://127.0.0.1:8080"
# Every question of the built-in short form answered well.
ANSWERS = [
    ("q_F1", "4"),
    ("q_F2", "5"),
    ("q_F3", "4"),
    ("q_F4", "5"),
    ("q_F5", "4"),
    ("q_OVERALL", "5"),
    ("q_MONEY", "n"),
    ("q_HARASS", "n"),
    ("q_ONTIME", "y"),
    ("q_EXPECT", "E1"),
    ("q_COMMENT", "Cán bộ nhiệt tình."),
]


async def prefer_the_web_survey(rig: Rig) -> str:
    """The case is received (its agency now exists) and the agency chooses the web survey;
    the receipt's web link."""
    answer = await rig.deliver(TrangThaiHoSo=2, SoDienThoai=PHONE)
    assert await RoleStore(rig.engine).update_agency(AGENCY, zns_survey="invite")
    return str(answer["links"]["web"])


async def survey(rig: Rig) -> tuple[Any, ...]:
    [row] = await rig.rows(
        "SELECT s.id, s.source, s.status, c.channel FROM surveys s "
        "JOIN chats c ON c.id = s.chat_id WHERE s.case_code = :c",
        c=CASE,
    )
    return row


async def test_the_invite_template_opens_the_web_survey_that_completes_it(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    link = await prefer_the_web_survey(rig)
    await rig.returned()
    message = await rig.zns.wait_for_message(PHONE, template_id=INVITE_ID)
    token = link.removeprefix(f"{BASE}/s/")
    assert message.template_data == {
        "ma_ho_so": CASE,
        "ten_thu_tuc": "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
        "ten_co_quan": "Trung tâm Phục vụ hành chính công tỉnh",
        "ma_khao_sat": token,
    }
    survey_id, source, status, channel = await survey(rig)
    assert (source, status, channel) == ("zns", "invited", "zns")
    assert message.tracking_id == str(survey_id)
    assert [m.template_id for m in rig.zns.sent] == [INVITE_ID]  # no rating template too

    # The citizen taps the button: the case's web survey, the full form.
    assert message.button == f"/s/{token}"
    page = await rig.client.get(message.button)
    html = await page.text()
    assert page.status == 200 and 'id="survey"' in html
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    posted = await rig.client.post(
        message.button, data=[*ANSWERS, ("csrf", found.group(1))], allow_redirects=False
    )
    assert posted.status == 303, await posted.text()
    assert (await survey(rig))[2] == "completed"
    [(answers,)] = await rig.rows("SELECT count(*) FROM answers WHERE survey_id = :s", s=survey_id)
    assert answers == len(ANSWERS)
    # Completed: no reminder follows.
    rig.move(START + timedelta(hours=25))
    assert await rig.client.app[SURVEYS].remind_and_expire() == (0, 0)
    assert len(rig.zns.sent) == 1


async def test_an_unanswered_invitation_is_reminded_with_the_invite_template(
    start: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await start()
    await prefer_the_web_survey(rig)
    await rig.returned()
    first = await rig.zns.wait_for_message(PHONE, template_id=INVITE_ID)
    await rig.until(lambda: _all_sent(rig))
    rig.move(START + timedelta(hours=25))
    assert await rig.client.app[SURVEYS].remind_and_expire() == (0, 1)
    again = await rig.zns.wait_for_message(PHONE, template_id=INVITE_ID, count=2)
    assert again.template_data == first.template_data
    assert again.tracking_id == first.tracking_id
    assert {m.template_id for m in rig.zns.sent} == {INVITE_ID}


async def _all_sent(rig: Rig) -> bool:
    rows = await rig.zns_rows()
    return bool(rows) and all(row[0] == "sent" for row in rows)
