"""Alert mutes (`/mute`): a head's chat gets no non-urgent alert until the mute ends.

Held messages are not dropped: they are queued (or re-queued) with `not_before` at the mute's
end, so they arrive then. Complaint alerts (money asked, harassment) are never held. Times are
naive UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import Alert, AlertMute, OutboxMessage
from storage.outbox import OutboxIntent

alerts_t = Alert.__table__  # type: ignore[attr-defined]
mutes_t = AlertMute.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
ALERT_KIND = "alert"  # outbox kind of every alert message


async def held_for_mutes(
    conn: AsyncConnection, intents: Sequence[OutboxIntent], complaint: bool, now: datetime
) -> list[OutboxIntent]:
    """The intents, those to muted chats postponed to the mute's end (never a complaint)."""
    if complaint or not intents:
        return list(intents)
    chats = sorted({intent.chat_id for intent in intents})
    rows = (
        await conn.execute(
            select(mutes_t.c.chat_id, mutes_t.c.until).where(
                mutes_t.c.chat_id.in_(chats), mutes_t.c.until > now
            )
        )
    ).all()
    until = {int(chat): moment for chat, moment in rows}
    held = []
    for intent in intents:
        end = until.get(intent.chat_id)
        if end is not None and (intent.not_before is None or intent.not_before < end):
            intent = replace(intent, not_before=end)
        held.append(intent)
    return held


def _alert_id(payload: Any) -> int:
    try:
        return int(payload.get("alert_id") or 0)
    except (AttributeError, TypeError, ValueError):
        return 0


class MuteStore:
    """Set, read and lift a chat's alert mute."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)

    @staticmethod
    def _current(chat_id: int, now: datetime) -> Any:
        return select(mutes_t.c.until).where(mutes_t.c.chat_id == chat_id, mutes_t.c.until > now)

    async def muted_until(self, chat_id: int, *, now: datetime) -> datetime | None:
        """When the chat's mute ends, or None when it is not muted."""
        with translate_errors():
            async with self.engine.connect() as conn:
                until: datetime | None = (await conn.execute(self._current(chat_id, now))).scalar()
        return until

    async def mute(self, chat_id: int, *, until: datetime, now: datetime) -> datetime | None:
        """Hold the chat's non-urgent alerts until `until`, those already queued included;
        returns the end of the mute it replaces (None if there was none)."""
        upsert = self._insert(mutes_t).values(chat_id=chat_id, until=until, set_at=now)
        with translate_errors():
            async with self.engine.begin() as conn:
                before: datetime | None = (await conn.execute(self._current(chat_id, now))).scalar()
                await conn.execute(
                    upsert.on_conflict_do_update(
                        index_elements=["chat_id"], set_={"until": until, "set_at": now}
                    )
                )
                pending = (
                    await conn.execute(
                        select(outbox_t.c.id, outbox_t.c.payload).where(
                            outbox_t.c.chat_id == chat_id,
                            outbox_t.c.kind == ALERT_KIND,
                            outbox_t.c.status == "pending",
                        )
                    )
                ).all()
                alert_ids = sorted({_alert_id(p) for _, p in pending} - {0})
                complaints: set[int] = set()
                if alert_ids:
                    found = await conn.execute(
                        select(alerts_t.c.id).where(
                            alerts_t.c.id.in_(alert_ids), alerts_t.c.complaint.is_(True)
                        )
                    )
                    complaints = {int(r[0]) for r in found.all()}
                hold = [int(i) for i, p in pending if _alert_id(p) not in complaints]
                if hold:
                    await conn.execute(
                        update(outbox_t)
                        .where(outbox_t.c.id.in_(hold), outbox_t.c.not_before < until)
                        .values(not_before=until)
                    )
        return before

    async def unmute(self, chat_id: int, *, now: datetime) -> datetime | None:
        """Lift the mute: held alerts become due now; returns the end it had (None if none)."""
        with translate_errors():
            async with self.engine.begin() as conn:
                before: datetime | None = (await conn.execute(self._current(chat_id, now))).scalar()
                await conn.execute(delete(mutes_t).where(mutes_t.c.chat_id == chat_id))
                if before is not None:
                    await conn.execute(
                        update(outbox_t)
                        .where(
                            outbox_t.c.chat_id == chat_id,
                            outbox_t.c.kind == ALERT_KIND,
                            outbox_t.c.status == "pending",
                            outbox_t.c.not_before > now,
                            outbox_t.c.not_before <= before,
                        )
                        .values(not_before=now)
                    )
        return before


__all__ = ["ALERT_KIND", "MuteStore", "held_for_mutes"]
