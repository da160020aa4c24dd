"""Questionnaire versions as surveys use them: the active one, one by number, the first seed.

Editing and publishing go through the draft (`storage.drafts`); a stored version never changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import QuestionnaireVersion

forms_t = QuestionnaireVersion.__table__  # type: ignore[attr-defined]

_ACTIVE_VERSION = select(forms_t.c.version).where(forms_t.c.status == "active")


class QuestionnaireStore:
    """Reads stored questionnaire versions; seeds version 1 on an empty database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)

    async def active_form(self) -> tuple[int, dict[str, Any]] | None:
        """(version, definition) of the version new invitations get."""
        stmt = select(forms_t.c.version, forms_t.c.definition).where(forms_t.c.status == "active")
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else (int(row.version), dict(row.definition))

    async def form(self, version: int) -> dict[str, Any] | None:
        """The definition of a version by its number."""
        stmt = select(forms_t.c.definition).where(forms_t.c.version == version)
        with translate_errors():
            async with self.engine.connect() as conn:
                found = (await conn.execute(stmt)).scalar()
        return None if found is None else dict(found)

    async def seed_form(self, *, base: str, definition: dict[str, Any], now: datetime) -> int:
        """Make `definition` version 1 and active unless some version exists; return active."""
        with translate_errors():
            async with self.engine.begin() as conn:
                existing = (await conn.execute(_ACTIVE_VERSION)).scalar()
                if existing is not None:
                    return int(existing)
                await conn.execute(
                    self._insert(forms_t)
                    .values(
                        version=1,
                        status="active",
                        base=base,
                        definition=definition,
                        created_at=now,
                        published_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["version"])
                )
                return int((await conn.execute(_ACTIVE_VERSION)).scalar_one())


__all__ = ["QuestionnaireStore"]
