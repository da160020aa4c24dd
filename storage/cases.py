"""Reads of cases for the API, the health probe, and the key left in the database by old versions.

Versions before key ids generated the link key into `service_secrets` ("link_key") when
`SIPAS_SECRET_KEY` was empty. The key no longer lives there: `stored_link_key` finds such a
leftover so `sipas export-secret-key` can move it to the environment, and
`delete_stored_link_key` removes it once the environment holds it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.errors import translate_errors
from storage.models import Case, Procedure, ServiceSecret

cases_t = Case.__table__  # type: ignore[attr-defined]
secrets_t = ServiceSecret.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class CaseState:
    """What the read API shows of a case (nothing about the applicant)."""

    code: str
    agency_code: str
    procedure_code: str
    status: int
    received_at: datetime
    promised_at: datetime | None
    due_at: datetime | None
    finished_at: datetime | None
    ended_at: datetime | None
    timeliness: str | None
    events_count: int


_CASE_BY_CODE = select(*(cases_t.c[name] for name in CaseState.__dataclass_fields__)).where(
    cases_t.c.code == bindparam("code")
)


_CASE_BY_LINK = (
    select(
        *(cases_t.c[name] for name in CaseState.__dataclass_fields__),
        procedures_t.c.name.label("procedure_name"),
    )
    .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
    .where(
        cases_t.c.link_token_hash == bindparam("token_hash"),
        cases_t.c.link_key_id.in_(bindparam("key_ids", expanding=True)),
    )
)
LEGACY_LINK_KEY = "link_key"


class CaseReader:
    """Read-side queries over cases."""

    def __init__(self, engine: AsyncEngine, *, key_ids: Collection[str] = ()) -> None:
        self._engine = engine
        # The kids of the configured link keys: a link made with any other key finds nothing.
        self._key_ids = list(key_ids)

    async def get(self, code: str) -> CaseState | None:
        with translate_errors():
            async with self._engine.connect() as conn:
                row = (await conn.execute(_CASE_BY_CODE, {"code": code})).first()
        return None if row is None else CaseState(**row._mapping)

    async def by_link(self, token_hash: str) -> tuple[CaseState, str] | None:
        """The case behind a citizen's link, with its procedure name; a link made with a key
        no longer configured (a retired key) finds nothing."""
        if not self._key_ids:
            return None
        params = {"token_hash": token_hash, "key_ids": self._key_ids}
        with translate_errors():
            async with self._engine.connect() as conn:
                row = (await conn.execute(_CASE_BY_LINK, params)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        procedure_name = values.pop("procedure_name")
        return CaseState(**values), procedure_name


async def ping(engine: AsyncEngine) -> None:
    """Raise `StorageUnavailable` unless the database answers a trivial query."""
    with translate_errors():
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))


async def stored_link_key(engine: AsyncEngine) -> str | None:
    """The link key an older version generated into the database, if it is still there."""
    with translate_errors():
        async with engine.connect() as conn:
            found = (
                await conn.execute(
                    select(secrets_t.c.value).where(secrets_t.c.name == LEGACY_LINK_KEY)
                )
            ).scalar()
    return None if found is None else str(found)


async def delete_stored_link_key(engine: AsyncEngine) -> bool:
    """Delete the database copy of the link key; True if there was one."""
    with translate_errors():
        async with engine.begin() as conn:
            result = await conn.execute(
                delete(secrets_t).where(secrets_t.c.name == LEGACY_LINK_KEY)
            )
    return bool(result.rowcount)


async def relink(
    engine: AsyncEngine, case_code: str, *, token_hash: str, key_id: str, retired: str
) -> None:
    """Give a case whose link key was retired a new link under the current key."""
    with translate_errors():
        async with engine.begin() as conn:
            await conn.execute(
                update(cases_t)
                .where(cases_t.c.code == case_code, cases_t.c.link_key_id == retired)
                .values(link_token_hash=token_hash, link_key_id=key_id)
            )
