"""Heads' commands on every platform: `/report` and `/late` only within the head's agencies,
`/mute` holds a low-score alert (not a complaint) until it ends, `/alerts` lists the open ones,
and an alert nobody acknowledges reaches the parent agency's head."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from bot.texts import head_text
from tests.channels.harness import TZ, Conversation
from tests.channels.steps import command, reply

HEAD, OTHER_HEAD, PARENT_HEAD = "8601", "8602", "8603"
CITIZEN_LOW, CITIZEN_MONEY, CITIZEN_GOOD, CITIZEN_CHILD = "8611", "8612", "8613", "8614"
AGENCY, AGENCY_NAME = "000.00.01.H12", "Trung tâm Phục vụ hành chính công tỉnh"
CHILD, CHILD_NAME = "000.00.11.H12", "Bộ phận một cửa huyện Ba Vì"
OTHER, OTHER_NAME = "000.00.02.H12", "Sở Y tế"
FRIDAY = datetime(2026, 10, 9, 10, 0, tzinfo=TZ)  # the next working day is Monday 12/10
REFUSED = "Xin lỗi, bạn không dùng được lệnh này."
ALERT_BUTTONS = ["Đã tiếp nhận", "Đã xử lý"]


def at(talk: Conversation, moment: datetime) -> None:
    """Move the test's clock to a local `moment` (the clock keeps UTC)."""
    talk.clock.moment = moment.astimezone(UTC)


async def sql(talk: Conversation, *statements: str) -> None:
    async with talk.services.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def become_head(talk: Conversation, user: str, agency: str) -> None:
    token = await talk.services.invites.invite("head", agency)
    (welcome,) = await command(talk, user, f"/start {token}")
    assert "thủ trưởng" in welcome


async def surveyed(
    talk: Conversation, user: str, code: str, agency: str, name: str, *, level: int, money: bool
) -> None:
    """A case of `agency` is returned; its citizen answers every five-level question at
    `level` (and, if `money`, says they were asked for money)."""
    fields = {"MaCoQuan": agency, "TenCoQuan": name, "NgayHenTra": "20261008170000"}
    await talk.start(user, await talk.case(code, TrangThaiHoSo=2, **fields))
    await talk.case(
        code, TrangThaiHoSo=10, ThoiDiemXuLy="20261005090000", NgayTra="20261005090000", **fields
    )
    await talk.tick()
    await talk.complete_survey(user, level=level, money=money)


def open_case(code: str, agency: str, name: str, due: str) -> dict[str, object]:
    return {"MaCoQuan": agency, "TenCoQuan": name, "TrangThaiHoSo": 4, "NgayHenTra": due}


def buttons_of(talk: Conversation, user: str, needle: str) -> list[str]:
    shown = next(s for s in reversed(talk.inbox(user)) if needle in s.text)
    return talk.options(shown)


async def test_report_and_late_show_only_the_heads_agencies(talk: Conversation) -> None:
    at(talk, FRIDAY)
    for code, agency, name, due in (
        ("HS-L1", AGENCY, AGENCY_NAME, "20261001170000"),  # overdue
        ("HS-L2", CHILD, CHILD_NAME, "20261012100000"),  # due next working day
        ("HS-L3", AGENCY, AGENCY_NAME, "20261014170000"),  # not yet
        ("HS-L4", OTHER, OTHER_NAME, "20261002170000"),  # overdue, another agency
        ("HS-L5", AGENCY, AGENCY_NAME, "20261009170000"),  # due today
    ):
        await talk.case(code, **open_case(code, agency, name, due))
    await sql(
        talk,
        f"UPDATE agencies SET parent_code = '{AGENCY}' WHERE code = '{CHILD}'",
        "UPDATE agencies SET min_sample = 1",
    )
    await become_head(talk, HEAD, AGENCY)
    await become_head(talk, OTHER_HEAD, OTHER)
    await surveyed(talk, CITIZEN_GOOD, "HS-R1", AGENCY, AGENCY_NAME, level=5, money=False)
    await surveyed(talk, CITIZEN_CHILD, "HS-R2", CHILD, CHILD_NAME, level=4, money=False)
    await surveyed(talk, CITIZEN_LOW, "HS-R3", OTHER, OTHER_NAME, level=1, money=False)

    report, chart = await command(talk, HEAD, "/report 2026-10")
    assert f"📊 Báo cáo SIPAS — {AGENCY_NAME}" in report
    assert "Kỳ: 01/10/2026 – 09/10/2026" in report
    assert "SIPAS: 100.0% (n=2 phiếu" in report, report  # HS-R3 is another agency's
    assert CHILD_NAME in report and OTHER_NAME not in report
    assert "Hồ sơ đang quá hạn: 1" in report  # HS-L1; HS-L4 is not theirs
    assert "Biểu đồ SIPAS" in chart
    assert bool(talk.latest(HEAD).view.picture) == talk.channel.traits.pictures

    late = (await reply(talk, HEAD, "/late")).splitlines()
    assert "Hồ sơ quá hạn và sắp đến hạn" in late[0]
    assert [line.split(" — ")[0] for line in late[1:]] == ["• HS-L1", "• HS-L5", "• HS-L2"]
    assert late[1].endswith("hẹn trả 01/10/2026 (quá hạn)")
    assert late[3].endswith("hẹn trả 12/10/2026")
    assert not any("Nguyễn Thị Hằng" in line or "0912345678" in line for line in late)

    other, _chart = await command(talk, OTHER_HEAD, "/report")
    assert OTHER_NAME in other and AGENCY_NAME not in other and "SIPAS: 0.0%" in other
    assert await reply(talk, OTHER_HEAD, f"/report 2026-10 {AGENCY}") == REFUSED
    assert await reply(talk, OTHER_HEAD, "/report 2026-10 000.99.99.H12") == REFUSED
    other_late = await reply(talk, OTHER_HEAD, "/late")
    assert "HS-L4" in other_late and "HS-L1" not in other_late


