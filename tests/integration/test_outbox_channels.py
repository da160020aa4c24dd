"""One dispatcher per channel: each claims only its channel's rows, under its own leader lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.base import SendOutcome, Sent
from bot.outbox.dispatcher import Dispatcher
from storage.chats import ChatStore
from storage.db import create_engine
from storage.leader import Leadership
from storage.outbox import ClaimedMessage, OutboxIntent, OutboxStore

NOW = datetime(2026, 10, 5, 3, 0)


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


async def queue_one_per_channel(engine: AsyncEngine) -> dict[str, int]:
    chats, outbox = ChatStore(engine), OutboxStore(engine)
    ids = {}
    for channel in ("telegram", "zalo_oa", "zalo_bot"):
        row = await chats.chat(channel=channel, external_id="42", language="vi", now=NOW)
        ids[channel] = row.id
        intent = OutboxIntent(chat_id=row.id, kind="text", payload={"key": "help", "params": {}})
        await outbox.enqueue([intent], now=NOW)
    return ids


async def test_a_claim_for_one_channel_takes_only_its_rows(engine: AsyncEngine) -> None:
    ids = await queue_one_per_channel(engine)
    store = OutboxStore(engine)
    mine = await store.claim(now=NOW, limit=10, lease_seconds=60, channel="zalo_oa")
    assert [(m.channel, m.chat_id) for m in mine] == [("zalo_oa", ids["zalo_oa"])]
    rest = await store.claim(now=NOW, limit=10, lease_seconds=60)
    assert sorted(m.channel for m in rest) == ["telegram", "zalo_bot"]


class Recorder:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent: list[ClaimedMessage] = []

    async def send(self, message: ClaimedMessage) -> SendOutcome:
        self.sent.append(message)
        return Sent("1")


async def test_each_channel_has_its_dispatcher_and_leader_lock(engine: AsyncEngine) -> None:
    await queue_one_per_channel(engine)
    senders = {name: Recorder(name) for name in ("telegram", "zalo_oa")}
    leaders = {name: Leadership(engine, f"outbox-dispatcher:{name}") for name in senders}
    dispatchers = {
        name: Dispatcher(
            OutboxStore(engine),
            {name: sender},
            channel=name,
            leadership=leaders[name],
            now=lambda: NOW,
        )
        for name, sender in senders.items()
    }
    try:
        # Different names: both replicas' dispatchers may lead at once.
        assert await leaders["telegram"].acquire() and await leaders["zalo_oa"].acquire()
        for dispatcher in dispatchers.values():
            await dispatcher.run_until_idle()
    finally:
        for leader in leaders.values():
            await leader.release()
    assert [m.channel for m in senders["telegram"].sent] == ["telegram"]
    assert [m.channel for m in senders["zalo_oa"].sent] == ["zalo_oa"]
    left = await OutboxStore(engine).claim(now=NOW, limit=10, lease_seconds=60)
    assert [m.channel for m in left] == ["zalo_bot"]  # nobody sends for a channel that is off
