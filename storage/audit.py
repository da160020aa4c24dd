"""The append-only audit log: every change an admin makes and every refusal.

Only `append` writes; nothing here (or anywhere in the bot) updates or deletes a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.errors import translate_errors
from storage.models import AuditEntry

audit_t = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime  # naive UTC
    actor_chat_id: int | None
    actor_label: str
    action: str
    target: str
    before: Any
    after: Any


class AuditStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def append(
        self,
        *,
        at: datetime,
        actor_chat_id: int | None,
        actor_label: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
    ) -> None:
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    audit_t.insert().values(
                        at=at,
                        actor_chat_id=actor_chat_id,
                        actor_label=actor_label[:200],
                        action=action[:64],
                        target=target[:200],
                        before=before,
                        after=after,
                    )
                )

    async def last(
        self, limit: int = 20, *, actions: list[str] | None = None, exclude: list[str] | None = None
    ) -> list[AuditRow]:
        """The newest entries first, optionally only (or all but) some actions."""
        stmt = select(audit_t).order_by(audit_t.c.id.desc()).limit(limit)
        if actions:
            stmt = stmt.where(audit_t.c.action.in_(actions))
        if exclude:
            stmt = stmt.where(audit_t.c.action.not_in(exclude))
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [
            AuditRow(
                id=int(r.id),
                at=r.at,
                actor_chat_id=None if r.actor_chat_id is None else int(r.actor_chat_id),
                actor_label=str(r.actor_label),
                action=str(r.action),
                target=str(r.target),
                before=r.before,
                after=r.after,
            )
            for r in rows
        ]
