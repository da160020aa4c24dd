"""Chats: one row per chat on a channel, with its language, opt-out and blocked mark.

A chat row is created on first contact; `/stop` (opt-out) also ends the chat's open surveys
and drops its unsent messages in the same transaction. Times are naive UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import Chat, OutboxMessage, Survey
from storage.outbox import PENDING, OutboxIntent, enqueue
from storage.surveys import OPEN_SURVEY

chats_t = Chat.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ChatRow:
    id: int
    channel: str
    external_id: str
    language: str
    opted_out: bool
    blocked: bool


class ChatStore:
    """Chats by channel and external id; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        upsert = dialect_insert(engine)(chats_t).values(
            channel=bindparam("channel"),
            external_id=bindparam("external_id"),
            language=bindparam("language"),
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        columns = (
            chats_t.c.id,
            chats_t.c.channel,
            chats_t.c.external_id,
            chats_t.c.language,
            chats_t.c.opted_out,
            chats_t.c.blocked_at,
        )
        self._read = select(*columns).where(
            chats_t.c.channel == bindparam("channel"),
            chats_t.c.external_id == bindparam("external_id"),
        )
        self._upsert = upsert.on_conflict_do_update(
            index_elements=["channel", "external_id"],
            set_={"updated_at": upsert.excluded.updated_at},
        ).returning(*columns)

    async def chat(
        self, *, channel: str, external_id: str, language: str, now: datetime
    ) -> ChatRow:
        """The chat row for a channel's chat id, created on first contact. A known chat is
        one read (no write: every inbound message asks for its chat several times, and on
        SQLite each write would queue behind the one writer); `updated_at` moves only when
        the row changes."""
        key = {"channel": channel, "external_id": external_id}
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(self._read, key)).first()
            if row is None:
                async with self.engine.begin() as conn:
                    params = key | {"language": language, "now": now}
                    row = (await conn.execute(self._upsert, params)).one()
        return ChatRow(
            id=row.id,
            channel=row.channel,
            external_id=row.external_id,
            language=row.language,
            opted_out=bool(row.opted_out),
            blocked=row.blocked_at is not None,
        )

    async def set_chat(self, chat_id: int, *, now: datetime, **values: Any) -> None:
        """Change a chat's language, opt-out or blocked mark."""
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(chats_t).where(chats_t.c.id == chat_id).values(updated_at=now, **values)
                )

    async def opt_out(
        self, chat_id: int, *, now: datetime, intents: Sequence[OutboxIntent]
    ) -> None:
        """Stop everything for a chat: open surveys end, unsent messages are dropped."""
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(chats_t)
                    .where(chats_t.c.id == chat_id)
                    .values(opted_out=True, updated_at=now)
                )
                await conn.execute(
                    update(surveys_t)
                    .where(surveys_t.c.chat_id == chat_id, surveys_t.c.status.in_(OPEN_SURVEY))
                    .values(status="opted_out", updated_at=now)
                )
                await conn.execute(
                    update(outbox_t)
                    .where(outbox_t.c.chat_id == chat_id, outbox_t.c.status == PENDING)
                    .values(status="cancelled", last_error="chat opted out")
                )
                await enqueue(conn, intents, now=now)


__all__ = ["ChatRow", "ChatStore"]
