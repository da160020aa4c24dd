"""Store first, act after: `bot.channels.inbox.EventInbox` on `storage.channel_events`.

On real SQLite and PostgreSQL: an event is stored once and acted on once; one user's events
are acted on in arrival order while another user's go in parallel; a failed attempt returns
the event to the pool and the sweep acts on it, as it does on anything a crash left behind; a
write slowed by another connection's lock is answered "pending" by the deadline and still
acted on once the lock goes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.inbox import EventInbox
from storage.channel_events import MAX_ATTEMPTS, ChannelEventStore, StoredEvent
from storage.db import create_engine
from storage.errors import StorageError, StorageUnavailable

CHANNEL = "zalo_bot"
START = datetime(2026, 10, 5, 3, 0)


class StepClock:
    """Naive UTC that moves only when told."""

    def __init__(self) -> None:
        self.moment = START

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


class Handler:
    """Records what it acted on; fails the first `failures` attempts; may be held per key."""

    def __init__(self, failures: int = 0) -> None:
        self.seen: list[str] = []
        self.finished: list[str] = []
        self.failures = failures
        self.gates: dict[str, asyncio.Event] = {}
        self.changed = asyncio.Event()

    async def __call__(self, event: StoredEvent) -> None:
        key = str(event.body["n"])
        self.seen.append(key)
        self._notify()
        gate = self.gates.get(key)
        if gate is not None:
            await gate.wait()
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("the router failed")
        self.finished.append(key)
        self._notify()

    def _notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def until(self, condition: object, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not callable(condition) or not condition():
                await self.changed.wait()


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> ChannelEventStore:
    return ChannelEventStore(engine)


def inbox_for(
    store: ChannelEventStore, handler: Handler, clock: StepClock, **options: float
) -> EventInbox:
    values: dict[str, float] = {"ack_deadline": 2.0, "sweep_interval": 5.0, **options}
    return EventInbox(store, CHANNEL, handler, now=clock, **values)  # type: ignore[arg-type]


async def accept(inbox: EventInbox, n: int, *, user: str = "u1", key: str | None = None) -> str:
    return await inbox.accept(
        dedupe_key=key or f"m{n}", kind="message.text.received", user=user, body={"n": n}
    )


async def test_an_event_is_stored_once_and_acted_on_once(store: ChannelEventStore) -> None:
    handler, clock = Handler(), StepClock()
    inbox = inbox_for(store, handler, clock)
    assert await accept(inbox, 1) == "new"
    assert await inbox.drain()
    assert await accept(inbox, 1) == "duplicate", "a redelivery with the same key"
    assert await inbox.drain()
    assert handler.finished == ["1"]
    assert await store.kinds(CHANNEL) == [("message.text.received", True)]
    assert await store.pending_count(CHANNEL) == 0
    assert (inbox.counts.new, inbox.counts.duplicate, inbox.counts.handled) == (1, 1, 1)


async def test_a_burst_shares_its_writes_and_a_redelivery_inside_it_is_acted_on_once(
    store: ChannelEventStore, engine: AsyncEngine
) -> None:
    """Events that arrive together are stored in shared transactions (group commit); a
    redelivery that arrives alongside its original is still one event, acted on once."""
    handler, clock = Handler(), StepClock()
    inbox = inbox_for(store, handler, clock)
    commits = 0

    def count(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    try:
        answers = await asyncio.gather(
            *(accept(inbox, n, user=f"u{n % 7}") for n in range(60)),
            accept(inbox, 5, user="u5"),  # the platform sent event 5 twice at once
        )
        stored_with = commits
        assert await inbox.drain()
    finally:
        event.remove(engine.sync_engine, "commit", count)
    assert sorted(answers).count("new") == 60 and answers.count("duplicate") == 1
    assert stored_with < 30, f"60 stores took {stored_with} commits"
    assert sorted(handler.finished, key=int) == [str(n) for n in range(60)]
    assert await store.pending_count(CHANNEL) == 0
    for user in range(7):  # each user's events in the order they arrived
        mine = [int(n) for n in handler.finished if int(n) % 7 == user]
        assert mine == sorted(mine)


async def test_one_users_events_go_in_order_and_others_in_parallel(
    store: ChannelEventStore,
) -> None:
    handler, clock = Handler(), StepClock()
    inbox = inbox_for(store, handler, clock)
    handler.gates["1"] = asyncio.Event()
    await accept(inbox, 1, user="a")
    await handler.until(lambda: "1" in handler.seen)
    await accept(inbox, 2, user="a")
    await accept(inbox, 3, user="b")
    await handler.until(lambda: "3" in handler.finished)
    assert handler.seen == ["1", "3"], "a's second event waits behind its first; b's does not"
    handler.gates["1"].set()
    assert await inbox.drain()
    assert handler.finished == ["3", "1", "2"]


async def test_a_failed_attempt_returns_to_the_pool_and_the_sweep_acts_on_it(
    store: ChannelEventStore,
) -> None:
    handler, clock = Handler(failures=1), StepClock()
    inbox = inbox_for(store, handler, clock)
    await accept(inbox, 1)
    assert await inbox.drain()
    assert handler.finished == [] and inbox.counts.failed == 1
    assert await store.kinds(CHANNEL) == [("message.text.received", False)]
    assert await inbox.sweep() == 0, "the sweep leaves events younger than its interval"
    clock.advance(6)
    assert await inbox.sweep() == 1
    assert handler.finished == ["1"]
    assert await store.pending_count(CHANNEL) == 0
    assert await inbox.sweep() == 0, "acted on once"


async def test_an_event_failing_every_attempt_is_set_aside(store: ChannelEventStore) -> None:
    handler, clock = Handler(failures=100), StepClock()
    inbox = inbox_for(store, handler, clock)
    await accept(inbox, 1)
    assert await inbox.drain()
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(6)
        await inbox.sweep()
    assert handler.seen == ["1"] * MAX_ATTEMPTS
    assert await store.pending_count(CHANNEL) == 1, "kept with its error, not retried"


async def test_the_sweep_picks_up_what_a_crash_left_behind(store: ChannelEventStore) -> None:
    # Stored but never queued (the process died after the write), and claimed by a worker
    # that died before settling it: both are acted on, oldest first.
    await store.store(CHANNEL, dedupe_key="m1", kind="k", body={"n": 1}, now=START)
    await store.store(CHANNEL, dedupe_key="m2", kind="k", body={"n": 2}, now=START)
    claimed = await store.claim(CHANNEL, now=START, ids=None, lease=timedelta(seconds=60))
    assert [event.body["n"] for event in claimed] == [1, 2]
    await store.store(CHANNEL, dedupe_key="m3", kind="k", body={"n": 3}, now=START)
    handler, clock = Handler(), StepClock()
    inbox = inbox_for(store, handler, clock)
    clock.advance(10)
    assert await inbox.sweep() == 1, "the claimed two wait for their lease to lapse"
    assert handler.finished == ["3"]
    clock.advance(60)
    assert await inbox.sweep() == 2
    assert handler.finished == ["3", "1", "2"]
    assert await store.pending_count(CHANNEL) == 0


async def test_the_running_sweep_finds_leftovers_by_itself(store: ChannelEventStore) -> None:
    await store.store(CHANNEL, dedupe_key="m1", kind="k", body={"n": 1}, now=START)
    handler, clock = Handler(), StepClock()
    clock.advance(1)
    inbox = inbox_for(store, handler, clock, sweep_interval=0.05)
    inbox.start()
    try:
        await handler.until(lambda: handler.finished == ["1"])
    finally:
        await inbox.stop()


async def test_a_stop_with_a_backlog_finishes_what_runs_and_leaves_the_rest_stored(
    store: ChannelEventStore,
) -> None:
    """SIGTERM during a burst: the events being acted on are finished, the others (claimed
    or only queued) are given back untouched, and the next process acts on each once."""
    handler, clock = Handler(), StepClock()
    inbox = inbox_for(store, handler, clock)
    inbox.start()
    handler.gates["0"] = asyncio.Event()
    handler.gates["1"] = asyncio.Event()
    for n in range(40):  # 4 users, so both workers are busy and the rest queue behind them
        await accept(inbox, n, user=f"u{n % 4}")
    await handler.until(lambda: {"0", "1"} <= set(handler.seen))
    stopping = asyncio.create_task(inbox.stop())
    await asyncio.sleep(0)
    assert not stopping.done(), "the events under way are finished first"
    handler.gates["0"].set()
    handler.gates["1"].set()
    await asyncio.wait_for(stopping, 5)
    assert sorted(handler.finished) == ["0", "1"], "nothing new was started once stopping"
    assert await store.pending_count(CHANNEL) == 38

    later, clock2 = Handler(), StepClock()
    clock2.advance(10)
    restarted = inbox_for(store, later, clock2)
    assert await restarted.sweep() == 38, "every claim was given back: none waits for a lease"
    assert sorted(later.finished, key=int) == [str(n) for n in range(2, 40)]
    assert later.seen == later.finished, "each acted on once, no attempt lost"
    for user in range(4):  # still in arrival order per user
        mine = [int(n) for n in later.finished if int(n) % 4 == user]
        assert mine == sorted(mine)
    assert await store.pending_count(CHANNEL) == 0


async def test_a_database_that_refuses_the_write_raises() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    try:
        inbox = inbox_for(ChannelEventStore(engine), Handler(), StepClock())
        with pytest.raises(StorageError):
            await accept(inbox, 1)
    finally:
        await engine.dispose()


class WriteLock:
    """Another connection holding the table's write lock (a real slow path for the store)."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self._sqlite: sqlite3.Connection | None = None
        self._pg: asyncpg.Connection | None = None

    async def take(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            assert self.url.database is not None
            self._sqlite = sqlite3.connect(self.url.database, isolation_level=None)
            self._sqlite.execute("BEGIN IMMEDIATE")
            return
        dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pg = await asyncpg.connect(dsn)
        await self._pg.execute("BEGIN")
        await self._pg.execute("LOCK TABLE channel_events IN SHARE ROW EXCLUSIVE MODE")

    async def release(self) -> None:
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            await self._pg.execute("ROLLBACK")
            await self._pg.close()
            self._pg = None


async def test_a_slow_write_is_answered_pending_by_the_deadline_and_still_acted_on(
    store: ChannelEventStore, migrated_url: str
) -> None:
    handler, clock = Handler(), StepClock()
    inbox = inbox_for(store, handler, clock, ack_deadline=0.3)
    await accept(inbox, 0, key="warm-up")  # the pool holds a connection already
    assert await inbox.drain()
    lock = WriteLock(migrated_url)
    await lock.take()
    try:
        began = time.monotonic()
        assert await accept(inbox, 1) == "pending"
        assert time.monotonic() - began < 1.5, "answered by the deadline"
        assert handler.seen == ["0"], "nothing acted on while the write waits"
    finally:
        await lock.release()
    assert await inbox.drain()
    assert handler.finished == ["0", "1"]
    assert inbox.counts.late_store == 1
    assert await store.pending_count(CHANNEL) == 0
    assert await accept(inbox, 1) == "duplicate", "the late write stored it"


class RefusingOnce(ChannelEventStore):
    """The real store, whose database refuses the first write once `opened` is set (a
    connection lost or a pool drained at the worst moment): the write waits for `opened`."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.opened = asyncio.Event()
        self.refusals = 1

    async def store(self, channel: str, **fields: object) -> int | None:  # type: ignore[override]
        await self.opened.wait()
        if self.refusals:
            self.refusals -= 1
            raise StorageUnavailable("connection pool exhausted")
        return await super().store(channel, **fields)  # type: ignore[arg-type]


async def test_a_write_refused_after_the_answer_is_tried_again_and_acted_on(
    engine: AsyncEngine,
) -> None:
    store, handler, clock = RefusingOnce(engine), Handler(), StepClock()
    inbox = inbox_for(store, handler, clock, ack_deadline=0.1)
    assert await accept(inbox, 1) == "pending", "answered by the deadline"
    store.opened.set()
    assert await inbox.drain()
    assert handler.finished == ["1"], "the platform will not send it again: nothing is lost"
    assert (inbox.counts.late_store, inbox.counts.lost) == (1, 0)
    assert await store.pending_count(CHANNEL) == 0
