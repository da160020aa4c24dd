"""The Zalo Bot adapter against the fake Bot Platform over real HTTP, with the real router.

Real services on a migrated SQLite or PostgreSQL database, the router and reply queue, the
outbox dispatcher sending through the channel, and `tests.fakes.zalo_bot_api.FakeZaloBot`
playing the platform: polling and webhook mode deliver a user's text and the reply arrives; a
wrong secret is refused and stores nothing; wrapped and flat bodies are both read; a
redelivered update is acted on once; a survey question is answered by typing "4", "hài lòng"
or "HL"; the platform's errors become the outbox's outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.channels.base import Blocked, Failed, Limits, MessageView, RetryLater, Sent
from bot.conversation.replies import ReplyQueue
from bot.conversation.router import Router
from bot.conversation.views import ViewRenderer
from bot.onestop.dossier import validate
from bot.onestop.intake import body_digest
from bot.outbox.channel_sender import ChannelSender
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.signals import Wake
from bot.services import Services, build_services
from bot.texts import chat_text
from bot.zalo_bot import webhook
from bot.zalo_bot.channel import SECRET_HEADER, WEBHOOK_PATH, ZaloBotChannel
from storage.channel_events import ChannelEventStore
from storage.db import create_engine
from storage.models import Answer
from storage.outbox import OutboxStore
from storage.pending_choices import PendingChoiceStore
from tests.channels.harness import START
from tests.channels.harness import TestClock as StillClock
from tests.conftest import make_settings
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.support import dossier

USER = "e4ea2cd5189df1c3a88c"
SECRET = "zalo-bot-secret-123"
CODE = "H12.22-261001-0001"


def no_survey() -> str:
    return chat_text("vi", "no_survey", buttons=False)


def free_port() -> socket.socket:
    """A socket bound on 127.0.0.1 (its port is known before the server starts)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def webhook_url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"


@contextlib.asynccontextmanager
async def serving(app: web.Application, sock: socket.socket) -> AsyncIterator[None]:
    """`app` listening on `sock`."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield
    finally:
        await runner.cleanup()


@dataclass
class Bot:
    """The product's side: services, the channel, and the URL its webhook listens on."""

    fake: FakeZaloBot
    channel: ZaloBotChannel
    services: Services
    store: ChannelEventStore
    webhook_url: str

    async def replies(self, count: int, *, timeout: float = 10.0) -> list[str]:
        """The next `count` messages sent to the user, in order."""
        return [(await self.fake.wait_for_message(USER, timeout)).text or "" for _ in range(count)]

    async def case_link_code(self, **fields: Any) -> str:
        payload = dossier(CODE, **fields)
        reply = await self.services.intake.accept(
            validate(payload),
            key=f"{CODE}:1",
            body_sha256=body_digest(repr(sorted(payload.items())).encode()),
            payload=payload,
        )
        found = reply.body["link_code"]
        assert isinstance(found, str)
        return found


@contextlib.asynccontextmanager
async def product(
    database_url: str, fake: FakeZaloBot, *, mode: str = "polling", **options: Any
) -> AsyncIterator[Bot]:
    """The services, router, dispatcher and Zalo Bot channel (and its webhook route)."""
    engine = create_engine(database_url)
    clock, wake = StillClock(START), Wake()
    settings = make_settings(database_url, quiet_hours="", scheduler_enabled=False)
    services = await build_services(settings, engine, clock=clock, wake=wake)
    await services.surveys.ensure_form()
    choices = PendingChoiceStore(engine)
    router = Router(
        surveys=services.surveys,
        linking=services.linking,
        alerts=services.loop,
        commands=services.commands,
        replies=ReplyQueue(choices=choices, now=clock.utcnow),
        choices=choices,
    )
    sock = free_port()
    url = webhook_url(sock)
    values: dict[str, Any] = {
        "token": fake.token,
        "base_url": options.pop("base_url", None) or fake.base_url,
        "mode": mode,
        "webhook_url": url,
        "webhook_secret": SECRET,
        "poll_timeout": 5.0,
        "first_backoff": 0.02,
        "max_backoff": 0.1,
        **options,
    }
    store = ChannelEventStore(engine)
    channel = ZaloBotChannel(
        router=router, store=store, limits=Limits(30, 3), now=clock.utcnow, **values
    )
    app = web.Application()
    webhook.install(app)
    app[webhook.CHANNEL] = channel
    views = ViewRenderer(services.surveys.forms, today=lambda: clock.local_now().date())
    sender = ChannelSender(channel, views, choices=choices, now=clock.utcnow)
    dispatcher = Dispatcher(
        OutboxStore(engine),
        {"zalo_bot": sender},
        channel="zalo_bot",
        per_chat_burst=50,  # the fake does not pace; a survey's replies need not wait here
        now=clock.utcnow,
    )
    wake.listen(dispatcher.wake)
    stop = asyncio.Event()
    try:
        async with serving(app, sock):
            dispatching = asyncio.create_task(dispatcher.run(stop))
            channel.start()
            try:
                yield Bot(fake, channel, services, store, url)
            finally:
                # As the service does: the dispatcher finishes its sends, then the channel.
                stop.set()
                await dispatching
                await channel.stop()
    finally:
        await services.close()
        await engine.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot(timeout_delay=0.3, webhook_retry_delay=0.02) as server:
        yield server


