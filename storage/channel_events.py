"""Platform events kept before they are acted on (the inbox of the Zalo channels).

A webhook stores the event and answers at once; a worker acts on it afterwards. `store` keeps
an event once per (channel, dedupe key): a redelivery finds it there and is not acted on
again. `claim` hands unprocessed events to one worker at a time (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; a claimed event returns to the pool after its claim lapses, so a crash between
store and work loses nothing); `done` and `failed` record the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

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


class ChannelEventStore:
    """Stores, claims and settles platform events."""

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
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["channel", "dedupe_key"])
            .returning(events_t.c.id)
        )

    async def store(
        self, channel: str, *, dedupe_key: str, kind: str, body: dict[str, Any], now: datetime
    ) -> int | None:
        """Keep a new event; its id, or None when this event was stored before."""
        params = {
            "channel": channel,
            "dedupe_key": dedupe_key[:128],
            "kind": kind[:64],
            "body": body,
            "received_at": now,
        }
        with translate_errors():
            async with self.engine.begin() as conn:
                row = (await conn.execute(self._insert, params)).first()
        return None if row is None else int(row[0])

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
        pending = and_(
            events_t.c.channel == channel,
            events_t.c.processed_at.is_(None),
            events_t.c.attempts < MAX_ATTEMPTS,
            or_(events_t.c.claimed_until.is_(None), events_t.c.claimed_until < now),
        )
        if ids is not None:
            pending = and_(pending, events_t.c.id.in_(ids))
        if received_before is not None:
            pending = and_(pending, events_t.c.received_at < received_before)
        chosen = (
            select(events_t.c.id)
            .where(pending)
            .order_by(events_t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(events_t)
            .where(events_t.c.id.in_(chosen.scalar_subquery()))
            .values(claimed_until=now + lease, attempts=events_t.c.attempts + 1)
            .returning(
                events_t.c.id,
                events_t.c.channel,
                events_t.c.kind,
                events_t.c.body,
                events_t.c.received_at,
                events_t.c.attempts,
            )
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                rows = (await conn.execute(stmt)).all()
        found = [StoredEvent(int(r[0]), r[1], r[2], dict(r[3]), r[4], int(r[5])) for r in rows]
        return sorted(found, key=lambda event: event.id)

    async def done(self, event_id: int, *, now: datetime) -> None:
        """The event was acted on."""
        stmt = (
            update(events_t)
            .where(events_t.c.id == event_id)
            .values(processed_at=now, claimed_until=None, error=None)
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(stmt)

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
