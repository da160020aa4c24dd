"""Reads of cases for the API, plus the health probe and the service's own secrets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import is_sqlite
from storage.errors import translate_errors
from storage.models import Case, Procedure, ServiceSecret, utcnow

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
    .where(cases_t.c.link_token_hash == bindparam("token_hash"))
)


class CaseReader:
    """Read-side queries over cases."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, code: str) -> CaseState | None:
        with translate_errors():
            async with self._engine.connect() as conn:
                row = (await conn.execute(_CASE_BY_CODE, {"code": code})).first()
        return None if row is None else CaseState(**row._mapping)

    async def by_link(self, token_hash: str) -> tuple[CaseState, str] | None:
        """The case behind a citizen's link, with its procedure name."""
        with translate_errors():
            async with self._engine.connect() as conn:
                row = (await conn.execute(_CASE_BY_LINK, {"token_hash": token_hash})).first()
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


async def service_secret(engine: AsyncEngine, name: str) -> str:
    """Return the service's own secret `name`, generating and storing it on first use."""
    with translate_errors():
        async with engine.begin() as conn:
            found = (
                await conn.execute(select(secrets_t.c.value).where(secrets_t.c.name == name))
            ).scalar()
            if found is not None:
                return str(found)
            value = secrets.token_urlsafe(32)
            if is_sqlite(str(engine.url)):
                from sqlalchemy.dialects.sqlite import insert
            else:
                from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
            await conn.execute(
                insert(secrets_t)
                .values(name=name, value=value, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["name"])
            )
            stored = (
                await conn.execute(select(secrets_t.c.value).where(secrets_t.c.name == name))
            ).scalar_one()
        return str(stored)
