"""The intake events the ZNS route turns into notices (result ready, an apology), read
through a cursor of their own: only events of cases ZNS may reach and that have not ended.

`ZnsNotices` shares its `ZnsStore`'s idea of a reachable case and queues through it, in the
same transaction that moves the cursor (`storage.event_feed.EventCursor`, as the chats'
notices do), so a notice is queued once even with several replicas. Statements are built once
per store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import String, bindparam, func, literal, select, true

from storage.errors import translate_errors
from storage.event_feed import EVENT_COLUMNS, EventCursor, EventForChat
from storage.zns import (
    ENDED_STATUSES,
    CaseIntent,
    ZnsStore,
    agencies_t,
    cases_t,
    chats_t,
    contacts_t,
    cursors_t,
    events_t,
    links_t,
    procedures_t,
)


class ZnsNotices:
    """The notices' cursor over the intake inbox, for one `ZnsStore`."""

    def __init__(self, store: ZnsStore) -> None:
        self._store = store
        self._cursor = EventCursor(store.engine)
        self._events = (
            select(*EVENT_COLUMNS, literal(0).label("chat_id"))
            .join(cases_t, cases_t.c.code == events_t.c.case_code)
            .join(contacts_t, contacts_t.c.case_code == cases_t.c.code)
            .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
            .join(agencies_t, agencies_t.c.code == cases_t.c.agency_code)
            .outerjoin(links_t, links_t.c.case_code == cases_t.c.code)
            .outerjoin(chats_t, chats_t.c.id == links_t.c.chat_id)
            .where(
                events_t.c.id > bindparam("position"),
                events_t.c.id <= bindparam("end"),
                cases_t.c.status.not_in(ENDED_STATUSES),
                *store.reachable(),
            )
            .order_by(events_t.c.id)
        )

    async def start_cursor(self, cursor: str) -> None:
        """Create the notices' cursor at the newest event if it does not exist yet: turning
        ZNS on does not send notices about what happened before."""
        # `WHERE true`: SQLite cannot tell `INSERT … SELECT … ON CONFLICT` apart without it.
        newest = select(literal(cursor, String), func.coalesce(func.max(events_t.c.id), 0)).where(
            true()
        )
        stmt = (
            self._store.insert(cursors_t)
            .from_select(["name", "position"], newest)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        with translate_errors():
            async with self._store.engine.begin() as conn:
                await conn.execute(stmt)

    async def consume_events(
        self,
        *,
        cursor: str,
        limit: int,
        build: Callable[[list[EventForChat]], Sequence[CaseIntent]],
        now: datetime,
    ) -> int:
        """Feed the inbox events after `cursor` of cases ZNS may reach (and not ended) to
        `build`, queue what it returns and move the cursor, in one transaction; how many
        events were read. The events' `chat_id` is 0: the ZNS chat is made only for a case
        that gets a message."""
        with translate_errors():
            async with self._store.engine.begin() as conn:
                seen, position, end = await self._cursor.window(conn, cursor, limit)
                if not seen:
                    return 0
                rows = (await conn.execute(self._events, {"position": position, "end": end})).all()
                found = [EventForChat(**row._mapping) for row in rows]
                if found:
                    await self._store.queue_in(conn, build(found), now)
                await self._cursor.move(conn, cursor, end)
        return seen


__all__ = ["ZnsNotices"]
