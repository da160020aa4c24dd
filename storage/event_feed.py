"""The feed of inbox events to the chats that follow their cases, read once through a cursor.

Status notices are built from it: each pass reads the events after a named cursor, queues the
messages built from the followed ones and moves the cursor, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import dialect_insert, is_sqlite
from storage.errors import translate_errors
from storage.models import Agency, Case, CaseContact, CaseEvent, CaseLink, Chat, Cursor, Procedure
from storage.outbox import OutboxIntent, enqueue

events_t = CaseEvent.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
links_t = CaseLink.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]
contacts_t = CaseContact.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]
agencies_t = Agency.__table__  # type: ignore[attr-defined]
cursors_t = Cursor.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class EventForChat:
    """An inbox event of a case some chat follows, with what its notices need."""

    event_id: int
    case_code: str
    event_status: int
    payload: dict[str, Any]
    case_status: int
    received_at: datetime
    promised_at: datetime | None
    promised_new_at: datetime | None
    due_at: datetime | None
    processing_unit: str | None
    procedure_name: str
    agency_name: str
    applicant_name: str | None
    chat_id: int


_WINDOW = (
    select(events_t.c.id)
    .where(events_t.c.id > bindparam("position"))
    .order_by(events_t.c.id)
    .limit(bindparam("limit"))
    .subquery("window")
)
# How many events follow the cursor (at most `limit`) and the id of the last of them.
_EVENTS_WINDOW = select(func.count(), func.max(_WINDOW.c.id))

# An `EventForChat` but its `chat_id`: the event, its case, procedure, agency and applicant
# (over events, cases, procedures, agencies and contacts joined by the reader).
EVENT_COLUMNS = (
    events_t.c.id.label("event_id"),
    events_t.c.case_code,
    events_t.c.status.label("event_status"),
    events_t.c.payload,
    cases_t.c.status.label("case_status"),
    cases_t.c.received_at,
    cases_t.c.promised_at,
    cases_t.c.promised_new_at,
    cases_t.c.due_at,
    cases_t.c.processing_unit,
    procedures_t.c.name.label("procedure_name"),
    agencies_t.c.name.label("agency_name"),
    contacts_t.c.applicant_name,
)

_FOLLOWED_EVENTS = (
    select(*EVENT_COLUMNS, links_t.c.chat_id)
    .join(links_t, links_t.c.case_code == events_t.c.case_code)
    .join(chats_t, chats_t.c.id == links_t.c.chat_id)
    .join(cases_t, cases_t.c.code == events_t.c.case_code)
    .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
    .join(agencies_t, agencies_t.c.code == cases_t.c.agency_code)
    .outerjoin(contacts_t, contacts_t.c.case_code == cases_t.c.code)
    .where(
        events_t.c.id > bindparam("position"),
        events_t.c.id <= bindparam("end"),
        chats_t.c.opted_out.is_(False),
    )
    .order_by(events_t.c.id)
)


class EventCursor:
    """A named cursor over the inbox, read and moved inside the caller's transaction: the
    cursor row is locked (PostgreSQL; SQLite has one writer), so replicas take turns."""

    def __init__(self, engine: AsyncEngine) -> None:
        cursor: BindParameter[str] = bindparam("cursor")
        self._ensure = (
            dialect_insert(engine)(cursors_t)
            .values(name=cursor, position=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        position = select(cursors_t.c.position).where(cursors_t.c.name == cursor)
        self._position = position if is_sqlite(str(engine.url)) else position.with_for_update()
        self._move = (
            update(cursors_t).where(cursors_t.c.name == cursor).values(position=bindparam("end"))
        )

    async def window(self, conn: AsyncConnection, cursor: str, limit: int) -> tuple[int, int, int]:
        """(events after the cursor, at most `limit`; the cursor's position; the id of the
        last of them): read those with `position < id <= end`, then `move` to `end`."""
        await conn.execute(self._ensure, {"cursor": cursor})
        position = int((await conn.execute(self._position, {"cursor": cursor})).scalar_one())
        params = {"position": position, "limit": limit}
        seen, end = (await conn.execute(_EVENTS_WINDOW, params)).one()
        return int(seen), position, int(end or position)

    async def move(self, conn: AsyncConnection, cursor: str, end: int) -> None:
        await conn.execute(self._move, {"cursor": cursor, "end": end})


class EventFeed:
    """Inbox events after a cursor, for the chats that follow their cases."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._cursor = EventCursor(engine)

    async def consume_events(
        self,
        *,
        cursor: str,
        limit: int,
        build: Callable[[list[EventForChat]], Sequence[OutboxIntent]],
        now: datetime,
    ) -> int:
        """Feed inbox events after `cursor` to `build` and queue its intents, exactly once.

        The cursor row is locked for the transaction, so replicas take turns; events of cases
        no chat follows (or whose chat opted out) still advance the cursor.
        """
        with translate_errors():
            async with self.engine.begin() as conn:
                seen, position, end = await self._cursor.window(conn, cursor, limit)
                if not seen:
                    return 0
                # Only events of followed cases come back: most cases have no chat, and
                # reading every event's payload cost more than storing it.
                rows = (
                    await conn.execute(_FOLLOWED_EVENTS, {"position": position, "end": end})
                ).all()
                followed = [EventForChat(**r._mapping) for r in rows]
                intents = build(followed) if followed else []
                await enqueue(conn, intents, now=now)
                await self._cursor.move(conn, cursor, end)
        return seen


__all__ = ["EVENT_COLUMNS", "EventCursor", "EventFeed", "EventForChat"]
