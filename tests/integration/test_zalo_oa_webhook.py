"""`POST /zalo/webhook` over real HTTP, on real databases: Zalo OA events checked, stored once
and acted on by the real router and services; what the user's chat then shows.

The channel is a recording one with the OA's capabilities (the sending side is tested in
test_zalo_oa_send.py); events are built and signed with the fake OA's own code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.channels.base import Capabilities, MessageView
from bot.channels.inbox import EventInbox
from bot.onestop.links import KeyRing
from bot.sealing import Sealer
from bot.texts import LIKERT, chat_text
from bot.zalo_oa import CHANNEL, TAP_PREFIX
from bot.zalo_oa.events import PHONE_PURPOSE, OAEvent, chat_of
from bot.zalo_oa.inbox import OAEventHandler
from bot.zalo_oa.webhook import PICTURE_PATH, WEBHOOK, WEBHOOK_PATH, ZaloOAWebhook, install
from storage.channel_events import ChannelEventStore
from storage.channel_state import ActivityStore
from storage.db import create_engine
from tests.channels.harness import Conversation, conversation
from tests.channels.reference import RecordingChannel
from tests.fakes.zalo_oa_api import DEFAULT_APP_ID, DEFAULT_OA_ID, DEFAULT_OA_SECRET_KEY
from tests.fakes.zalo_oa_events import SIGNATURE_HEADER, EventFactory, compact, signature

OA_CAPABILITIES = Capabilities(
    max_buttons=5,
    edits_in_place=False,
    command_menus=False,
    text_limit=2000,
    asks_phone=True,
    press_notices=False,
)
USER = "2512523625412515"
OTHER = "7300000000000000042"
CODE = "H12.22-261001-0001"
LATER = datetime(2026, 10, 5, 3, 0)
SEALER = Sealer(KeyRing.single(b"zalo-oa-webhook-test"), PHONE_PURPOSE)
EVENTS = EventFactory(app_id=DEFAULT_APP_ID, oa_id=DEFAULT_OA_ID)


def signed(raw: bytes, timestamp: str) -> str:
    return signature(DEFAULT_APP_ID, raw, timestamp, DEFAULT_OA_SECRET_KEY)


def webhook_app(
    inbox: EventInbox,
    *,
    max_body: int = 64 * 1024,
    acts_on: Callable[[OAEvent], bool] = lambda event: True,
) -> tuple[web.Application, Any]:
    webhook = ZaloOAWebhook(
        inbox,
        app_id=DEFAULT_APP_ID,
        secret_key=DEFAULT_OA_SECRET_KEY,
        sealer=SEALER,
        oa_id=DEFAULT_OA_ID,
        max_body=max_body,
        acts_on=acts_on,
    )
    app = web.Application()
    install(app)
    app[WEBHOOK] = webhook
    return app, webhook


@dataclass
class OA:
    """The webhook in front of a real conversation."""

    talk: Conversation
    client: TestClient
    webhook: ZaloOAWebhook
    inbox: EventInbox
    store: ChannelEventStore
    activity: ActivityStore
    handler: OAEventHandler
    sent: int = 0

    def ms(self) -> int:
        return int(self.talk.clock.now().timestamp() * 1000)

    def next_id(self) -> str:
        self.sent += 1
        return f"msg{self.sent:04d}"

    async def post_raw(self, raw: bytes, mac: str | None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if mac is not None:
            headers[SIGNATURE_HEADER] = mac
        response = await self.client.post(WEBHOOK_PATH, data=raw, headers=headers)
        return response.status, await response.json()

    async def post(self, body: dict[str, Any]) -> tuple[int, Any]:
        """POST a correctly signed event and wait until everything it caused was sent."""
        raw = compact(body)
        answer = await self.post_raw(raw, signed(raw, str(body.get("timestamp", ""))))
        await self.settle()
        return answer

    async def say(self, user: str, words: str) -> tuple[int, Any]:
        return await self.post(EVENTS.user_text(user, words, self.next_id(), self.ms()))

    async def settle(self) -> None:
        assert await self.inbox.drain(5)
        await self.talk.settle()

    async def kinds(self) -> list[tuple[str, bool]]:
        return await self.store.kinds(CHANNEL)

    async def stored_bodies(self) -> str:
        async with self.talk.services.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT body FROM channel_events"))).all()
        return " ".join(str(row[0]) for row in rows)

    def views(self, user: str) -> list[MessageView]:
        return [shown.view for shown in self.talk.inbox(user)]

    def asked_phone(self, user: str) -> int:
        return sum(1 for view in self.views(user) if view.ask_phone)


@pytest.fixture
async def oa(migrated_url: str) -> AsyncIterator[OA]:
    channel = RecordingChannel(CHANNEL, OA_CAPABILITIES)
    async with conversation(migrated_url, channel) as talk:
        engine = talk.services.engine
        store = ChannelEventStore(engine)
        activity = ActivityStore(engine)
        handler = OAEventHandler(
            router=talk.router,
            channel=channel,
            activity=activity,
            sealer=SEALER,
            linking=talk.services.linking,
            now=talk.clock.utcnow,
            oa_id=DEFAULT_OA_ID,
        )
        inbox = EventInbox(store, CHANNEL, handler, now=talk.clock.utcnow)
        app, webhook = webhook_app(inbox, acts_on=handler.acts_on)
        async with TestClient(TestServer(app)) as client:
            yield OA(talk, client, webhook, inbox, store, activity, handler)
        await inbox.stop()


def said(key: str, **params: object) -> str:
    return chat_text("vi", key, **params)


# -- checks before anything is stored ------------------------------------------------------


async def test_a_forged_or_unsigned_event_is_refused_and_nothing_stored(oa: OA) -> None:
    body = EVENTS.user_text(USER, "/help", oa.next_id(), oa.ms())
    raw = compact(body)
    for mac in ("mac=" + "0" * 64, None, signed(raw, str(int(body["timestamp"]) + 1))):
        status, answer = await oa.post_raw(raw, mac)
        assert status == 401
        assert "error" in answer
    await oa.settle()
    assert await oa.kinds() == []
    assert oa.talk.inbox(USER) == []
    assert oa.webhook.forged == 3


async def test_a_body_over_the_cap_is_413_and_not_stored(oa: OA) -> None:
    body = EVENTS.user_text(USER, "x" * (65 * 1024), oa.next_id(), oa.ms())
    status, answer = await oa.post(body)
    assert status == 413
    assert "error" in answer
    assert await oa.kinds() == []
    assert oa.webhook.too_large == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"not json at all",
        b"[1, 2, 3]",
        b'{"timestamp": "1760000000000", "sender": {"id": "1"}}',
        b'{"event_name": "user_send_text"}',
        b'{"event_name": "user_send_text", "timestamp": "soon"}',
    ],
)
async def test_a_signed_body_that_is_no_event_is_400(oa: OA, raw: bytes) -> None:
    parsed: Any = None
    try:
        parsed = json.loads(raw)
    except ValueError:
        pass
    stamp = str(parsed.get("timestamp", "")) if isinstance(parsed, dict) else ""
    status, answer = await oa.post_raw(raw, signed(raw, stamp))
    assert status == 400
    assert "error" in answer
    assert await oa.kinds() == []


async def test_the_database_refusing_the_write_is_503(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/sipas.db")

    async def never(_event: object) -> None:
        raise AssertionError("nothing was stored, so nothing is acted on")

    inbox = EventInbox(ChannelEventStore(engine), CHANNEL, never, now=lambda: LATER)
    app, webhook = webhook_app(inbox)
    body = EVENTS.user_text(USER, "xin chào", "m1", 1_760_000_000_000)
    raw = compact(body)
    try:
        async with TestClient(TestServer(app)) as client:
            response = await client.post(
                WEBHOOK_PATH, data=raw, headers={SIGNATURE_HEADER: signed(raw, body["timestamp"])}
            )
            assert response.status == 503
            assert "error" in await response.json()
    finally:
        await engine.dispose()
    assert webhook.unavailable == 1


# -- stored once, acted on once ------------------------------------------------------------


async def test_a_valid_event_is_stored_acted_on_and_its_time_recorded(oa: OA) -> None:
    status, answer = await oa.say(USER, "/help")
    assert (status, answer) == (200, {"ok": True})
    assert await oa.kinds() == [("user_send_text", True)]
    assert said("help")[:40] in oa.talk.texts(USER)[0]
    activity = await oa.activity.activity(CHANNEL, USER)
    assert activity is not None and activity.followed
    assert activity.last_inbound_at == oa.talk.clock.utcnow()
    assert oa.webhook.accepted == {"user_send_text": 1}


async def test_a_redelivered_event_is_acted_on_once(oa: OA) -> None:
    body = EVENTS.user_text(USER, "/help", oa.next_id(), oa.ms())
    raw = compact(body)
    for _ in range(3):
        status, answer = await oa.post_raw(raw, signed(raw, body["timestamp"]))
        assert (status, answer) == (200, {"ok": True})
        await oa.settle()
    assert await oa.kinds() == [("user_send_text", True)]
    assert len(oa.talk.inbox(USER)) == 1
    assert oa.webhook.duplicates == {"user_send_text": 2}


async def test_echoes_receipts_and_unknown_kinds_are_stored_not_acted_on(oa: OA) -> None:
    now = oa.ms()
    echo = EVENTS.oa_echo("oa_send_text", USER, {"text": "Xin chào", "msg_id": "o1"}, now)
    bodies = [
        echo,
        EVENTS.received(USER, "o1", now),
        EVENTS.seen(USER, ["o1"], now),
        {**EVENTS.user_text(USER, "hi", "u1", now), "event_name": "user_reacted_message"},
        {"event_name": "something_new", "timestamp": str(now), "app_id": DEFAULT_APP_ID},
    ]
    for body in bodies:
        assert await oa.post(body) == (200, {"ok": True})
    assert [kind for kind, done in await oa.kinds() if done] == [
        "oa_send_text",
        "user_received_message",
        "user_seen_message",
        "user_reacted_message",
        "something_new",
    ]
    assert oa.talk.inbox(USER) == []
    assert await oa.activity.activity(CHANNEL, USER) is None  # no interaction
    # Nothing acts on them: each is stored settled and never claimed (no transaction more).
    async with oa.talk.services.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT kind, attempts FROM channel_events"))).all()
    assert sorted(attempts for _, attempts in rows) == [0] * len(bodies)
    # A redelivered one is still told apart, and a user's text is still acted on.
    assert await oa.post(bodies[1]) == (200, {"ok": True})
    assert oa.webhook.duplicates == {"user_received_message": 1}
    await oa.say(USER, "/help")
    await oa.settle()
    assert said("help")[:40] in oa.talk.texts(USER)[0]


# -- what the user sees --------------------------------------------------------------------


async def test_follow_welcomes_and_unfollow_stops_everything(oa: OA) -> None:
    assert await oa.post(EVENTS.follow(USER, oa.ms(), follow=True)) == (200, {"ok": True})
    welcome = oa.talk.latest(USER)
    assert welcome.text.startswith("Xin chào")
    assert welcome.view.ask_phone and welcome.view.ask_phone_note
    # The welcome asked already: typing afterwards does not ask again.
    await oa.say(USER, "xin chào")
    assert oa.talk.texts(USER)[-1] == said("no_survey")
    assert oa.asked_phone(USER) == 1

    oa.talk.clock.advance(minutes=5)
    await oa.post(EVENTS.follow(USER, oa.ms(), follow=False))
    row = await oa.talk.services.surveys.chat_row(chat_of(USER))
    assert row.blocked
    activity = await oa.activity.activity(CHANNEL, USER)
    assert activity is not None and not activity.followed
    assert oa.talk.texts(USER)[-1] == said("no_survey")  # nothing said to a user who left

    oa.talk.clock.advance(minutes=5)
    await oa.post(EVENTS.follow(USER, oa.ms(), follow=True))
    assert not (await oa.talk.services.surveys.chat_row(chat_of(USER))).blocked
    assert oa.talk.texts(USER)[-1].startswith("Xin chào")


async def test_an_unlinked_user_who_writes_is_asked_for_the_phone_once(oa: OA) -> None:
    await oa.say(USER, "xin chào")
    views = oa.views(USER)
    assert views[0].text == said("no_survey")
    assert views[-1].ask_phone and views[-1].ask_phone_note
    await oa.say(USER, "alo, có ai không")
    assert oa.talk.texts(USER)[-1] == said("no_survey")
    assert oa.asked_phone(USER) == 1
    assert oa.handler.phone_requests == 1
    activity = await oa.activity.activity(CHANNEL, USER)
    assert activity is not None and activity.asked_phone_at is not None


async def test_a_command_or_a_linked_user_is_not_asked_for_the_phone(oa: OA) -> None:
    await oa.say(OTHER, "/help")
    assert oa.asked_phone(OTHER) == 0
    code = await oa.talk.case_link_code(CODE, TrangThaiHoSo=2)
    await oa.say(USER, f"mã của tôi là {code.lower()}")
    assert any(CODE in line for line in oa.talk.texts(USER))
    await oa.say(USER, "cảm ơn")
    assert oa.asked_phone(USER) == 0


async def test_a_shared_phone_links_the_cases_filed_with_it_and_is_never_kept(oa: OA) -> None:
    await oa.talk.case(CODE, TrangThaiHoSo=2)
    await oa.talk.case("H12.22-261001-0002", TrangThaiHoSo=2)
    info = {
        "name": "Nguyễn Thị Hằng",
        "phone": "84912345678",
        "address": "12 Lê Lợi",
        "city": "Thừa Thiên Huế",
        "district": "Thành phố Huế",
        "ward": "Phường Phú Hội",
    }
    assert await oa.post(EVENTS.submit_info(USER, info, oa.ms())) == (200, {"ok": True})
    linked = oa.talk.texts(USER)[-1]
    assert CODE in linked and "H12.22-261001-0002" in linked
    assert await oa.kinds() == [("user_submit_info", True)]
    kept = await oa.stored_bodies()
    for secret in ("912345678", "Hằng", "Lê Lợi", "Phú Hội"):
        assert secret not in kept


async def test_a_tap_answers_the_survey_question(oa: OA) -> None:
    code = await oa.talk.case_link_code(CODE, TrangThaiHoSo=10)
    await oa.say(USER, code)
    question = oa.talk.latest(USER)
    assert "1/" in question.text
    satisfied = LIKERT["vi"][3]
    action = next(c.action for c in question.view.flat_choices() if satisfied in c.label)
    await oa.say(USER, TAP_PREFIX + action)
    texts = oa.talk.texts(USER)
    assert "2/" in texts[-1], texts
    assert oa.asked_phone(USER) == 0


async def test_the_phone_request_picture_is_a_png(oa: OA) -> None:
    response = await oa.client.get(PICTURE_PATH)
    assert response.status == 200
    assert response.content_type == "image/png"
    assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_webhook_is_404_while_the_oa_is_off() -> None:
    app = web.Application()
    install(app)
    async with TestClient(TestServer(app)) as client:
        response = await client.post(WEBHOOK_PATH, data=b"{}")
        assert response.status == 404
        assert "error" in await response.json()
