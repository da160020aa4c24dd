"""Status notices (2/5/6/9/10) and the apology letter when the promised date moves, on every
platform: once per case and status, once per new date, as the citizen reads them."""

from __future__ import annotations

from itertools import count

from bot.channels.inbound import Command
from tests.channels.harness import Conversation
from tests.channels.test_survey_contract import CODE, USER

PROCEDURE = "Cấp giấy chứng nhận đăng ký hộ kinh doanh"
APPLICANT = "Nguyễn Thị Hằng"
_minutes = count(1)


def moment() -> str:
    """A fresh, increasing `ThoiDiemXuLy` for the next event (2026-10-02, a minute apart)."""
    minutes = next(_minutes)
    return f"20261002{8 + minutes // 60:02d}{minutes % 60:02d}00"


async def linked(talk: Conversation) -> int:
    """The case is being processed (4: no notice) and the citizen links it; how many messages
    the chat then holds."""
    token = await talk.case(CODE, TrangThaiHoSo=4)
    await talk.start(USER, token)
    assert any(f"Đã liên kết hồ sơ {CODE}" in text for text in talk.texts(USER))
    return len(talk.inbox(USER))


async def event(talk: Conversation, status: int, **fields: object) -> list[str]:
    """The one-stop system reports a newer event; the loop runs; what reached the citizen."""
    before = len(talk.inbox(USER))
    await talk.case(CODE, TrangThaiHoSo=status, ThoiDiemXuLy=moment(), **fields)
    await talk.tick()
    return talk.texts(USER)[before:]


async def test_each_status_notice_once_then_the_apology(talk: Conversation) -> None:
    await linked(talk)

    (supplement,) = await event(talk, 5)
    assert CODE in supplement and "cần bổ sung giấy tờ" in supplement and PROCEDURE in supplement
    (fees,) = await event(talk, 6)
    assert CODE in fees and "nghĩa vụ tài chính" in fees

    moved = {
        "NgayHenTraTruoc": "20261008170000",
        "NgayHenTraMoi": "20261015170000",
        "LyDo": "Chờ kết quả xác minh",
    }
    (apology,) = await event(talk, 4, DanhSachHoSoBoSung=[moved])
    for part in (
        "THƯ XIN LỖI",
        CODE,
        PROCEDURE,
        "08/10/2026",
        "15/10/2026",
        "Chờ kết quả xác minh",
        APPLICANT,
    ):
        assert part in apology, (part, apology)

    ready = {"ThoiDiemXuLy": moment(), "NgayKetThucXuLy": "20261014090000"}
    before = len(talk.inbox(USER))
    await talk.case(CODE, TrangThaiHoSo=9, **ready)
    await talk.tick()
    (result,) = talk.texts(USER)[before:]
    assert "đã có kết quả" in result and CODE in result

    await talk.case(CODE, TrangThaiHoSo=9, **ready)  # the same delivery again
    assert await event(talk, 9, NgayKetThucXuLy="20261014090000") == []  # the same status
    assert await event(talk, 4, DanhSachHoSoBoSung=[moved]) == []  # the same new date
    assert len(talk.inbox(USER)) == before + 1


async def test_accepted_notice_and_no_notice_for_the_surveys_status(talk: Conversation) -> None:
    await linked(talk)
    (accepted,) = await event(talk, 2)
    assert CODE in accepted
    returned = await event(talk, 10, NgayTra="20261005090000")
    assert returned and not any("đã có kết quả. Mời Ông/Bà đến nhận" in t for t in returned)
    assert "1/" in returned[-1], "the returned case gets the survey's first question instead"
    assert talk.options(talk.latest(USER))


async def test_a_stopped_chat_gets_no_notice(talk: Conversation) -> None:
    await linked(talk)
    await talk.send(Command(talk.chat(USER), "stop"))
    assert await event(talk, 5) == []
    assert await event(talk, 9, NgayKetThucXuLy="20261005090000") == []
