"""Settings an admin changed by chat (JSON values by key); they override the environment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import RuntimeSetting

settings_t = RuntimeSetting.__table__  # type: ignore[attr-defined]


class RuntimeSettingsStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)

    async def all(self) -> dict[str, Any]:
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(select(settings_t.c.key, settings_t.c.value))).all()
        return {str(r[0]): r[1] for r in rows}

    async def put(self, key: str, value: Any, *, now: datetime, by: str) -> Any:
        """Store a value; returns the value it replaced (None if unset). One transaction."""
        with translate_errors():
            async with self.engine.begin() as conn:
                before = (
                    await conn.execute(select(settings_t.c.value).where(settings_t.c.key == key))
                ).first()
                stmt = self._insert(settings_t).values(
                    key=key, value=value, updated_at=now, updated_by=by[:200]
                )
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["key"],
                        set_={
                            "value": stmt.excluded.value,
                            "updated_at": now,
                            "updated_by": by[:200],
                        },
                    )
                )
        return None if before is None else before[0]