@pytest.fixture
async def polling(migrated_url: str, fake: FakeZaloBot) -> AsyncIterator[Bot]:
    async with product(migrated_url, fake) as bot:
        await asyncio.wait_for(bot.channel.receiving.wait(), 5)
        yield bot


@pytest.fixture
async def pushed(migrated_url: str, fake: FakeZaloBot) -> AsyncIterator[Bot]:
    async with product(migrated_url, fake, mode="webhook") as bot:
        await asyncio.wait_for(bot.channel.receiving.wait(), 5)
        yield bot


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status, await r.json()


# -- receiving -----------------------------------------------------------------------------


async def test_polling_delivers_a_text_and_the_reply_arrives(polling: Bot) -> None:
    fake = polling.fake
    methods = [call.method for call in fake.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"], methods
    fake.user_sends_text(USER, "Xin chào")
    assert await polling.replies(1) == [no_survey()]
    assert await polling.store.kinds("zalo_bot") == [("message.text.received", True)]


async def test_idle_polls_and_platform_errors_do_not_stop_polling(
    migrated_url: str, fake: FakeZaloBot
) -> None:
    async with product(migrated_url, fake, poll_timeout=0.05) as bot:
        await fake.wait_until(lambda: sum(c.status == 408 for c in fake.calls) >= 3)
        fake.fail_next("getUpdates", count=2, status=502)
        await fake.wait_until(lambda: sum(c.injected == "502" for c in fake.calls) == 2)
        fake.user_sends_text(USER, "Xin chào")
        assert await bot.replies(1) == [no_survey()]


async def test_webhook_mode_sets_the_webhook_with_the_url_and_secret(pushed: Bot) -> None:
    (call,) = [c for c in pushed.fake.calls if c.method == "setWebhook"]
    assert call.params == {"url": pushed.webhook_url, "secret_token": SECRET}
    assert pushed.webhook_url.endswith("/zalo/bot/webhook")
    assert not [c for c in pushed.fake.calls if c.method == "getUpdates"]


async def test_wrapped_and_flat_bodies_are_both_acted_on(pushed: Bot) -> None:
    pushed.fake.user_sends_text(USER, "Xin chào", wrapped=True)
    assert await pushed.replies(1) == [no_survey()]
    pushed.fake.user_sends_text(USER, "/help", wrapped=False)
    (help_text,) = await pushed.replies(1)
    assert help_text == chat_text("vi", "help", buttons=False)
    deliveries = await pushed.fake.wait_for_deliveries(2)
    assert [(d.wrapped, d.status) for d in deliveries] == [(True, 200), (False, 200)]


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(pushed: Bot) -> None:
    update = {"event_name": "message.text.received", "message": {"message_id": "x1"}}
    body = json.dumps(update).encode()
    for headers in ({SECRET_HEADER: "not-the-secret"}, {SECRET_HEADER: ""}, {}):
        status, answer = await post(pushed.webhook_url, body, headers)
        assert (status, answer) == (401, {"error": "wrong secret token"}), headers
    assert await pushed.store.kinds("zalo_bot") == []


async def test_a_redelivered_update_is_acted_on_once(pushed: Bot) -> None:
    fake = pushed.fake
    first = fake.user_sends_text(USER, "Xin chào")
    fake.redeliver(first, wrapped=False)
    fake.redeliver(first)
    deliveries = await fake.wait_for_deliveries(3)
    assert [d.status for d in deliveries] == [200, 200, 200]
    fake.user_sends_text(USER, "/help")
    # The user's updates are acted on in order: once /help is answered, the copies were too.
    assert await pushed.replies(2) == [no_survey(), chat_text("vi", "help", buttons=False)]
    await pushed.channel.inbox.drain()
    assert len(fake.messages_to(USER)) == 2
    assert await pushed.store.kinds("zalo_bot") == [("message.text.received", True)] * 2


async def test_a_polled_redelivery_is_acted_on_once(polling: Bot) -> None:
    first = polling.fake.user_sends_text(USER, "Xin chào")
    polling.fake.redeliver(first)
    polling.fake.user_sends_text(USER, "/help")
    assert await polling.replies(2) == [no_survey(), chat_text("vi", "help", buttons=False)]
    assert len(polling.fake.messages_to(USER)) == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"ok": true, "result": "nothing"}', 400),
        (b'{"event_name": "message.text.received", "message": {"text": NaN}}', 400),
        (b'{"event_name": "x", "message": {"text": "' + b"a" * 70_000 + b'"}}', 413),
    ],
)
async def test_bad_bodies_get_a_clear_4xx(pushed: Bot, body: bytes, status: int) -> None:
    answered, answer = await post(pushed.webhook_url, body, {SECRET_HEADER: SECRET})
    assert answered == status and "error" in answer
    assert await pushed.store.kinds("zalo_bot") == []


