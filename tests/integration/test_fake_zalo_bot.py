"""The fake Zalo Bot Platform server, driven over plain HTTP as the product's adapter will.

These tests pin down that `tests.fakes.zalo_bot_api.FakeZaloBot` speaks the platform's wire
format (one update per getUpdates call, 408 when idle, the webhook secret header, wrapped and
flat bodies) and enforces its limits, so tests of the Zalo Bot adapter can trust it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.zalo_bot_api import (
    MAX_TEXT,
    QUOTA_EXCEEDED,
    TEXT_EVENT,
    ZALO_SECRET_HEADER,
    FakeZaloBot,
)

USER = "e4ea2cd5189df1c3a88c"
SECRET = "webhook-secret-123"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloBot]:
    server = FakeZaloBot(timeout_delay=0.2)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, fake: FakeZaloBot, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    async with http.post(fake.api_url(method), json=params) as response:
        return response.status, await response.json()


class WebhookReceiver:
    """A stand-in for the product's `POST /zalo/bot/webhook`, recording what arrives."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[str | None, Any]] = []
        self.arrived = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.headers.get(ZALO_SECRET_HEADER), await request.json()))
        self.arrived.set()
        return web.Response(status=self.status, text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/zalo/bot/webhook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/zalo/bot/webhook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hook = WebhookReceiver()
    await hook.start()
    yield hook
    await hook.stop()


async def test_get_me_and_a_wrong_token(fake: FakeZaloBot, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, fake, "getMe")
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["id"] == fake.bot_id
    assert set(body["result"]) == {"id", "account_name", "account_type", "can_join_groups"}

    async with http.post(f"{fake.base_url}1:wrong/getMe", json={}) as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_get_updates_returns_one_update_per_call_in_the_documented_shape(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    first = fake.user_sends_text(USER, "Xin chào", display_name="Trần Thị B")
    fake.user_sends_text(USER, "mã ABCD-EFGH")

    status, body = await call(http, fake, "getUpdates", timeout=1)
    assert status == 200
    update = body["result"]
    assert update == first
    assert update["event_name"] == TEXT_EVENT
    message = update["message"]
    assert set(message) == {"message_id", "date", "chat", "from", "text"}
    assert message["chat"] == {"id": USER, "chat_type": "PRIVATE"}
    assert message["from"] == {"id": USER, "display_name": "Trần Thị B", "is_bot": False}
    assert message["text"] == "Xin chào"
    assert message["date"] > 1_700_000_000_000  # milliseconds

    _, second = await call(http, fake, "getUpdates", timeout=1)
    assert second["result"]["message"]["text"] == "mã ABCD-EFGH"
    assert fake.pending_updates == []


async def test_an_idle_long_poll_answers_408_after_its_timeout(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body = await call(http, fake, "getUpdates", timeout="0.2")
    assert loop.time() - started >= 0.2
    assert status == 408
    assert body == {"ok": False, "error_code": 408, "description": "Request timeout"}


async def test_a_long_poll_wakes_as_soon_as_the_user_writes(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    poll = asyncio.create_task(call(http, fake, "getUpdates", timeout=5))
    await fake.wait_until(lambda: fake.calls)
    fake.user_sends_text(USER, "4")
    status, body = await asyncio.wait_for(poll, 2)
    assert status == 200
    assert body["result"]["message"]["text"] == "4"


async def test_stickers_and_images_have_their_own_event_names(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    fake.user_sends_sticker(USER)
    fake.user_sends_image(USER, caption="ảnh biên nhận")
    _, sticker = await call(http, fake, "getUpdates", timeout=1)
    _, image = await call(http, fake, "getUpdates", timeout=1)
    assert sticker["result"]["event_name"] == "message.sticker.received"
    assert image["result"]["event_name"] == "message.image.received"
    assert image["result"]["message"]["caption"] == "ảnh biên nhận"


async def test_send_message_records_the_text_and_wait_for_message_finds_it(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    fake.user_sends_text(USER, "chào")
    status, body = await call(
        http,
        fake,
        "sendMessage",
        chat_id=USER,
        text="Câu 1/11: Ông/bà hài lòng?",
        parse_mode="html",
    )
    assert status == 200
    assert set(body["result"]) == {"message_id", "date"}
    found = await fake.wait_for_message(USER, contains="hài lòng", timeout=1)
    assert found.message_id == body["result"]["message_id"]
    assert found.parse_mode == "html"
    with pytest.raises(TimeoutError):
        await fake.wait_for_message(USER, contains="hài lòng", timeout=0.05)


async def test_the_bot_cannot_write_to_a_user_who_never_wrote(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    fake.add_user(USER)
    status, body = await call(http, fake, "sendMessage", chat_id=USER, text="Xin chào")
    assert status == 403
    assert body["ok"] is False
    assert body["error_code"] == 403
    assert fake.sent == []

    fake.user_sends_text(USER, "chào")
    status, _ = await call(http, fake, "sendMessage", chat_id=USER, text="Xin chào")
    assert status == 200


async def test_text_limits_and_no_buttons(fake: FakeZaloBot, http: aiohttp.ClientSession) -> None:
    fake.user_sends_text(USER, "chào")
    status, _ = await call(http, fake, "sendMessage", chat_id=USER, text="ô" * MAX_TEXT)
    assert status == 200
    for text in ("", "ô" * (MAX_TEXT + 1)):
        status, body = await call(http, fake, "sendMessage", chat_id=USER, text=text)
        assert status == 400, text[:10]
        assert body["error_code"] == 400
    status, body = await call(
        http, fake, "sendPhoto", chat_id=USER, photo="https://x/y.png", caption="c" * (MAX_TEXT + 1)
    )
    assert status == 400
    status, body = await call(
        http, fake, "sendMessage", chat_id=USER, text="Chọn", parse_mode="MarkdownV2"
    )
    assert status == 400
    keyboard = {"inline_keyboard": [[{"text": "Có", "callback_data": "y"}]]}
    status, body = await call(
        http, fake, "sendMessage", chat_id=USER, text="Chọn", reply_markup=keyboard
    )
    assert status == 400
    assert "reply_markup" in body["description"]
    assert len(fake.sent) == 1


async def test_photo_sticker_and_chat_action(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    fake.user_sends_text(USER, "chào")
    status, _ = await call(
        http,
        fake,
        "sendPhoto",
        chat_id=USER,
        photo="https://example.org/chart.png",
        caption="Báo cáo",
    )
    assert status == 200
    status, _ = await call(http, fake, "sendChatAction", chat_id=USER, action="typing")
    assert status == 200
    status, _ = await call(http, fake, "sendChatAction", chat_id=USER, action="dancing")
    assert status == 400
    status, _ = await call(http, fake, "sendPhoto", chat_id=USER, photo="not a url")
    assert status == 400
    assert [m.method for m in fake.messages_to(USER)] == ["sendPhoto"]
    assert fake.messages_to(USER)[0].photo == "https://example.org/chart.png"
    assert fake.chat_actions == [(USER, "typing")]


async def test_quota_5xx_and_timeout_injection(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    fake.user_sends_text(USER, "chào")
    fake.fail_next("sendMessage", 1, 429)
    fake.fail_next("sendMessage", 1, 502)
    status, body = await call(http, fake, "sendMessage", chat_id=USER, text="a")
    assert (status, body) == (
        429,
        {"ok": False, "error_code": 429, "description": QUOTA_EXCEEDED},
    )
    status, body = await call(http, fake, "sendMessage", chat_id=USER, text="a")
    assert status == 502
    assert fake.sent == []

    fake.fail_next("sendMessage", 1, "timeout", delay=0.1, execute=True)
    status, _ = await call(http, fake, "sendMessage", chat_id=USER, text="sent but lost")
    assert status == 504
    assert [m.text for m in fake.sent] == ["sent but lost"]
    status, _ = await call(http, fake, "sendMessage", chat_id=USER, text="b")
    assert status == 200
    assert [c.injected for c in fake.calls] == ["429", "502", "timeout", None]


async def test_set_webhook_checks_the_secret_and_get_webhook_info_reports_it(
    fake: FakeZaloBot, http: aiohttp.ClientSession
) -> None:
    for secret in ("short", "x" * 257, None):
        status, body = await call(http, fake, "setWebhook", url="https://h/w", secret_token=secret)
        assert status == 400, secret
    status, body = await call(http, fake, "setWebhook", url="https://h/w", secret_token="x" * 8)
    assert status == 200
    assert body["result"]["url"] == "https://h/w"
    _, info = await call(http, fake, "getWebhookInfo")
    assert info["result"]["url"] == "https://h/w"
    status, _ = await call(http, fake, "getUpdates", timeout=0)
    assert status == 409
    _, deleted = await call(http, fake, "deleteWebhook")
    assert deleted["result"]["url"] == ""
    _, info = await call(http, fake, "getWebhookInfo")
    assert info["result"]["url"] == ""


async def test_webhook_push_carries_the_secret_wrapped_or_flat(
    fake: FakeZaloBot, http: aiohttp.ClientSession, receiver: WebhookReceiver
) -> None:
    status, _ = await call(http, fake, "setWebhook", url=receiver.url, secret_token=SECRET)
    assert status == 200
    wrapped = fake.user_sends_text(USER, "1")
    await fake.wait_for_deliveries(1, timeout=2)
    flat = fake.user_sends_text(USER, "2", wrapped=False)
    await fake.wait_for_deliveries(2, timeout=2)

    assert receiver.requests == [
        (SECRET, {"ok": True, "result": wrapped}),
        (SECRET, flat),
    ]
    assert [d.status for d in fake.webhook_deliveries] == [200, 200]
    assert fake.pending_updates == []


async def test_redelivery_sends_the_same_event_again(
    fake: FakeZaloBot, http: aiohttp.ClientSession, receiver: WebhookReceiver
) -> None:
    await call(http, fake, "setWebhook", url=receiver.url, secret_token=SECRET)
    update = fake.user_sends_text(USER, "hài lòng", wrapped=False)
    await fake.wait_for_deliveries(1, timeout=2)
    fake.redeliver(update, wrapped=False)
    await fake.wait_for_deliveries(2, timeout=2)
    assert receiver.requests[0] == receiver.requests[1] == (SECRET, update)

    await call(http, fake, "deleteWebhook")
    fake.redeliver(update)
    _, body = await call(http, fake, "getUpdates", timeout=1)
    assert body["result"]["message"]["message_id"] == update["message"]["message_id"]


async def test_a_failing_webhook_is_retried(fake: FakeZaloBot, http: aiohttp.ClientSession) -> None:
    hook = WebhookReceiver(status=500)
    await hook.start()
    try:
        await call(http, fake, "setWebhook", url=hook.url, secret_token=SECRET)
        fake.user_sends_text(USER, "3")
        deliveries = await fake.wait_for_deliveries(1 + fake.webhook_retries, timeout=2)
        assert [d.status for d in deliveries] == [500] * (1 + fake.webhook_retries)
        assert len(hook.requests) == 1 + fake.webhook_retries
    finally:
        await hook.stop()


async def test_updates_queued_before_set_webhook_are_pushed_to_it(
    fake: FakeZaloBot, http: aiohttp.ClientSession, receiver: WebhookReceiver
) -> None:
    update = fake.user_sends_text(USER, "đã gửi trước")
    await call(http, fake, "setWebhook", url=receiver.url, secret_token=SECRET)
    await fake.wait_for_deliveries(1, timeout=2)
    assert receiver.requests == [(SECRET, {"ok": True, "result": update})]
