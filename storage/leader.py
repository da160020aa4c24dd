"""Leadership among replicas: one holder of a named role (e.g. the outbox dispatcher of a bot).

On PostgreSQL the holder keeps a session-level advisory lock on a connection of its own, so the
role passes to another replica as soon as the holder's connection closes (crash included). On
SQLite there is only one process, which always leads.
"""

from __future__ import annotations

import logging
import zlib

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import is_sqlite
from storage.errors import StorageError, translate_errors

log = logging.getLogger(__name__)

_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
_PING = select(1)


def lock_key(name: str) -> int:
    """The advisory-lock key of a role name (stable across processes and versions)."""
    return zlib.crc32(f"sipas:{name}".encode())


class Leadership:
    """Try to hold the role `name`; `acquire()` again to check that it is still held."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine
        self.name = name
        self.key = lock_key(name)
        self._sqlite = is_sqlite(str(engine.url))
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        """Whether this instance held the role at the last `acquire()`."""
        return self._sqlite or self._conn is not None

    async def acquire(self) -> bool:
        """Take the role if it is free; return whether this instance holds it now."""
        if self._sqlite:
            return True
        if self._conn is not None:
            if await self._still_connected(self._conn):
                return True
            log.warning("leadership lost", extra={"role": self.name})
            await self._discard()
        try:
            with translate_errors():
                conn = await self._engine.execution_options(isolation_level="AUTOCOMMIT").connect()
        except StorageError:
            log.warning("leadership: database unavailable", extra={"role": self.name})
            return False
        try:
            with translate_errors():
                won = bool((await conn.execute(_TRY_LOCK, {"key": self.key})).scalar())
        except StorageError:
            await conn.invalidate()
            await conn.close()
            return False
        if not won:
            await conn.close()
            return False
        self._conn = conn
        log.info("leadership acquired", extra={"role": self.name})
        return True

    async def release(self) -> None:
        """Give the role up (a no-op when not held)."""
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            with translate_errors():
                await conn.execute(_UNLOCK, {"key": self.key})
        except StorageError:
            # A pooled connection must never carry the lock on to another user.
            await conn.invalidate()
        finally:
            await conn.close()
        log.info("leadership released", extra={"role": self.name})

    async def _still_connected(self, conn: AsyncConnection) -> bool:
        try:
            await conn.execute(_PING)
        except Exception:
            # Whatever the driver says, a connection that cannot answer holds no lock we trust.
            log.debug("leadership: ping failed", exc_info=True)
            return False
        return True

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.invalidate()
            await conn.close()
        except Exception:
            log.debug("leadership: closing a dead connection failed", exc_info=True)


__all__ = ["Leadership", "lock_key"]
