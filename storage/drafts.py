"""The questionnaire draft: the one editable copy, and how it becomes the active version.

Rows of `questionnaires` are `active` (exactly one, the version new invitations get), `retired`
(earlier versions; surveys in flight keep pointing at them) or `draft` (at most one, no version
number yet). Every change runs under one lock per database (a PostgreSQL transaction-scoped
advisory lock; the write lock on SQLite), so two admins editing at once take turns and neither
edit is lost, and a publish can never create two active versions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import is_sqlite
from storage.errors import translate_errors
from storage.models import QuestionnaireVersion

forms_t = QuestionnaireVersion.__table__  # type: ignore[attr-defined]

DRAFT, ACTIVE, RETIRED = "draft", "active", "retired"
# pg_advisory_xact_lock key: "SIPASQDR" read as a big-endian 63-bit integer.
_LOCK_KEY = int.from_bytes(b"SIPASQDR", "big") & 0x7FFF_FFFF_FFFF_FFFF
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# A write that touches no row still takes SQLite's write lock, so the read that follows sees
# the latest state and the transaction cannot fail half-way on a stale snapshot.
_SQLITE_LOCK = update(forms_t).where(forms_t.c.id == -1).values(status=forms_t.c.status)


@dataclass(frozen=True, slots=True)
class StoredForm:
    """One stored questionnaire: `version` is None for the draft."""

    version: int | None
    status: str
    base: str
    definition: dict[str, Any]
    created_at: datetime
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class Published:
    """The outcome of a publish: the version retired (if any) and the new active version."""

    retired: int | None
    version: int
    definition: dict[str, Any]


# A change gets (base, definition) of the draft (or of the active version when there is no
# draft yet) and returns the new (base, definition); it may raise to leave everything as it was.
Change = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]


class NoActiveForm(LookupError):
    """There is neither a draft nor an active version to start from."""


class DraftStore:
    """Reads and changes the draft; publishes and discards it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(str(engine.url))
        # One writer at a time inside this process too: SQLite's busy handler would otherwise
        # spin while another task of the same loop holds the write lock.
        self._local = asyncio.Lock()

    async def active(self) -> StoredForm | None:
        return await self._one(forms_t.c.status == ACTIVE)

    async def draft(self) -> StoredForm | None:
        return await self._one(forms_t.c.status == DRAFT)

    async def _one(self, condition: Any) -> StoredForm | None:
        stmt = select(forms_t).where(condition).order_by(forms_t.c.id.desc()).limit(1)
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else _stored(row)

    async def change(self, apply: Change, *, now: datetime) -> tuple[StoredForm, StoredForm]:
        """Apply `apply` to the draft, creating it from the active version on the first edit.

        Returns (before, after): `before` is the draft as it was, or the active version the new
        draft was copied from. Raises `NoActiveForm` when there is nothing to copy.
        """
        async with self._locked() as conn:
            before = await self._read(conn, DRAFT)
            existed = before is not None
            if before is None:
                before = await self._read(conn, ACTIVE)
            if before is None:
                raise NoActiveForm("no questionnaire is stored yet")
            base, definition = apply(before.base, dict(before.definition))
            if existed:
                await conn.execute(
                    update(forms_t)
                    .where(forms_t.c.status == DRAFT)
                    .values(base=base, definition=definition)
                )
            else:
                await conn.execute(
                    forms_t.insert().values(
                        version=None, status=DRAFT, base=base, definition=definition, created_at=now
                    )
                )
            after = await self._read(conn, DRAFT)
        assert after is not None
        return before, after

    async def publish(self, *, now: datetime) -> Published | None:
        """Make the draft the active version (next number); None when there is no draft."""
        async with self._locked() as conn:
            draft = await self._read(conn, DRAFT)
            if draft is None:
                return None
            highest = (await conn.execute(select(func.max(forms_t.c.version)))).scalar()
            version = int(highest or 0) + 1
            retired = (
                await conn.execute(select(forms_t.c.version).where(forms_t.c.status == ACTIVE))
            ).scalar()
            await conn.execute(
                update(forms_t).where(forms_t.c.status == ACTIVE).values(status=RETIRED)
            )
            await conn.execute(
                update(forms_t)
                .where(forms_t.c.status == DRAFT)
                .values(status=ACTIVE, version=version, published_at=now)
            )
        return Published(
            retired=None if retired is None else int(retired),
            version=version,
            definition=draft.definition,
        )

    async def discard(self) -> StoredForm | None:
        """Drop the draft; return it as it was (None when there was none)."""
        async with self._locked() as conn:
            draft = await self._read(conn, DRAFT)
            if draft is not None:
                await conn.execute(delete(forms_t).where(forms_t.c.status == DRAFT))
        return draft

    async def _read(self, conn: AsyncConnection, status: str) -> StoredForm | None:
        stmt = select(forms_t).where(forms_t.c.status == status).order_by(forms_t.c.id.desc())
        row = (await conn.execute(stmt.limit(1))).first()
        return None if row is None else _stored(row)

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction that holds the draft lock until it commits."""
        async with self._local:
            with translate_errors():
                async with self.engine.begin() as conn:
                    if self._sqlite:
                        await conn.execute(_SQLITE_LOCK)
                    else:
                        await conn.execute(_PG_LOCK, {"key": _LOCK_KEY})
                    yield conn


def _stored(row: Any) -> StoredForm:
    return StoredForm(
        version=None if row.version is None else int(row.version),
        status=str(row.status),
        base=str(row.base),
        definition=dict(row.definition),
        created_at=row.created_at,
        published_at=row.published_at,
    )