async def test_mute_holds_a_low_score_alert_but_not_a_complaint(talk: Conversation) -> None:
    at(talk, FRIDAY)
    await talk.case("HS-M0")  # the agency exists before the invite
    await become_head(talk, HEAD, AGENCY)
    assert "từ 1 đến 72" in await reply(talk, HEAD, "/mute 100")
    muted = await reply(talk, HEAD, "/mute 2")
    assert "Đã tạm hoãn cảnh báo" in muted and "12:00 09/10/2026" in muted

    await surveyed(talk, CITIZEN_LOW, "HS-M1", AGENCY, AGENCY_NAME, level=2, money=False)
    await surveyed(talk, CITIZEN_MONEY, "HS-M2", AGENCY, AGENCY_NAME, level=2, money=True)
    complaint = talk.latest(HEAD)
    assert "Ý kiến chưa hài lòng" in complaint.text
    assert "HS-M2" in complaint.text and "‼️" in complaint.text
    assert not any("HS-M1" in t for t in talk.texts(HEAD)), "held while muted"

    at(talk, datetime(2026, 10, 9, 12, 1, tzinfo=TZ))  # the mute is over
    await talk.settle()
    held = talk.latest(HEAD)
    assert "HS-M1" in held.text and "Ý kiến chưa hài lòng" in held.text
    assert talk.options(held) == ALERT_BUTTONS

    first, second = await command(talk, HEAD, "/alerts")
    assert "Cảnh báo chưa xử lý: 2" in first and "HS-M1" in first  # oldest first
    assert "Ý kiến chưa hài lòng" in second and "HS-M2" in second
    for listed in talk.inbox(HEAD)[-2:]:
        assert talk.options(listed) == ALERT_BUTTONS


async def test_an_unacknowledged_alert_reaches_the_parent_agencys_head(
    talk: Conversation,
) -> None:
    at(talk, datetime(2026, 10, 5, 9, 0, tzinfo=TZ))
    await talk.case("HS-P1", MaCoQuan="H12", TenCoQuan="UBND tỉnh")
    await talk.case("HS-D0")
    await sql(talk, f"UPDATE agencies SET parent_code = 'H12' WHERE code = '{AGENCY}'")
    await become_head(talk, HEAD, AGENCY)
    await become_head(talk, PARENT_HEAD, "H12")
    await surveyed(talk, CITIZEN_LOW, "HS-D1", AGENCY, AGENCY_NAME, level=2, money=False)
    alert = talk.latest(HEAD)
    assert "Ý kiến chưa hài lòng" in alert.text and "HS-D1" in alert.text
    parent_before = len(talk.inbox(PARENT_HEAD))

    at(talk, datetime(2026, 10, 5, 15, 0, tzinfo=TZ))  # under 8 working hours
    assert await talk.services.alerts.escalate_overdue() == 0
    await talk.settle()
    assert len(talk.inbox(PARENT_HEAD)) == parent_before

    at(talk, datetime(2026, 10, 7, 16, 0, tzinfo=TZ))  # two working days later
    assert await talk.services.alerts.escalate_overdue() == 1
    await talk.settle()
    escalated = talk.latest(PARENT_HEAD)
    assert "chuyển lên cấp trên" in escalated.text and "HS-D1" in escalated.text
    assert f"#{alert.text.rsplit('#', 1)[1]}" in escalated.text
    assert await talk.services.alerts.escalate_overdue() == 0, "once"


async def test_an_acknowledged_alert_is_not_escalated(talk: Conversation) -> None:
    at(talk, datetime(2026, 10, 5, 9, 0, tzinfo=TZ))
    await talk.case("HS-D0")
    await become_head(talk, HEAD, AGENCY)
    await surveyed(talk, CITIZEN_LOW, "HS-D1", AGENCY, AGENCY_NAME, level=2, money=False)
    alert = talk.latest(HEAD)
    assert head_text("vi", "acked") in await talk.answer(HEAD, alert, ALERT_BUTTONS[0])
    at(talk, datetime(2026, 10, 7, 16, 0, tzinfo=TZ))
    assert await talk.services.alerts.escalate_overdue() == 0