async def test_a_database_that_refuses_the_update_answers_503(fake: FakeZaloBot) -> None:
    dead = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    engine = create_engine(dead)
    channel = ZaloBotChannel(
        token=fake.token,
        base_url=fake.base_url,
        mode="webhook",
        webhook_url="http://127.0.0.1/zalo/bot/webhook",
        webhook_secret=SECRET,
        router=None,  # type: ignore[arg-type]  # never reached: nothing can be stored
        store=ChannelEventStore(engine),
        limits=Limits(30, 3),
        now=StillClock(START).utcnow,
    )
    app, sock = web.Application(), free_port()
    app.router.add_post(WEBHOOK_PATH, channel.webhook)
    update = b'{"event_name": "message.text.received", "message": {"message_id": "1"}}'
    try:
        async with serving(app, sock):
            status, _ = await post(webhook_url(sock), update, {SECRET_HEADER: SECRET})
        assert status == 503
    finally:
        await engine.dispose()


async def test_the_route_answers_404_while_the_channel_is_off() -> None:
    app, sock = web.Application(), free_port()
    webhook.install(app)
    async with serving(app, sock):
        status, answer = await post(webhook_url(sock), b"{}", {SECRET_HEADER: SECRET})
    assert status == 404 and "error" in answer


# -- the survey by typing ------------------------------------------------------------------


async def test_numbered_options_are_answered_by_typing(polling: Bot) -> None:
    code = await polling.case_link_code(TrangThaiHoSo=10)
    polling.fake.user_sends_text(USER, f"mã {code}")
    first = await polling.fake.wait_for_message(USER, contains="Câu 1/")
    assert "\n1. Rất không hài lòng" in (first.text or "")
    assert (
        "reply_markup"
        not in next(c for c in polling.fake.calls if c.method == "sendMessage").params
    )
    for number, typed in enumerate(("4", "hài lòng", "HL"), start=1):
        polling.fake.user_sends_text(USER, typed)
        asked = await polling.fake.wait_for_message(USER, contains=f"Câu {number + 1}/")
        assert asked.text
    async with polling.services.engine.connect() as conn:
        rows = (await conn.execute(select(Answer.value_int))).scalars().all()  # type: ignore[call-overload]
    assert rows == [4, 4, 4]


# -- sending -------------------------------------------------------------------------------


async def sent_to(bot: Bot, view: MessageView) -> object:
    bot.fake.add_user(USER).has_written = True
    return await bot.channel.send(USER, view)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"status": 429}, RetryLater),
        ({"status": 500}, RetryLater),
        ({"status": 503}, RetryLater),
        ({"status": "timeout", "delay": 0.05}, RetryLater),
        ({"status": 403}, Blocked),
        ({"status": 400}, Failed),
    ],
)
async def test_platform_errors_become_send_outcomes(
    polling: Bot, fault: dict[str, Any], expected: type
) -> None:
    polling.fake.fail_next("sendMessage", **fault)
    outcome = await sent_to(polling, MessageView("Xin chào"))
    assert isinstance(outcome, expected), outcome
    assert polling.fake.token not in repr(outcome)
    assert isinstance(await sent_to(polling, MessageView("Xin chào")), Sent)


