"""The one guided conversation each chat may have open, with its state (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import ChatDialog

dialogs_t = ChatDialog.__table__  # type: ignore[attr-defined]


class DialogStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)

    async def get(self, chat_id: int) -> tuple[str, dict[str, Any]] | None:
        """The open conversation's kind and state, or None."""
        stmt = select(dialogs_t.c.kind, dialogs_t.c.state).where(dialogs_t.c.chat_id == chat_id)
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else (str(row[0]), dict(row[1] or {}))

    async def put(self, chat_id: int, kind: str, state: dict[str, Any], *, now: datetime) -> None:
        """Open (or replace) the chat's conversation."""
        stmt = self._insert(dialogs_t).values(
            chat_id=chat_id, kind=kind, state=state, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["chat_id"],
            set_={"kind": kind, "state": stmt.excluded.state, "updated_at": now},
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(stmt)

    async def clear(self, chat_id: int) -> bool:
        """Close the chat's conversation; False when none was open."""
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(delete(dialogs_t).where(dialogs_t.c.chat_id == chat_id))
        return bool(result.rowcount)
