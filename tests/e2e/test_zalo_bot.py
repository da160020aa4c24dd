"""The real `sipas serve` on a fake Zalo Bot Platform: linking by the receipt's code and a
survey answered by typing, by polling; the webhook set at start, wrapped and flat bodies, and a
wrong secret refused."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.e2e.conftest import post_event, read_case
from tests.e2e.service import ServiceProcess
from tests.e2e.zalo import *  # noqa: F403 (the fixtures)
from tests.e2e.zalo import (
    BOT_SECRET,
    BOT_WEBHOOK_PATH,
    DONE,
    QUESTIONS,
    Services,
    file_case,
    http_get,
    rows,
)
from tests.fakes.zalo_bot_api import ZALO_SECRET_HEADER, FakeZaloBot, ZaloBotSentMessage
from tests.support import dossier

pytestmark = pytest.mark.e2e
CITIZEN, OTHER, STRANGER = "6200000000000000011", "6200000000000000022", "6200000000000000033"
THANKS = "Cảm ơn Ông/Bà đã hoàn thành khảo sát"
LIKERT = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


async def say(
    fake: FakeZaloBot,
    user: str,
    words: str,
    contains: str | None = None,
    *,
    wrapped: bool | None = None,
) -> ZaloBotSentMessage:
    """The user types `words`; the next message the bot sends them (with `contains`)."""
    fake.user_sends_text(user, words, wrapped=wrapped)
    return await fake.wait_for_message(user, contains=contains)


async def test_polling_links_by_code_and_a_survey_is_answered_by_typing(
    bot_services: Services, zalo_bot: FakeZaloBot
) -> None:
    service = await bot_services.start()
    link_code = await file_case(service, "HS-B")
    linked = await say(zalo_bot, CITIZEN, f"mã {link_code}", "Đã liên kết")
    assert "Đã liên kết hồ sơ HS-B" in (linked.text or ""), linked

    await post_event(service, dossier("HS-B", TrangThaiHoSo=10, **DONE))
    question = await zalo_bot.wait_for_message(CITIZEN, contains=f"Câu 1/{QUESTIONS}")
    # No buttons on this platform: the levels are numbered lines of the text.
    shown = question.text or ""
    assert all(f"{n}. {label}" in shown for n, label in enumerate(LIKERT, 1)), shown
    replies = ["4", "hài lòng", "HL", "hai long", "5", "rat hai long", "k", "k", "co"]
    noted = ["Hài lòng"] * 4 + ["Rất hài lòng"] * 2 + ["Không", "Không", "Có"]
    for number, (words, label) in enumerate(zip(replies, noted, strict=True), 1):
        assert f"Câu {number}/{QUESTIONS}" in (question.text or ""), question
        question = await say(zalo_bot, CITIZEN, words, f"Đã ghi nhận câu {number}")
        assert f"Đã ghi nhận câu {number}: {label}" in (question.text or ""), question
    assert f"Câu 10/{QUESTIONS}" in (question.text or "")
    question = await say(zalo_bot, CITIZEN, "1, 3", "Đã ghi nhận câu 10")
    assert f"Câu 11/{QUESTIONS}" in (question.text or ""), question
    thanks = await say(zalo_bot, CITIZEN, "Cán bộ hướng dẫn tận tình.", THANKS)
    assert THANKS in (thanks.text or ""), thanks

    assert (await read_case(service, "HS-B"))["survey"] == {"status": "completed", "answers": 11}
    sends = [c for c in zalo_bot.calls if c.method == "sendMessage"]
    assert sends and all(c.ok for c in sends), [c for c in sends if not c.ok]
    assert not any(c.method == "setWebhook" for c in zalo_bot.calls)


async def push(service: ServiceProcess, body: bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[ZALO_SECRET_HEADER] = secret
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{service.url}{BOT_WEBHOOK_PATH}", data=body, headers=headers) as response,
    ):
        return response.status


async def test_webhook_mode_sets_the_webhook_takes_both_bodies_and_refuses_a_wrong_secret(
    bot_services: Services, zalo_bot: FakeZaloBot
) -> None:
    service = await bot_services.start(ZALO_BOT_MODE="webhook", ZALO_BOT_WEBHOOK_SECRET=BOT_SECRET)
    await zalo_bot.wait_until(lambda: zalo_bot.webhook_url)
    (set_webhook,) = [c for c in zalo_bot.calls if c.method == "setWebhook"]
    assert set_webhook.params == {
        "url": f"{service.url}{BOT_WEBHOOK_PATH}",
        "secret_token": BOT_SECRET,
    }
    assert set_webhook.ok

    wrapped_code = await file_case(service, "HS-W1")
    flat_code = await file_case(service, "HS-W2")
    stranger_code = await file_case(service, "HS-W3")
    wrapped = await say(zalo_bot, CITIZEN, f"mã {wrapped_code}", "Đã liên kết", wrapped=True)
    assert "Đã liên kết hồ sơ HS-W1" in (wrapped.text or ""), wrapped
    flat = await say(zalo_bot, OTHER, f"mã {flat_code}", "Đã liên kết", wrapped=False)
    assert "Đã liên kết hồ sơ HS-W2" in (flat.text or ""), flat
    assert [(d.wrapped, d.status) for d in zalo_bot.webhook_deliveries] == [
        (True, 200),
        (False, 200),
    ]

    database = str(service.env["SIPAS_DATABASE_URL"])
    stored = len(await rows(database, "SELECT id FROM channel_events"))
    update = {
        "event_name": "message.text.received",
        "message": {
            "message_id": "forged-0001",
            "date": 1791169200000,
            "chat": {"id": STRANGER, "chat_type": "PRIVATE"},
            "from": {"id": STRANGER, "display_name": "Kẻ lạ", "is_bot": False},
            "text": f"mã {stranger_code}",
        },
    }
    body = json.dumps({"ok": True, "result": update}, ensure_ascii=False).encode("utf-8")
    for secret in ("not-the-secret", None):
        assert await push(service, body, secret) == 401
    assert len(await rows(database, "SELECT id FROM channel_events")) == stored
    assert (await read_case(service, "HS-W3"))["survey"]["status"] == "none"
    status, _ = await http_get(service, "/healthz")
    assert status == 200
