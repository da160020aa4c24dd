"""Agency heads: a one-time invite, an anonymised low-score alert in seconds, the closed loop."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage.db import create_engine
from tests.e2e.conftest import Clock, ServiceFactory, post_event, telegram_link
from tests.e2e.service import ServiceProcess
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.support import dossier

pytestmark = pytest.mark.e2e
CITIZEN, HEAD, STRANGER, PARENT_HEAD = 8101, 8201, 8301, 8401
AGENCY = "000.00.01.H12"


def invite_link(service: ServiceProcess, role: str, *extra: str) -> str:
    return service.cli("invite", role, *extra, timeout=60).strip().splitlines()[-1]


async def answer(telegram: FakeTelegram, question: SentMessage, label: str) -> SentMessage:
    telegram.press_button(CITIZEN, question, label)
    return await telegram.wait_for_message(
        CITIZEN, lambda m, mid=question.message_id: m.message_id > mid, timeout=15
    )


async def test_head_invite_alert_and_closed_loop(
    bot_service: ServiceFactory, telegram: FakeTelegram
) -> None:
    service = bot_service(SIPAS_INSPECTOR_TELEGRAM_IDS=str(STRANGER))
    payload = await telegram_link(
        service, dossier("HS-9", TrangThaiHoSo=2, ChuHoSo="Lê Thị Bí Mật", NguoiXuLy="Ngô Văn Tùng")
    )
    link = await asyncio.to_thread(invite_link, service, "head", "--agency", AGENCY)
    assert link.startswith("https://t.me/sipas_test_bot?start=i")
    telegram.user_sends_command(HEAD, "/start", link.split("start=")[1])
    confirmed = await telegram.wait_for_message(HEAD, contains="thủ trưởng")
    assert "Trung tâm Phục vụ hành chính công tỉnh" in confirmed.text
    telegram.user_sends_command(STRANGER, "/start", link.split("start=")[1])
    assert await telegram.wait_for_message(STRANGER, contains="đã được sử dụng")

    telegram.user_sends_command(CITIZEN, "/start", payload)
    await telegram.wait_for_message(CITIZEN, contains="HS-9")
    await post_event(
        service,
        dossier(
            "HS-9",
            TrangThaiHoSo=10,
            ThoiDiemXuLy="20261005090000",
            NgayTra="20261005090000",
            NguoiXuLy="Ngô Văn Tùng",
        ),
    )
    question = await telegram.wait_for_message(CITIZEN, button="Rất hài lòng")
    for _ in range(2):  # F1, F2
        question = await answer(telegram, question, "4. Hài lòng")
    question = await answer(telegram, question, "1. Rất không hài lòng")  # F3 → why?
    question = await answer(telegram, question, question.button_labels[0])  # a reason
    for _ in range(3):  # F4, F5, OVERALL
        question = await answer(telegram, question, "4. Hài lòng")
    question = await answer(telegram, question, "Có")  # asked for money
    question = await answer(telegram, question, "Không")
    question = await answer(telegram, question, "Có")
    telegram.press_button(CITIZEN, question, question.button_labels[0])
    toggled = await telegram.wait_for_message(
        CITIZEN, lambda m, mid=question.message_id: m.message_id == mid
    )
    question = await answer(telegram, toggled, question.button_labels[1])
    telegram.user_sends_text(CITIZEN, "Cán bộ đòi thêm tiền mới giải quyết nhanh.")

    alert = await telegram.wait_for_message(HEAD, contains="Ý kiến chưa hài lòng", timeout=15)
    assert "HS-9" in alert.text
    assert "Cấp giấy chứng nhận đăng ký hộ kinh doanh" in alert.text
    assert "Ngô Văn Tùng" in alert.text  # the officer
    assert "‼️ Phản ánh: bị yêu cầu nộp tiền ngoài quy định" in alert.text
    assert "Rất không hài lòng" in alert.text
    assert "Cán bộ đòi thêm tiền" in alert.text
    assert "Lý do: Thái độ" in alert.text  # the reason's label, not its code
    assert "Lê Thị Bí Mật" not in alert.text and "0912345678" not in alert.text
    assert alert.button_labels == ["Đã tiếp nhận", "Đã xử lý"]
    # A complaint of money asked also reaches the inspector named in the settings.
    inspector_copy = await telegram.wait_for_message(STRANGER, contains="Ý kiến chưa hài lòng")
    assert "‼️" in inspector_copy.text and "Lê Thị Bí Mật" not in inspector_copy.text

    # The bot answers a press once it has handled it: then the next press.
    await telegram.wait_for_answer(telegram.press_button(HEAD, alert, "Đã tiếp nhận"))
    telegram.press_button(HEAD, alert, "Đã xử lý")
    await telegram.wait_for_message(HEAD, contains="ghi chú")
    telegram.user_sends_text(HEAD, "Đã làm việc với công chức, hoàn trả khoản thu sai.")
    assert await telegram.wait_for_message(HEAD, contains="Đã ghi nhận xử lý")
    follow_up = await telegram.wait_for_message(CITIZEN, contains="có hài lòng", timeout=15)
    assert follow_up.button_labels == ["Có", "Không"]
    await telegram.wait_for_answer(telegram.press_button(CITIZEN, follow_up, "Có"))
    assert telegram.violations == []


def run_job(service: ServiceProcess, job: str) -> str:
    return service.cli("run-job", job).strip()


async def complete_survey(telegram: FakeTelegram, question: SentMessage, level: str) -> None:
    """Answer every question with `level` (or the first choice), skipping the comment."""
    while True:
        labels = question.button_labels
        if level in labels:
            question = await answer(telegram, question, level)
        elif "Không" in labels:
            question = await answer(telegram, question, "Không")
        elif any("Xong" in label for label in labels):
            telegram.press_button(CITIZEN, question, labels[0])
            toggled = await telegram.wait_for_message(
                CITIZEN, lambda m, mid=question.message_id: m.message_id == mid
            )
            question = await answer(telegram, toggled, labels[1])
        elif labels:
            question = await answer(telegram, question, labels[0])
        else:
            return
        if "Cảm ơn Ông/Bà đã hoàn thành" in question.text:
            return


async def test_digest_arrives_with_its_chart_and_escalation_reaches_the_parent(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    service = bot_service()
    clock.set("2026-10-05T09:00:00+07:00")
    payload = await telegram_link(service, dossier("HS-D1", TrangThaiHoSo=2))
    head_link = await asyncio.to_thread(invite_link, service, "head", "--agency", AGENCY)
    telegram.user_sends_command(HEAD, "/start", head_link.split("start=")[1])
    await telegram.wait_for_message(HEAD, contains="thủ trưởng")

    # A province above the agency, with its own head.
    await post_event(service, dossier("HS-P1", MaCoQuan="H12", TenCoQuan="UBND tỉnh"))
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE agencies SET parent_code = 'H12' WHERE code = :c"), {"c": AGENCY}
            )
    finally:
        await engine.dispose()
    parent_link = await asyncio.to_thread(invite_link, service, "head", "--agency", "H12")
    telegram.user_sends_command(PARENT_HEAD, "/start", parent_link.split("start=")[1])
    await telegram.wait_for_message(PARENT_HEAD, contains="thủ trưởng")

    telegram.user_sends_command(CITIZEN, "/start", payload)
    await telegram.wait_for_message(CITIZEN, contains="HS-D1")
    await post_event(
        service,
        dossier("HS-D1", TrangThaiHoSo=10, ThoiDiemXuLy="20261005090000", NgayTra="20261005090000"),
    )
    question = await telegram.wait_for_message(CITIZEN, button="Rất hài lòng")
    await complete_survey(telegram, question, "2. Không hài lòng")
    alert = await telegram.wait_for_message(HEAD, contains="Ý kiến chưa hài lòng", timeout=15)

    # Next morning: score yesterday, then the digest (a photo with its caption).
    clock.set("2026-10-06T07:31:00+07:00")
    assert "2026-10-05" in await asyncio.to_thread(run_job, service, "daily-score")
    assert "2 digests queued" in await asyncio.to_thread(run_job, service, "digest")
    digest = await telegram.wait_for_message(HEAD, contains="Bản tin sáng", timeout=15)
    assert digest.data.get("photo"), "the digest carries the 30-day chart"
    assert "Hôm qua (05/10/2026): SIPAS 0.0% (n=1)" in digest.text

    # Nobody acknowledged the alert: two working days later it goes to the province's head.
    clock.set("2026-10-07T16:00:00+07:00")
    await asyncio.to_thread(run_job, service, "escalation")
    escalated = await telegram.wait_for_message(PARENT_HEAD, contains="chuyển lên cấp trên")
    assert "HS-D1" in escalated.text and f"#{alert.text.rsplit('#', 1)[1]}" in escalated.text

    # On the 1st, last month's results; the province's head sees its whole subtree.
    clock.set("2026-11-01T07:05:00+07:00")
    assert "2 monthly reports" in await asyncio.to_thread(run_job, service, "monthly-report")
    for chat in (HEAD, PARENT_HEAD):
        monthly = await telegram.wait_for_message(chat, contains="Kết quả tháng 10/2026")
        assert "SIPAS: 0.0% (số phiếu: 1)" in monthly.text
    assert telegram.violations == []
