"""Heads' chat commands end to end (the real `sipas serve`, the fake Bot API): `/report` shows
only the head's agencies with its chart, `/late` lists the right cases in order, and `/mute`
holds a low-score alert until the mute ends while a complaint still arrives at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine
from tests.e2e.conftest import Clock, ServiceFactory, post_event, telegram_link
from tests.e2e.service import ServiceProcess
from tests.e2e.test_heads import invite_link
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.support import dossier

pytestmark = pytest.mark.e2e

HEAD, OTHER_HEAD, CITIZEN_LOW, CITIZEN_MONEY = 8601, 8602, 8611, 8612
AGENCY, AGENCY_NAME = "000.00.01.H12", "Trung tâm Phục vụ hành chính công tỉnh"
CHILD, CHILD_NAME = "000.00.11.H12", "Bộ phận một cửa huyện Ba Vì"
OTHER, OTHER_NAME = "000.00.02.H12", "Sở Y tế"
FRIDAY = "2026-10-09T10:00:00+07:00"  # the next working day is Monday 12/10
CRITERIA = [
    "1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4", "3.5",
    "4.1", "4.2", "4.3", "5.1", "5.2", "5.3",
]  # fmt: skip


def cli(service: ServiceProcess, *args: str) -> str:
    return service.cli(*args)


async def sql(database_url: str, *statements: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def say(telegram: FakeTelegram, user: int, text: str) -> None:
    """Send a command (the service paces its replies within the fake's flood limits, so no
    pause between messages is needed)."""
    telegram.user_sends_text(user, text)


async def become_head(
    service: ServiceProcess, telegram: FakeTelegram, user: int, agency: str
) -> None:
    link = await asyncio.to_thread(invite_link, service, "head", "--agency", agency)
    telegram.user_sends_command(user, "/start", link.split("start=")[1])
    await telegram.wait_for_message(user, contains="thủ trưởng", timeout=30)


def ended(code: str, agency: str, name: str, **fields: object) -> dict[str, object]:
    return dossier(
        code,
        MaCoQuan=agency,
        TenCoQuan=name,
        TrangThaiHoSo=10,
        NgayHenTra="20261008170000",
        NgayTra="20261005090000",
        ThoiDiemXuLy="20261005090000",
        **fields,
    )


def open_case(code: str, agency: str, name: str, due: str, **fields: object) -> dict[str, object]:
    return dossier(code, MaCoQuan=agency, TenCoQuan=name, TrangThaiHoSo=4, NgayHenTra=due, **fields)


async def test_report_and_late_show_only_the_heads_agencies(
    bot_service: ServiceFactory,
    telegram: FakeTelegram,
    clock: Clock,
    database_url: str,
    tmp_path: Path,
) -> None:
    clock.set(FRIDAY)
    service = bot_service()
    for event in (
        ended("HS-R1", AGENCY, AGENCY_NAME),
        ended("HS-R2", CHILD, CHILD_NAME),
        ended("HS-R3", OTHER, OTHER_NAME),
        open_case("HS-L1", AGENCY, AGENCY_NAME, "20261001170000"),  # overdue
        open_case("HS-L2", CHILD, CHILD_NAME, "20261012100000"),  # due next working day
        open_case("HS-L3", AGENCY, AGENCY_NAME, "20261014170000"),  # not yet
        open_case("HS-L4", OTHER, OTHER_NAME, "20261002170000"),  # overdue, another agency
        open_case("HS-L5", AGENCY, AGENCY_NAME, "20261009170000"),  # due today
    ):
        await post_event(service, event)
    await sql(
        database_url,
        f"UPDATE agencies SET parent_code = '{AGENCY}' WHERE code = '{CHILD}'",
        "UPDATE agencies SET min_sample = 1",
    )
    rows = ["MaHoSo,MaCoQuan,question_code,value,answered_at"]
    for case, agency, level in (("HS-R1", AGENCY, 5), ("HS-R2", CHILD, 4), ("HS-R3", OTHER, 1)):
        rows += [f"{case},{agency},{code},{level},2026-10-06T09:00:00+07:00" for code in CRITERIA]
    answers = tmp_path / "answers.csv"
    answers.write_text("\n".join(rows) + "\n", encoding="utf-8")
    await asyncio.to_thread(cli, service, "import-responses", str(answers))
    await become_head(service, telegram, HEAD, AGENCY)
    await become_head(service, telegram, OTHER_HEAD, OTHER)

    await say(telegram, HEAD, "/report 2026-10")
    report = await telegram.wait_for_message(HEAD, contains="Báo cáo SIPAS", timeout=30)
    assert f"📊 Báo cáo SIPAS — {AGENCY_NAME}" in report.text
    assert "Kỳ: 01/10/2026 – 09/10/2026" in report.text
    # HS-R3's very dissatisfied answers belong to another agency: not mixed in.
    assert "SIPAS: 100.0% (n=2 phiếu" in report.text
    assert CHILD_NAME in report.text and OTHER_NAME not in report.text
    assert "Hồ sơ đang quá hạn: 1" in report.text  # HS-L1; HS-L4 is not theirs
    chart = await telegram.wait_for_message(HEAD, contains="Biểu đồ SIPAS", timeout=30)
    assert chart.data.get("photo"), "the report's chart arrives as a photo"

    await say(telegram, HEAD, "/late")
    late = await telegram.wait_for_message(
        HEAD, contains="Hồ sơ quá hạn và sắp đến hạn", timeout=30
    )
    lines = late.text.splitlines()
    assert [line.split(" — ")[0] for line in lines[1:]] == ["• HS-L1", "• HS-L5", "• HS-L2"]
    assert lines[1].endswith("hẹn trả 01/10/2026 (quá hạn)")
    assert lines[3].endswith("hẹn trả 12/10/2026")
    assert "Nguyễn Thị Hằng" not in late.text and "0912345678" not in late.text

    await say(telegram, OTHER_HEAD, "/report")
    other = await telegram.wait_for_message(OTHER_HEAD, contains="Báo cáo SIPAS", timeout=30)
    assert (
        OTHER_NAME in other.text and AGENCY_NAME not in other.text and "SIPAS: 0.0%" in other.text
    )
    await telegram.wait_for_message(OTHER_HEAD, contains="Biểu đồ SIPAS", timeout=30)
    await say(telegram, OTHER_HEAD, f"/report 2026-10 {AGENCY}")
    refusal = await telegram.wait_for_message(OTHER_HEAD, timeout=30)
    assert refusal.text == "Xin lỗi, bạn không dùng được lệnh này."  # reveals nothing
    await say(telegram, OTHER_HEAD, "/report 2026-10 000.99.99.H12")  # no such agency
    assert (await telegram.wait_for_message(OTHER_HEAD, timeout=30)).text == refusal.text
    await say(telegram, OTHER_HEAD, "/late")
    other_late = await telegram.wait_for_message(OTHER_HEAD, contains="HS-L4", timeout=30)
    assert "HS-L1" not in other_late.text
    assert telegram.violations == []


async def answer(
    telegram: FakeTelegram, user: int, question: SentMessage, label: str
) -> SentMessage:
    telegram.press_button(user, question, label)
    return await telegram.wait_for_message(
        user, lambda m, mid=question.message_id: m.message_id > mid, timeout=30
    )


async def survey(
    service: ServiceProcess, telegram: FakeTelegram, user: int, code: str, *, money: bool
) -> None:
    """The citizen answers every five-level question "Không hài lòng" and, if `money`, says
    they were asked for money; other yes/no questions "Không"; choices: the first option."""
    payload = await telegram_link(service, dossier(code, TrangThaiHoSo=2))
    telegram.user_sends_command(user, "/start", payload)
    await telegram.wait_for_message(user, contains=code, timeout=30)
    await post_event(
        service,
        dossier(code, TrangThaiHoSo=10, ThoiDiemXuLy="20261009090000", NgayTra="20261009090000"),
    )
    question = await telegram.wait_for_message(user, button="Rất hài lòng", timeout=30)
    asked_money = False
    while "Cảm ơn Ông/Bà đã hoàn thành" not in question.text:
        labels = question.button_labels
        if "2. Không hài lòng" in labels:
            question = await answer(telegram, user, question, "2. Không hài lòng")
        elif "Có" in labels:
            say_yes = money and not asked_money
            asked_money = True
            question = await answer(telegram, user, question, "Có" if say_yes else "Không")
        elif any("Xong" in label for label in labels):
            telegram.press_button(user, question, labels[0])
            toggled = await telegram.wait_for_message(
                user, lambda m, mid=question.message_id: m.message_id == mid, timeout=30
            )
            question = await answer(telegram, user, toggled, labels[1])
        elif labels:
            question = await answer(telegram, user, question, labels[0])
        else:
            telegram.user_sends_text(user, "Không có góp ý.")
            question = await telegram.wait_for_message(
                user, lambda m, mid=question.message_id: m.message_id > mid, timeout=30
            )


async def test_mute_holds_a_low_score_alert_but_not_a_complaint(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock
) -> None:
    clock.set(FRIDAY)
    service = bot_service()
    await post_event(service, dossier("HS-M0"))  # the agency exists before the invite
    await become_head(service, telegram, HEAD, AGENCY)

    await say(telegram, HEAD, "/mute 100")
    assert await telegram.wait_for_message(HEAD, contains="từ 1 đến 72", timeout=30)
    await say(telegram, HEAD, "/mute 2")
    muted = await telegram.wait_for_message(HEAD, contains="Đã tạm hoãn cảnh báo", timeout=30)
    assert "12:00 09/10/2026" in muted.text

    await survey(service, telegram, CITIZEN_LOW, "HS-M1", money=False)
    await survey(service, telegram, CITIZEN_MONEY, "HS-M2", money=True)
    complaint = await telegram.wait_for_message(HEAD, contains="Ý kiến chưa hài lòng", timeout=30)
    assert "HS-M2" in complaint.text and "‼️" in complaint.text
    await asyncio.sleep(3)
    assert not any("HS-M1" in (m.text or "") for m in telegram.messages_to(HEAD)), "held"

    clock.set("2026-10-09T12:01:00+07:00")  # the mute is over: the held alert arrives
    held = await telegram.wait_for_message(HEAD, contains="HS-M1", timeout=30)
    assert "Ý kiến chưa hài lòng" in held.text
    assert held.button_labels == ["Đã tiếp nhận", "Đã xử lý"]

    await say(telegram, HEAD, "/alerts")
    first = await telegram.wait_for_message(HEAD, contains="Cảnh báo chưa xử lý: 2", timeout=30)
    second = await telegram.wait_for_message(HEAD, contains="Ý kiến chưa hài lòng", timeout=30)
    assert "HS-M1" in first.text and "HS-M2" in second.text  # oldest first
    for listed in (first, second):
        assert listed.button_labels == ["Đã tiếp nhận", "Đã xử lý"]
    assert telegram.violations == []
