"""An admin shapes the questionnaire by chat, end to end (the real `sipas serve`, the fake Bot
API): edits a question in one line and another step by step, previews the draft exactly as a
citizen would see it (nothing recorded), publishes; a survey started before the publish finishes
on the old version, one started after gets the new texts."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from storage.db import create_engine
from tests.e2e.conftest import Serve, read_case
from tests.e2e.test_conversation import after, ask, invite, press, settled
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.support import bearer

pytestmark = pytest.mark.e2e

ADMIN, CITIZEN_BEFORE, CITIZEN_AFTER = 8801, 8811, 8812
LIKERT = ["1. Rất không hài lòng", "2. Không hài lòng", "3. Bình thường", "4. Hài lòng",
          "5. Rất hài lòng"]  # fmt: skip
OLD_F1 = "về việc tiếp cận dịch vụ"
OLD_F2 = "về thủ tục hành chính: niêm yết"
NEW_F1 = "Ông/Bà tìm thông tin và đến nơi làm thủ tục có dễ dàng không?"
NEW_F2 = "Hồ sơ, giấy tờ và lệ phí có đúng như niêm yết công khai không?"
F1_WHY = "chưa hài lòng về việc tiếp cận dịch vụ"


async def say(telegram: FakeTelegram, chat: int, text: str) -> SentMessage:
    """`ask`: the service paces its replies within the fake's flood limits (tests/e2e/conftest.py
    gives a chat a burst of `CHAT_BURST`), so no pause between messages is needed."""
    return await ask(telegram, chat, text)


async def tap(telegram: FakeTelegram, chat: int, message: SentMessage, label: str) -> Any:
    return await press(telegram, chat, message, label)


async def query(database_url: str, statement: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(statement))).all())
    finally:
        await engine.dispose()


async def finish(telegram: FakeTelegram, chat: int, question: SentMessage) -> list[str]:
    """Answer every question to the end (high scores, "no", two picks, skip); return the
    texts of the questions asked."""
    asked: list[str] = []
    current = question
    while "Cảm ơn" not in (current.text or "") and len(asked) < 20:
        asked.append(current.text or "")
        labels = current.button_labels
        if "5. Rất hài lòng" in labels:
            await press(telegram, chat, current, "5. Rất hài lòng")
        elif "Không" in labels:
            await press(telegram, chat, current, "Không")
        elif any(
            "Xong" in label for label in labels
        ):  # pick two: the second pick completes the answer
            await press(telegram, chat, current, labels[0])
            await telegram.wait_until(lambda c=current: "✅" in " ".join(c.button_labels), 5.0)
            await press(telegram, chat, current, current.button_labels[1])
        else:
            await press(telegram, chat, current, "Bỏ qua")
        current = await after(telegram, chat, current)
    return asked


async def test_admin_edits_previews_and_publishes(
    serve: Serve, telegram: FakeTelegram, database_url: str
) -> None:
    service = await serve(SIPAS_ADMIN_TELEGRAM_IDS=str(ADMIN))

    # A citizen is invited before anything changes: version 1.
    before_q1 = await invite(service, telegram, CITIZEN_BEFORE, "HS-QV1")
    assert OLD_F1 in before_q1.text and "Câu 1/11" in before_q1.text

    # The admin edits F1 in one line: the draft is created from the active version.
    edited = await say(telegram, ADMIN, f"/q_edit F1 {NEW_F1}")
    assert "Đã sửa câu F1" in edited.text and NEW_F1 in edited.text

    # A citizen may not publish (polite refusal, nothing changes).
    refusal = await say(telegram, CITIZEN_BEFORE, "/publish")
    assert refusal.text == "Xin lỗi, bạn không dùng được lệnh này."

    # F2 step by step: bad input is answered and asked again; the text is taken at the end.
    prompt = await say(telegram, ADMIN, "/q_edit")
    assert "Gửi mã câu hỏi" in prompt.text and "F2" in prompt.text
    again = await say(telegram, ADMIN, "F9")
    assert "không có câu hỏi mã “F9”" in again.text and "/cancel" in again.text
    current = await say(telegram, ADMIN, "F2")
    assert OLD_F2 in current.text and "nội dung tiếng Việt mới" in current.text
    done = await say(telegram, ADMIN, NEW_F2)
    assert "Đã sửa câu F2" in done.text

    listing = await say(telegram, ADMIN, "/cauhoi")
    assert "Bản nháp" in listing.text and "✏️ Sửa: F1, F2" in listing.text

    # Preview: the citizen's texts, labels and branching; nothing recorded.
    first = await say(telegram, ADMIN, "/preview")
    assert "XEM THỬ" in first.text and f"Câu 1/11: {NEW_F1}" in first.text
    assert first.button_labels == LIKERT
    notice = await tap(telegram, ADMIN, first, "2. Không hài lòng")
    assert "text" not in notice
    why = await after(telegram, ADMIN, first)
    assert F1_WHY in why.text and "Câu 2/12" in why.text and "Bỏ qua" in why.button_labels
    await settled(telegram, first)
    assert first.text.endswith("✔ Không hài lòng") and first.button_labels == []
    await tap(telegram, ADMIN, why, "Bỏ qua")
    second = await after(telegram, ADMIN, why)
    assert f"Câu 3/12: {NEW_F2}" in second.text
    third = await say(telegram, ADMIN, "4")  # typed, as a citizen may
    assert "Câu 4/12" in third.text and "thái độ" in third.text
    assert await query(database_url, "SELECT case_code FROM surveys") == [("HS-QV1",)]
    assert await query(database_url, "SELECT count(*) FROM answers") == [(0,)]
    await say(telegram, ADMIN, "/cancel")

    published = await say(telegram, ADMIN, "/publish")
    assert "Đã ban hành phiên bản số 2" in published.text

    # The survey started before the publish finishes on version 1.
    asked = await finish(telegram, CITIZEN_BEFORE, before_q1)
    assert len(asked) == 11 and OLD_F2 in asked[1]
    assert not any(NEW_F1 in q or NEW_F2 in q for q in asked)
    assert (await read_case(service, "HS-QV1"))["survey"]["status"] == "completed"

    # A survey started after it gets the new texts.
    after_q1 = await invite(service, telegram, CITIZEN_AFTER, "HS-QV2")
    assert NEW_F1 in after_q1.text and "Câu 1/11" in after_q1.text
    await press(telegram, CITIZEN_AFTER, after_q1, "5. Rất hài lòng")
    after_q2 = await after(telegram, CITIZEN_AFTER, after_q1)
    assert NEW_F2 in after_q2.text
    versions = await query(
        database_url, "SELECT case_code, questionnaire_version FROM surveys ORDER BY case_code"
    )
    assert versions == [("HS-QV1", 1), ("HS-QV2", 2)]

    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{service.url}/api/v1/questionnaire", headers=bearer()) as response,
    ):
        body = await response.json()
    assert body["version"] == 2 and body["questions"][0]["text_vi"] == NEW_F1

    # Nothing left to publish or preview; the audit log has the edits with before → after.
    assert "Chưa có bản nháp" in (await say(telegram, ADMIN, "/publish")).text
    audit = await say(telegram, ADMIN, "/audit")
    assert "questionnaire.publish version:2" in audit.text
    assert (
        "questionnaire.edit draft:F2" in audit.text and "questionnaire.edit draft:F1" in audit.text
    )
    assert telegram.violations == []