async def test_a_user_who_never_wrote_is_blocked_for_us(polling: Bot) -> None:
    outcome = await polling.channel.send("someone-else", MessageView("Xin chào"))
    assert isinstance(outcome, Blocked)


async def test_a_long_text_is_cut_into_messages_within_the_limit(polling: Bot) -> None:
    text = "\n".join(f"Dòng {n}: " + "ư" * 90 for n in range(60))
    outcome = await sent_to(polling, MessageView(text))
    assert isinstance(outcome, Sent) and outcome.external_message_id
    parts = [m.text or "" for m in polling.fake.messages_to(USER)]
    assert len(parts) == 3 and all(len(part) <= 2000 for part in parts)
    assert "\n".join(parts) == text


async def test_a_picture_goes_by_url_where_it_can_be_hosted(
    migrated_url: str, fake: FakeZaloBot, caplog: pytest.LogCaptureFixture
) -> None:
    hosted: list[bytes] = []

    async def host(picture: bytes) -> str:
        hosted.append(picture)
        return "https://sipas.example/charts/1.png"

    async with product(migrated_url, fake, host_picture=host) as bot:
        outcome = await sent_to(bot, MessageView("Biểu đồ tháng", picture=b"\x89PNG"))
        assert isinstance(outcome, Sent)
        (photo,) = fake.messages_to(USER)
        assert (photo.method, photo.photo, photo.caption) == (
            "sendPhoto",
            "https://sipas.example/charts/1.png",
            "Biểu đồ tháng",
        )
    async with product(migrated_url, fake) as bot:
        with caplog.at_level(logging.INFO, logger="bot.zalo_bot.channel"):
            outcome = await sent_to(bot, MessageView("Biểu đồ tháng", picture=b"\x89PNG"))
        assert isinstance(outcome, Sent)
        assert [(m.method, m.text) for m in fake.messages_to(USER)][1:] == [
            ("sendMessage", "Biểu đồ tháng")
        ]
        assert "no place to host a picture" in caplog.text
    assert hosted == [b"\x89PNG"]


# -- lifecycle -----------------------------------------------------------------------------


async def test_a_refused_token_turns_the_channel_off(
    migrated_url: str, fake: FakeZaloBot, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "1459232241454765289:WRONG-KEY"
    with caplog.at_level(logging.ERROR, logger="bot.zalo_bot.channel"):
        async with product(migrated_url, fake, token=wrong) as bot:
            await asyncio.wait_for(bot.channel.checked.wait(), 5)
            assert bot.channel.state == "off" and not bot.channel.receiving.is_set()
            assert isinstance(await bot.channel.send(USER, MessageView("x")), RetryLater)
    assert "ZALO_BOT_TOKEN was refused" in caplog.text
    assert "WRONG-KEY" not in caplog.text


async def test_an_unreachable_platform_is_retried_until_it_answers(migrated_url: str) -> None:
    sock = free_port()
    port = sock.getsockname()[1]
    sock.close()
    late = FakeZaloBot()
    base = f"http://127.0.0.1:{port}/bot"
    async with product(migrated_url, late, base_url=base) as bot:
        await asyncio.sleep(0)  # the first getMe fails: nothing listens yet
        assert bot.channel.state == "starting"
        await late.start(port)
        try:
            await asyncio.wait_for(bot.channel.receiving.wait(), 5)
            assert bot.channel.state == "running"
            late.user_sends_text(USER, "Xin chào")
            assert (await late.wait_for_message(USER)).text == no_survey()
        finally:
            await late.stop()


async def test_webhook_mode_without_a_secret_sets_no_webhook(
    migrated_url: str, fake: FakeZaloBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.zalo_bot.channel"):
        async with product(migrated_url, fake, mode="webhook", webhook_secret="") as bot:
            await asyncio.wait_for(bot.channel.checked.wait(), 5)
            await bot.channel.stop()  # nothing else comes: the start-up ended with the log
    assert "needs ZALO_BOT_WEBHOOK_SECRET" in caplog.text
    assert [c.method for c in fake.calls] == ["getMe"]
