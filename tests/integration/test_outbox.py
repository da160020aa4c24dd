"""The outbox on real SQLite and PostgreSQL: enqueue, claim, outcomes, leadership, a full run."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.outbox import Dispatcher, Sent
from storage.db import create_engine, is_sqlite
from storage.errors import StorageError
from storage.leader import Leadership
from storage.models import Agency, Case, Chat, OutboxAttempt, OutboxMessage, Procedure, Survey
from storage.outbox import ClaimedMessage, OutboxIntent, OutboxStore, enqueue

T0 = datetime(2026, 11, 2, 8, 0)
LEASE = 60.0

chats_t = Chat.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
attempts_t = OutboxAttempt.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> OutboxStore:
    return OutboxStore(engine)


async def add_chats(engine: AsyncEngine, n: int, *, blocked: bool = False) -> list[int]:
    """Insert `n` Telegram chats and return their ids."""
    rows = [
        {
            "channel": "telegram",
            "external_id": f"{time.perf_counter_ns()}-{i}",
            "language": "vi" if i % 2 == 0 else "en",
            "blocked_at": T0 if blocked else None,
        }
        for i in range(n)
    ]
    async with engine.begin() as conn:
        result = await conn.execute(insert(chats_t).returning(chats_t.c.id), rows)
        return sorted(result.scalars().all())


async def add_survey(engine: AsyncEngine, chat_id: int) -> int:
    """The minimal agency, procedure and case under one survey; return the survey id."""
    async with engine.begin() as conn:
        await conn.execute(insert(Agency.__table__).values(code="A1", name="Agency"))  # type: ignore[attr-defined]
        await conn.execute(insert(Procedure.__table__).values(code="P1", name="Procedure"))  # type: ignore[attr-defined]
        await conn.execute(
            insert(Case.__table__).values(  # type: ignore[attr-defined]
                code="C1",
                agency_code="A1",
                procedure_code="P1",
                status=10,
                received_at=T0,
                state_at=T0,
            )
        )
        result = await conn.execute(
            insert(surveys_t)
            .values(
                case_code="C1",
                chat_id=chat_id,
                questionnaire_version=1,
                status="active",
                expires_at=T0 + timedelta(days=7),
            )
            .returning(surveys_t.c.id)
        )
        return int(result.scalar_one())


def intent(chat_id: int, n: int = 0, **kw: Any) -> OutboxIntent:
    return OutboxIntent(chat_id=chat_id, kind="notice", payload={"n": n, "text": "Xin chào"}, **kw)


async def outbox_rows(engine: AsyncEngine) -> dict[int, dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(select(outbox_t).order_by(outbox_t.c.id))
        return {row.id: dict(row._mapping) for row in result}


async def attempts_of(engine: AsyncEngine, outbox_id: int) -> list[tuple[str, str | None]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(attempts_t.c.outcome, attempts_t.c.detail)
            .where(attempts_t.c.outbox_id == outbox_id)
            .order_by(attempts_t.c.id)
        )
        return [(row.outcome, row.detail) for row in result]


async def claim(store: OutboxStore, at: datetime = T0, limit: int = 100) -> list[ClaimedMessage]:
    return await store.claim(now=at, limit=limit, lease_seconds=LEASE)


# --- enqueue ---------------------------------------------------------------------------------


async def test_enqueue_stores_pending_rows_and_skips_repeats(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    [chat] = await add_chats(engine, 1)
    later = T0 + timedelta(hours=3)
    added = await store.enqueue(
        [intent(chat, 1, dedupe_key="invite:C1"), intent(chat, 2, not_before=later)], now=T0
    )
    assert added == 2
    again = await store.enqueue([intent(chat, 3, dedupe_key="invite:C1")], now=T0)
    assert again == 0
    rows = list((await outbox_rows(engine)).values())
    assert [(r["status"], r["not_before"], r["attempts"]) for r in rows] == [
        ("pending", T0, 0),
        ("pending", later, 0),
    ]
    assert rows[0]["payload"] == {"n": 1, "text": "Xin chào"}
    assert rows[0]["created_at"] == T0


async def test_enqueue_skips_blocked_and_unknown_chats(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    [open_chat] = await add_chats(engine, 1)
    [blocked_chat] = await add_chats(engine, 1, blocked=True)
    added = await store.enqueue(
        [intent(blocked_chat), intent(open_chat), intent(open_chat + blocked_chat + 1000)], now=T0
    )
    assert added == 1
    assert [r["chat_id"] for r in (await outbox_rows(engine)).values()] == [open_chat]


async def test_enqueue_belongs_to_the_callers_transaction(engine: AsyncEngine) -> None:
    [chat] = await add_chats(engine, 1)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with engine.begin() as conn:
            assert await enqueue(conn, [intent(chat)], now=T0) == 1
            raise Abort
    assert await outbox_rows(engine) == {}
    async with engine.begin() as conn:
        assert await enqueue(conn, [intent(chat)], now=T0) == 1
    assert len(await outbox_rows(engine)) == 1


# --- claim -----------------------------------------------------------------------------------


async def test_claim_takes_due_rows_in_id_order_with_the_chat_address(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    chats = await add_chats(engine, 3)
    await store.enqueue([intent(c, i) for i, c in enumerate(reversed(chats))], now=T0)
    await store.enqueue([intent(chats[0], 9, not_before=T0 + timedelta(minutes=5))], now=T0)

    claimed = await claim(store, limit=2)
    assert [m.payload["n"] for m in claimed] == [0, 1]
    first = claimed[0]
    assert (first.chat_id, first.channel, first.kind, first.attempts) == (
        chats[2],
        "telegram",
        "notice",
        1,
    )
    assert first.external_id and first.language in {"vi", "en"}
    assert [m.payload["n"] for m in await claim(store)] == [2]
    assert await claim(store) == []  # the rest is sending or not due yet
    rows = await outbox_rows(engine)
    assert Counter(r["status"] for r in rows.values()) == {"sending": 3, "pending": 1}
    assert {r["claimed_until"] for r in rows.values() if r["status"] == "sending"} == {
        T0 + timedelta(seconds=LEASE)
    }


async def test_a_chats_next_message_waits_until_the_one_in_flight_is_done(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    chat, other = await add_chats(engine, 2)
    await store.enqueue([intent(chat, 1), intent(chat, 2), intent(other, 3)], now=T0)

    first = await claim(store)
    assert [m.payload["n"] for m in first] == [1, 3]
    assert await claim(store) == []
    await store.sent(first[0].id, now=T0, external_message_id="m1", cost="oa_billable")
    assert [m.payload["n"] for m in await claim(store)] == [2]
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT cost_class, external_message_id FROM outbox WHERE id = :i"),
                {"i": first[0].id},
            )
        ).one()
    assert tuple(stored) == ("oa_billable", "m1")


async def test_a_failed_send_scheduled_for_later_does_not_hold_back_the_next(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    [chat] = await add_chats(engine, 1)
    await store.enqueue([intent(chat, 1), intent(chat, 2)], now=T0)
    [first] = await claim(store)
    await store.retry(first.id, now=T0, at=T0 + timedelta(minutes=1), error="timeout")
    [second] = await claim(store)
    assert second.payload["n"] == 2
    await store.sent(second.id, now=T0, external_message_id=None)
    assert await claim(store) == []
    [again] = await claim(store, T0 + timedelta(minutes=1))
    assert (again.id, again.attempts) == (first.id, 2)


async def test_quiet_hours_row_does_not_hold_back_later_rows_of_the_chat(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    [chat] = await add_chats(engine, 1)
    await store.enqueue(
        [intent(chat, 1, not_before=T0 + timedelta(hours=8)), intent(chat, 2)], now=T0
    )
    assert [m.payload["n"] for m in await claim(store)] == [2]


async def test_a_due_earlier_row_holds_back_later_ones_even_across_claims(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    [chat] = await add_chats(engine, 1)
    await store.enqueue([intent(chat, 1, not_before=T0 + timedelta(minutes=1))], now=T0)
    await store.enqueue([intent(chat, 2)], now=T0)
    [second] = await claim(store)
    await store.sent(second.id, now=T0, external_message_id=None)
    await store.enqueue([intent(chat, 3)], now=T0)
    # Now the first row is due: it goes before the third.
    later = T0 + timedelta(minutes=2)
    assert [m.payload["n"] for m in await claim(store, later)] == [1]
    assert await claim(store, later) == []


async def test_an_expired_lease_is_claimed_again(engine: AsyncEngine, store: OutboxStore) -> None:
    chat, other = await add_chats(engine, 2)
    await store.enqueue([intent(chat, 1), intent(chat, 2), intent(other, 3)], now=T0)
    crashed = await claim(store)  # the dispatcher dies before recording anything
    assert [m.payload["n"] for m in crashed] == [1, 3]

    assert await claim(store, T0 + timedelta(seconds=LEASE - 1)) == []
    after_lease = T0 + timedelta(seconds=LEASE + 1)
    reclaimed = await claim(store, after_lease)
    assert [(m.payload["n"], m.attempts) for m in reclaimed] == [(1, 2), (3, 2)]
    # The chat's second message still waits for its first.
    assert await claim(store, after_lease) == []
    rows = await outbox_rows(engine)
    assert rows[reclaimed[0].id]["claimed_until"] == after_lease + timedelta(seconds=LEASE)


# --- outcomes --------------------------------------------------------------------------------


async def test_sent_records_the_message_and_a_question_sets_the_surveys_prompt(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    [chat] = await add_chats(engine, 1)
    survey_id = await add_survey(engine, chat)
    await store.enqueue(
        [
            OutboxIntent(chat_id=chat, kind="question", payload={"q": "Q1"}, survey_id=survey_id),
            OutboxIntent(chat_id=chat, kind="thanks", payload={}, survey_id=survey_id),
        ],
        now=T0,
    )
    [question] = await claim(store)
    sent_at = T0 + timedelta(seconds=1)
    await store.sent(question.id, now=sent_at, external_message_id="101")
    [thanks] = await claim(store, sent_at)
    await store.sent(thanks.id, now=sent_at, external_message_id="102")

    rows = await outbox_rows(engine)
    assert rows[question.id]["status"] == "sent"
    assert rows[question.id]["sent_at"] == sent_at
    assert rows[question.id]["external_message_id"] == "101"
    assert rows[question.id]["claimed_until"] is None
    assert await attempts_of(engine, question.id) == [("sent", None)]
    async with engine.connect() as conn:
        prompt = await conn.scalar(
            select(surveys_t.c.prompt_message_id).where(surveys_t.c.id == survey_id)
        )
    assert prompt == "101"  # the question's id; other messages of the survey leave it alone


async def test_retry_and_failed_keep_the_error_and_every_attempt(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    [chat] = await add_chats(engine, 1)
    await store.enqueue([intent(chat)], now=T0)
    [message] = await claim(store)
    at = T0 + timedelta(seconds=7)
    await store.retry(message.id, now=T0, at=at, error="429: retry after 7")
    row = (await outbox_rows(engine))[message.id]
    assert (row["status"], row["not_before"], row["last_error"], row["claimed_until"]) == (
        "pending",
        at,
        "429: retry after 7",
        None,
    )
    [message] = await claim(store, at)
    await store.failed(message.id, now=at, error="400: chat not found " + "x" * 600)
    row = (await outbox_rows(engine))[message.id]
    assert row["status"] == "failed"
    assert row["last_error"].startswith("400: chat not found")
    assert len(row["last_error"]) <= 500
    outcomes = [outcome for outcome, _ in await attempts_of(engine, message.id)]
    assert outcomes == ["retry", "failed"]
    assert row["attempts"] == 2
    assert await claim(store, at + timedelta(days=1)) == []


async def test_blocked_marks_the_chat_and_drops_its_unsent_messages(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    chat, other = await add_chats(engine, 2)
    await store.enqueue([intent(chat, 1), intent(chat, 2), intent(other, 3)], now=T0)
    await store.enqueue([intent(chat, 4, not_before=T0 + timedelta(days=1))], now=T0)
    first, for_other = await claim(store)
    await store.blocked(first.id, now=T0, error="403: bot was blocked by the user")

    rows = await outbox_rows(engine)
    statuses = {r["payload"]["n"]: r["status"] for r in rows.values()}
    assert statuses == {1: "blocked", 2: "blocked", 3: "sending", 4: "blocked"}
    assert await attempts_of(engine, first.id) == [("blocked", "403: bot was blocked by the user")]
    async with engine.connect() as conn:
        blocked_at = await conn.scalar(select(chats_t.c.blocked_at).where(chats_t.c.id == chat))
        other_blocked = await conn.scalar(select(chats_t.c.blocked_at).where(chats_t.c.id == other))
    assert (blocked_at, other_blocked) == (T0, None)
    await store.sent(for_other.id, now=T0, external_message_id="7")
    assert await claim(store, T0 + timedelta(days=2)) == []
    assert await store.enqueue([intent(chat, 5)], now=T0) == 0
    assert await store.counts() == {
        "pending": 0,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "blocked": 3,
    }


# --- concurrency and leadership on PostgreSQL ------------------------------------------------


async def test_two_dispatchers_never_claim_the_same_row(migrated_url: str) -> None:
    if is_sqlite(migrated_url):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one process")
    engines = [create_engine(migrated_url) for _ in range(2)]
    try:
        chats = await add_chats(engines[0], 40)
        intents = [intent(chats[i % len(chats)], i) for i in range(200)]
        assert await OutboxStore(engines[0]).enqueue(intents, now=T0) == 200
        claims: list[tuple[int, int]] = []  # (chat, row) in the order rows were claimed

        async def work(store: OutboxStore) -> list[int]:
            mine: list[int] = []
            idle = 0
            while idle < 3:
                batch = await store.claim(now=T0, limit=7, lease_seconds=LEASE)
                idle = 0 if batch else idle + 1
                claims.extend((m.chat_id, m.id) for m in batch)
                mine.extend(m.id for m in batch)
                for message in batch:
                    await store.sent(message.id, now=T0, external_message_id=None)
                await asyncio.sleep(0)
            return mine

        first, second = await asyncio.gather(*(work(OutboxStore(e)) for e in engines))
        assert first and second, "both dispatchers should have taken part"
        assert not set(first) & set(second)
        assert sorted(first + second) == sorted((await outbox_rows(engines[0])).keys())
        per_chat: dict[int, list[int]] = defaultdict(list)
        for chat, row in claims:
            per_chat[chat].append(row)
        assert all(rows == sorted(rows) for rows in per_chat.values())
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.postgres
async def test_one_leader_at_a_time_on_postgres(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        first, second = Leadership(engine, "outbox:bot1"), Leadership(engine, "outbox:bot1")
        other_bot = Leadership(engine, "outbox:bot2")
        results = await asyncio.gather(first.acquire(), second.acquire())
        assert sorted(results) == [False, True]
        leader, follower = (first, second) if results[0] else (second, first)
        assert await leader.acquire()  # still held
        assert not await follower.acquire()
        assert await other_bot.acquire()
        await leader.release()
        assert await follower.acquire()
        assert not await leader.acquire()
        await follower.release()
        await other_bot.release()
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_leadership_passes_on_when_the_leaders_connection_dies(
    pg_url: str, pg_admin: str
) -> None:
    engine = create_engine(pg_url)
    try:
        leader, follower = Leadership(engine, "outbox"), Leadership(engine, "outbox")
        assert await leader.acquire()
        assert not await follower.acquire()
        admin = await asyncpg.connect(pg_admin)
        try:
            # The timeout makes the call wait until the backend has exited (and so let go of
            # its locks); without it the follower could ask while the lock is still held.
            killed = await admin.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_locks "
                "WHERE locktype = 'advisory' AND objid = $1 AND granted",
                leader.key,
            )
        finally:
            await admin.close()
        assert killed == 1
        assert await follower.acquire()
        assert not await leader.acquire()  # notices the loss, and the role is taken
        await follower.release()
        assert await leader.acquire()
        await leader.release()
    finally:
        await engine.dispose()


async def test_sqlite_process_always_leads(migrated_url: str) -> None:
    if not is_sqlite(migrated_url):
        pytest.skip("PostgreSQL elects a leader; see the tests above")
    engine = create_engine(migrated_url)
    try:
        assert await Leadership(engine, "outbox").acquire()
        assert await Leadership(engine, "outbox").acquire()
    finally:
        await engine.dispose()


# --- a full dispatcher run -------------------------------------------------------------------


class RecordingSender:
    """A channel that accepts everything and notes when each message left."""

    channel = "telegram"

    def __init__(self) -> None:
        self.sends: list[tuple[float, ClaimedMessage]] = []

    async def send(self, message: ClaimedMessage) -> Sent:
        self.sends.append((time.monotonic(), message))
        await asyncio.sleep(0.001)
        return Sent(external_message_id=str(message.id))


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of events that fall within one `window`."""
    times = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_dispatcher_sends_every_message_once_within_the_global_limit(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    chats = await add_chats(engine, 300)
    await store.enqueue([intent(chat, i) for i, chat in enumerate(chats)], now=T0)
    sender = RecordingSender()
    dispatcher = Dispatcher(store, {"telegram": sender}, global_limit=50, window=0.2)

    await dispatcher.run_until_idle(timeout=30)

    sent_ids = [message.id for _, message in sender.sends]
    assert len(sent_ids) == len(set(sent_ids)) == 300
    assert most_in_any_window([t for t, _ in sender.sends], 0.2) <= 50
    assert (await store.counts())["sent"] == 300
    async with engine.connect() as conn:
        attempts = await conn.scalar(text("SELECT count(*) FROM outbox_attempts"))
    assert attempts == 300


async def test_dispatcher_keeps_a_chats_order_and_its_burst_limit(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    chat, other = await add_chats(engine, 2)
    await store.enqueue([intent(chat, i) for i in range(8)] + [intent(other, 100)], now=T0)
    sender = RecordingSender()
    dispatcher = Dispatcher(store, {"telegram": sender}, per_chat_burst=3, window=0.2)

    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop))
    deadline = time.monotonic() + 10
    while len(sender.sends) < 9 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    stop.set()
    await running

    to_chat = [(t, m.payload["n"]) for t, m in sender.sends if m.chat_id == chat]
    assert [n for _, n in to_chat] == list(range(8))
    assert most_in_any_window([t for t, _ in to_chat], 0.2) <= 3
    assert (await store.counts())["sent"] == 9


async def test_dispatcher_survives_a_storage_outage(
    engine: AsyncEngine, store: OutboxStore
) -> None:
    [chat] = await add_chats(engine, 1)
    await store.enqueue([intent(chat)], now=T0)

    class FlakyStore(OutboxStore):
        failures = 1

        async def claim(self, **kw: Any) -> list[ClaimedMessage]:
            if self.failures:
                self.failures -= 1
                raise StorageError("database restarting")
            return await super().claim(**kw)

    sender = RecordingSender()
    flaky = FlakyStore(engine)
    dispatcher = Dispatcher(flaky, {"telegram": sender}, poll_interval=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop))
    deadline = time.monotonic() + 10
    while not sender.sends and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await running
    assert flaky.failures == 0
    assert len(sender.sends) == 1
