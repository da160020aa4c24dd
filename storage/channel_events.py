"""Platform events kept before they are acted on (the inbox of the Zalo channels).

A webhook stores the event and answers at once; a worker acts on it afterwards. `store` keeps
an event once per (channel, dedupe key): a redelivery finds it there and is not acted on
again. `claim` hands unprocessed events to one worker at a time (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; a claimed event returns to the pool after its claim lapses, so a crash between
store and work loses nothing); `done` and `failed` record the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.batching import GroupCommit
from storage.channel_models import ChannelEvent
from storage.db import dialect_insert
from storage.errors import translate_errors

events_t = ChannelEvent.__table__  # type: ignore[attr-defined]
MAX_ATTEMPTS = 5  # an event that failed this often is set aside (error kept), not retried


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event claimed for processing."""

    id: int
    channel: str
    kind: str
    body: dict[str, Any]
    received_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class _Settled:
    event_id: int
    now: datetime


class ChannelEventStore:
    """Stores, claims and settles platform events.

    Under load, concurrent `store` calls share one multi-row INSERT and one commit, and so do
    concurrent `done` calls (`storage.batching.GroupCommit`): a webhook burst costs a few
    transactions, not one per event. Two stores of the same (channel, dedupe key) never share
    a batch, so a redelivery that arrives with its original is still told apart."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        insert = dialect_insert(engine)
        self._insert = (
            insert(events_t)
            .values(
                channel=bindparam("channel"),
                dedupe_key=bindparam("dedupe_key"),
                kind=bindparam("kind"),
                body=bindparam("body", type_=events_t.c.body.type),
                received_at=bindparam("received_at"),
                processed_at=bindparam("processed_at"),
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["channel", "dedupe_key"])
            .returning(events_t.c.id, events_t.c.channel, events_t.c.dedupe_key)
        )
        self._done = (
            update(events_t)
            .where(events_t.c.id == bindparam("event_id"))
            .values(processed_at=bindparam("now"), claimed_until=None, error=None)
        )
        claimed = (
            events_t.c.id,
            events_t.c.channel,
            events_t.c.kind,
            events_t.c.body,
            events_t.c.received_at,
            events_t.c.attempts,
        )
        pending = and_(
            events_t.c.channel == bindparam("b_channel"),
            events_t.c.processed_at.is_(None),
            events_t.c.attempts < MAX_ATTEMPTS,
            or_(events_t.c.claimed_until.is_(None), events_t.c.claimed_until < bindparam("b_now")),
        )

        def claiming(where: Any) -> Any:
            chosen = (
                select(events_t.c.id)
                .where(pending, where)
                .order_by(events_t.c.id)
                .limit(bindparam("limit"))
                .with_for_update(skip_locked=True)
            )
            return (
                update(events_t)
                .where(events_t.c.id.in_(chosen.scalar_subquery()))
                .values(claimed_until=bindparam("until"), attempts=events_t.c.attempts + 1)
                .returning(*claimed)
            )

        self._claim_ids = claiming(events_t.c.id.in_(bindparam("ids", expanding=True)))
        self._claim_before = claiming(events_t.c.received_at < bindparam("before"))
        self._claim_any = claiming(events_t.c.id.is_not(None))
        self._stores: GroupCommit[dict[str, Any], int | None] = GroupCommit(
            self._store_batch, keys=lambda p: ((p["channel"], p["dedupe_key"]),), max_batch=100
        )
        self._settles: GroupCommit[_Settled, None] = GroupCommit(
            self._done_batch, keys=lambda s: (s.event_id,), max_batch=100
        )

    async def store(
        self,
        channel: str,
        *,
        dedupe_key: str,
        kind: str,
        body: dict[str, Any],
        now: datetime,
        settled: bool = False,
    ) -> int | None:
        """Keep a new event; its id, or None when this event was stored before. A `settled`
        event (one nothing acts on: kept for its dedupe key and the record) is stored as
        processed, never claimed."""
        params = {
            "channel": channel,
            "dedupe_key": dedupe_key[:128],
            "kind": kind[:64],
            "body": body,
            "received_at": now,
            "processed_at": now if settled else None,
        }
        return await self._stores.submit(params)

    async def _store_batch(self, batch: Sequence[dict[str, Any]]) -> list[int | None]:
        with translate_errors():
            async with self.engine.begin() as conn:
                rows = (await conn.execute(self._insert, list(batch))).all()
        stored = {(row[1], row[2]): int(row[0]) for row in rows}
        return [stored.get((params["channel"], params["dedupe_key"])) for params in batch]

    async def claim(
        self,
        channel: str,
        *,
        now: datetime,
        ids: list[int] | None = None,
        received_before: datetime | None = None,
        limit: int = 50,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[StoredEvent]:
        """Unprocessed events of the channel (those in `ids` only, or those received before
        `received_before`, when given), oldest first, each claimed for `lease`."""
        params: dict[str, Any] = {
            "b_channel": channel,
            "b_now": now,
            "until": now + lease,
            "limit": limit,
        }
        if ids is not None and received_before is not None:
            raise ValueError("claim by ids or by age, not both")
        if ids is not None:
            if not ids:
                return []
            stmt, params["ids"] = self._claim_ids, list(ids)
        elif received_before is not None:
            stmt, params["before"] = self._claim_before, received_before
        else:
            stmt = self._claim_any
        with translate_errors():
            async with self.engine.begin() as conn:
                rows = (await conn.execute(stmt, params)).all()
        found = [StoredEvent(int(r[0]), r[1], r[2], dict(r[3]), r[4], int(r[5])) for r in rows]
        return sorted(found, key=lambda event: event.id)

    async def done(self, event_id: int, *, now: datetime) -> None:
        """The event was acted on."""
        await self._settles.submit(_Settled(event_id, now))

    async def _done_batch(self, batch: Sequence[_Settled]) -> list[None]:
        params = [{"event_id": s.event_id, "now": s.now} for s in batch]
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(self._done, params)
        return [None] * len(batch)

    async def drain(self) -> None:
        """Wait for every store and settlement under way (at shutdown)."""
        await self._stores.drain()
        await self._settles.drain()

    async def failed(self, event_id: int, error: str) -> None:
        """Acting on the event failed: it goes back to the pool (until `MAX_ATTEMPTS`)."""
        stmt = (
            update(events_t)
            .where(events_t.c.id == event_id)
            .values(claimed_until=None, error=error[:500])
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(stmt)

    async def release(self, event_ids: Sequence[int]) -> None:
        """Claimed events not acted on (a stop came first): back to the pool, the attempt not
        counted, for the next process or sweep."""
        if not event_ids:
            return
        stmt = (
            update(events_t)
            .where(events_t.c.id.in_(list(event_ids)), events_t.c.processed_at.is_(None))
            .values(claimed_until=None, attempts=events_t.c.attempts - 1)
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(stmt)

    async def pending_count(self, channel: str) -> int:
        """Events stored and not yet acted on (for tests and /metrics)."""
        stmt = select(events_t.c.id).where(
            events_t.c.channel == channel, events_t.c.processed_at.is_(None)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return len((await conn.execute(stmt)).all())

    async def kinds(self, channel: str) -> list[tuple[str, bool]]:
        """(kind, processed?) of every stored event of the channel, oldest first (tests)."""
        stmt = (
            select(events_t.c.kind, events_t.c.processed_at)
            .where(events_t.c.channel == channel)
            .order_by(events_t.c.id)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [(row[0], row[1] is not None) for row in rows]

    async def purge(self, *, before: datetime) -> int:
        """Forget processed events received before `before` (redeliveries come within days)."""
        stmt = delete(events_t).where(
            events_t.c.processed_at.is_not(None), events_t.c.received_at < before
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(stmt)
        return int(result.rowcount or 0)
