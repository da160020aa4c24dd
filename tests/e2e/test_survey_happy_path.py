"""A citizen links their case from the receipt, gets the survey at status 10 and answers it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ServiceFactory, post_event, read_case, telegram_link
from tests.fakes.telegram_api import FakeTelegram
from tests.support import dossier

pytestmark = pytest.mark.e2e
CITIZEN = 7001


@pytest.mark.both_databases
async def test_intake_link_survey_completed(
    bot_service: ServiceFactory, telegram: FakeTelegram
) -> None:
    service = bot_service()
    payload = await telegram_link(service, dossier("HS-1", TrangThaiHoSo=2))
    telegram.user_sends_command(CITIZEN, "/start", payload)
    linked = await telegram.wait_for_message(CITIZEN, contains="HS-1")
    assert "Đã liên kết hồ sơ HS-1" in linked.text
    assert (await read_case(service, "HS-1"))["survey"] == {"status": "linked", "answers": 0}

    await post_event(
        service,
        dossier("HS-1", TrangThaiHoSo=10, ThoiDiemXuLy="20261005090000", NgayTra="20261005090000"),
    )
    question = await telegram.wait_for_message(CITIZEN, button="Rất hài lòng")
    first_id = question.message_id
    assert "HS-1" in question.text and "Câu 1/" in question.text
    labels = [label.split(". ", 1)[-1] for label in question.button_labels]
    assert labels == [
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ]
    assert (await read_case(service, "HS-1"))["survey"]["status"] == "invited"

    answered = 0
    while True:
        labels = question.button_labels
        if "5. Rất hài lòng" in labels:
            telegram.press_button(CITIZEN, question, "5. Rất hài lòng")
        elif "Có" in labels:
            telegram.press_button(CITIZEN, question, "Không")
        elif any("Xong" in label for label in labels):
            telegram.press_button(CITIZEN, question, labels[0])
            toggled = await telegram.wait_for_message(
                CITIZEN, lambda m, mid=question.message_id: m.message_id == mid
            )
            assert toggled.button_labels[0].startswith("✅")
            telegram.press_button(CITIZEN, toggled, labels[1])
        else:
            telegram.user_sends_text(CITIZEN, "Cán bộ hướng dẫn tận tình.")
        answered += 1
        reply = await telegram.wait_for_message(
            CITIZEN, lambda m, mid=question.message_id: m.message_id > mid
        )
        if "Cảm ơn Ông/Bà đã hoàn thành khảo sát" in reply.text:
            break
        question = reply
    case = await read_case(service, "HS-1")
    assert case["survey"] == {"status": "completed", "answers": answered}
    # The first question, edited in place (whether the status-2 notice went out before it
    # depends on when the survey loop read that event: before or after the link).
    (first,) = [m for m in telegram.messages_to(CITIZEN) if m.message_id == first_id]
    assert first.text.endswith("✔ Rất hài lòng") and first.button_labels == []
    assert telegram.violations == []
