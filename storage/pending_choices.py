"""A chat's pending choices: what its typed numbers mean on a channel without buttons.

When a message's choices are shown as numbered lines, the sender records their actions here
(option 1 first), replacing the chat's earlier ones: the most recent message with choices
wins. The router reads them back, so a typed "2" is the press of option 2 — after a restart
or on another replica as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import ChatChoices

choices_t = ChatChoices.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PendingChoices:
    """The encoded actions of a chat's latest numbered message, in order, and when it went."""

    actions: tuple[str, ...]
    sent_at: datetime


class PendingChoiceStore:
    """Reads and replaces each chat's pending choices."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)

    async def remember(self, chat_id: int, actions: Sequence[str], *, now: datetime) -> None:
        """The chat's numbers now stand for `actions` (the last message recorded wins)."""
        stmt = self._insert(choices_t).values(chat_id=chat_id, actions=list(actions), sent_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["chat_id"],
            set_={"actions": stmt.excluded.actions, "sent_at": stmt.excluded.sent_at},
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(stmt)

    async def pending(self, chat_id: int) -> PendingChoices | None:
        """The chat's pending choices, or None when no numbered message was sent to it."""
        stmt = select(choices_t.c.actions, choices_t.c.sent_at).where(
            choices_t.c.chat_id == chat_id
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        return PendingChoices(tuple(str(action) for action in row[0] or ()), row[1])
