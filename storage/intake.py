"""Case intake: store a delivery in the inbox once and fold it into the case's current state.

Hot path. Statements are built once from the SQLModel tables (SQLAlchemy Core):
- PostgreSQL: one data-modifying CTE statement in autocommit, so a delivery costs one round trip;
  the inbox insert decides (ON CONFLICT DO NOTHING) whether the rest runs at all.
- SQLite: the same inserts in one short transaction, writes serialised in-process.

The case's state follows the newest event by event time; an older event enters the history
(and `events_count`) but does not move the state. The end of a case (first end-status event) and
the timeliness derived from the promised and end dates are computed in SQL, so out-of-order
deliveries converge to the same row whatever their arrival order.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    Boolean,
    Date,
    bindparam,
    case,
    exists,
    func,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import GenericFunction

from storage.db import is_sqlite
from storage.errors import StorageUnavailable, translate_errors
from storage.models import Agency, Case, CaseContact, CaseEvent, Officer, Procedure
from storage.rawsql import SqliteWriter, compile_statement, create_pg_pool, fetch_one

# Statuses that end a case for timeliness (domain.md §3): refused, stopped, finished, returned,
# plus withdrawn (7), which stops the clock like a stop.
END_STATUSES = frozenset({3, 7, 8, 9, 10})

events_t = CaseEvent.__table__  # type: ignore[attr-defined]
agencies_t = Agency.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]
officers_t = Officer.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
contacts_t = CaseContact.__table__  # type: ignore[attr-defined]


class local_date(GenericFunction[Any]):
    """Calendar date of a naive local timestamp."""

    type = Date()
    inherit_cache = True


@compiles(local_date)
def _local_date_default(element: local_date, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


def timeliness_sql(ended: ColumnElement[Any], due: ColumnElement[Any]) -> ColumnElement[Any]:
    """domain.md §3 in SQL: early / on_time / late for ended cases, NULL while open."""
    return case(
        (ended.is_(None), null()),
        (due.is_(None), literal("on_time")),
        (local_date(ended) < local_date(due), literal("early")),
        (local_date(ended) == local_date(due), literal("on_time")),
        else_=literal("late"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseEventRecord:
    """A validated delivery, ready to store. Dates are naive local times."""

    idempotency_key: str
    case_code: str
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    field_code: str | None
    field_name: str | None
    officer_name: str | None
    processing_unit: str | None
    channel: int | None
    applicant_type: int | None
    status: int
    received_at: datetime
    promised_at: datetime | None
    promised_new_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    event_at: datetime
    applicant_name: str | None
    phone_hash: str | None
    phone: str | None
    email: str | None
    link_token_hash: str
    payload: dict[str, Any]
    recorded_at: datetime

    @property
    def has_contact(self) -> bool:
        return any((self.applicant_name, self.phone_hash, self.phone, self.email))


@dataclass(frozen=True, slots=True)
class IntakeOutcome:
    """What a delivery did: `created` is False for a repeated delivery."""

    created: bool
    status: int


_RECORD_FIELDS = tuple(f.name for f in fields(CaseEventRecord))


def _params(record: CaseEventRecord) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies the payload, which is slow and recursion-bound.
    params = {name: getattr(record, name) for name in _RECORD_FIELDS}
    is_end = record.status in END_STATUSES
    params["end_event_at"] = record.event_at if is_end else None
    params["ended_at"] = (
        (record.finished_at or record.returned_at or record.event_at) if is_end else None
    )
    params["due_at"] = record.promised_new_at or record.promised_at
    params["has_officer"] = record.officer_name is not None
    params["has_contact"] = record.has_contact
    return params


def _p(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


# Values of a fresh row, as bound parameters named after the record's fields.
_EVENT_VALUES = {
    "idempotency_key": _p("idempotency_key", events_t.c.idempotency_key),
    "case_code": _p("case_code", events_t.c.case_code),
    "status": _p("status", events_t.c.status),
    "event_at": _p("event_at", events_t.c.event_at),
    "recorded_at": _p("recorded_at", events_t.c.recorded_at),
    "payload": _p("payload", events_t.c.payload),
}
_AGENCY_VALUES = {
    "code": _p("agency_code", agencies_t.c.code),
    "name": _p("agency_name", agencies_t.c.name),
    "created_at": _p("recorded_at", agencies_t.c.created_at),
}
_PROCEDURE_VALUES = {
    "code": _p("procedure_code", procedures_t.c.code),
    "name": _p("procedure_name", procedures_t.c.name),
    "field_code": _p("field_code", procedures_t.c.field_code),
    "field_name": _p("field_name", procedures_t.c.field_name),
    "created_at": _p("recorded_at", procedures_t.c.created_at),
}
_OFFICER_VALUES = {
    "agency_code": _p("agency_code", officers_t.c.agency_code),
    "name": _p("officer_name", officers_t.c.name),
    "created_at": _p("recorded_at", officers_t.c.created_at),
}
_CASE_FIELDS = (
    "agency_code",
    "procedure_code",
    "officer_name",
    "processing_unit",
    "channel",
    "applicant_type",
    "status",
    "received_at",
    "promised_at",
    "promised_new_at",
    "due_at",
    "finished_at",
    "returned_at",
    "end_event_at",
    "ended_at",
)
_CASE_VALUES: dict[str, Any] = {
    "code": _p("case_code", cases_t.c.code),
    **{name: _p(name, cases_t.c[name]) for name in _CASE_FIELDS},
    "timeliness": timeliness_sql(
        _p("ended_at", cases_t.c.ended_at), _p("due_at", cases_t.c.due_at)
    ),
    "state_at": _p("event_at", cases_t.c.state_at),
    "events_count": literal(1),
    "link_token_hash": _p("link_token_hash", cases_t.c.link_token_hash),
    "created_at": _p("recorded_at", cases_t.c.created_at),
    "updated_at": _p("recorded_at", cases_t.c.updated_at),
}
_CONTACT_VALUES = {
    "case_code": _p("case_code", contacts_t.c.case_code),
    "applicant_name": _p("applicant_name", contacts_t.c.applicant_name),
    "phone_hash": _p("phone_hash", contacts_t.c.phone_hash),
    "phone": _p("phone", contacts_t.c.phone),
    "email": _p("email", contacts_t.c.email),
    "updated_at": _p("recorded_at", contacts_t.c.updated_at),
}


_DERIVED = frozenset({"status", "due_at", "end_event_at", "ended_at"})


def _case_update_set(excluded: Any) -> dict[str, Any]:
    """ON CONFLICT SET for cases: newer events move the state, every event counts."""
    t = cases_t.c
    newer = excluded.state_at >= t.state_at

    def keep_or_take(name: str) -> Any:
        return case((newer, func.coalesce(excluded[name], t[name])), else_=t[name])

    taken = {name: keep_or_take(name) for name in _CASE_FIELDS if name not in _DERIVED}
    taken["status"] = case((newer, excluded.status), else_=t.status)
    end_event = case(
        (excluded.end_event_at.is_(None), t.end_event_at),
        (t.end_event_at.is_(None), excluded.end_event_at),
        (excluded.end_event_at < t.end_event_at, excluded.end_event_at),
        else_=t.end_event_at,
    )
    due = func.coalesce(taken["promised_new_at"], taken["promised_at"])
    ended = case(
        (end_event.is_(None), null()),
        else_=func.coalesce(taken["finished_at"], taken["returned_at"], end_event),
    )
    return {
        **taken,
        "due_at": due,
        "end_event_at": end_event,
        "ended_at": ended,
        "timeliness": timeliness_sql(ended, due),
        "state_at": case((newer, excluded.state_at), else_=t.state_at),
        "events_count": t.events_count + 1,
        "link_token_hash": func.coalesce(t.link_token_hash, excluded.link_token_hash),
        "updated_at": excluded.updated_at,
    }


def _contact_update_set(excluded: Any) -> dict[str, Any]:
    c = contacts_t.c
    return {
        name: func.coalesce(excluded[name], c[name])
        for name in ("applicant_name", "phone_hash", "phone", "email")
    } | {"updated_at": excluded.updated_at}


def _agency_rename(*where: Any) -> Any:
    """Name an agency created from its code alone once a name arrives.

    A plain conditional UPDATE, apart from the insert: it locks the agency row only when it
    renames it. (An upsert's DO UPDATE … WHERE locks the row on every delivery, which
    serialised all deliveries of one agency.)
    """
    name = _p("agency_name", agencies_t.c.name)
    code = _p("agency_code", agencies_t.c.code)
    return (
        update(agencies_t)
        .where(
            agencies_t.c.code == code, agencies_t.c.name == agencies_t.c.code, name != code, *where
        )
        .values(name=name)
    )


def _build_postgres() -> Any:
    pg = postgresql
    ev = (
        pg.insert(events_t)
        .values(_EVENT_VALUES)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(events_t.c.id)
        .cte("ev")
    )
    fresh = exists(select(ev.c.id))

    def from_select(table: Any, values: dict[str, Any], *where: Any) -> Any:
        return pg.insert(table).from_select(
            list(values), select(*[v.label(k) for k, v in values.items()]).where(fresh, *where)
        )

    ag = (
        from_select(agencies_t, _AGENCY_VALUES)
        .on_conflict_do_nothing(index_elements=["code"])
        .cte("ag")
    )
    rename = _agency_rename(fresh).cte("rename")
    pr = (
        from_select(procedures_t, _PROCEDURE_VALUES)
        .on_conflict_do_nothing(index_elements=["code"])
        .cte("pr")
    )
    off = (
        from_select(officers_t, _OFFICER_VALUES, bindparam("has_officer", type_=Boolean))
        .on_conflict_do_nothing(index_elements=["agency_code", "name"])
        .cte("off")
    )
    cs_stmt = from_select(cases_t, _CASE_VALUES)
    cs = (
        cs_stmt.on_conflict_do_update(
            index_elements=["code"], set_=_case_update_set(cs_stmt.excluded)
        )
        .returning(cases_t.c.status)
        .cte("cs")
    )
    ct_stmt = from_select(contacts_t, _CONTACT_VALUES, bindparam("has_contact", type_=Boolean))
    ct = ct_stmt.on_conflict_do_update(
        index_elements=["case_code"], set_=_contact_update_set(ct_stmt.excluded)
    ).cte("ct")
    prior = select(cases_t.c.status).where(cases_t.c.code == bindparam("case_code"))
    return select(
        select(ev.c.id).scalar_subquery().label("event_id"),
        select(cs.c.status).scalar_subquery().label("status"),
        prior.scalar_subquery().label("prior_status"),
    ).add_cte(ev, ag, rename, pr, off, cs, ct)


def _build_sqlite() -> dict[str, Any]:
    lite = sqlite
    ag = lite.insert(agencies_t).values(_AGENCY_VALUES)
    cs = lite.insert(cases_t).values(_CASE_VALUES)
    ct = lite.insert(contacts_t).values(_CONTACT_VALUES)
    return {
        "event": lite.insert(events_t)
        .values(_EVENT_VALUES)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(events_t.c.id),
        "prior": select(cases_t.c.status).where(cases_t.c.code == bindparam("case_code")),
        "agency": ag.on_conflict_do_nothing(index_elements=["code"]),
        "rename": _agency_rename(),
        "procedure": lite.insert(procedures_t)
        .values(_PROCEDURE_VALUES)
        .on_conflict_do_nothing(index_elements=["code"]),
        "officer": lite.insert(officers_t)
        .values(_OFFICER_VALUES)
        .on_conflict_do_nothing(index_elements=["agency_code", "name"]),
        "case": cs.on_conflict_do_update(
            index_elements=["code"], set_=_case_update_set(cs.excluded)
        ).returning(cases_t.c.status),
        "contact": ct.on_conflict_do_update(
            index_elements=["case_code"], set_=_contact_update_set(ct.excluded)
        ),
    }


class IntakeStore:
    """Writes deliveries. Statements are compiled once and run on the raw driver:
    a pooled asyncpg connection (one round trip) or the SQLite writer thread (one hop).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._url = str(engine.url.render_as_string(hide_password=False))
        self._sqlite = is_sqlite(self._url)
        self._pool: asyncpg.Pool | None = None
        self._writer: SqliteWriter | None = None
        if self._sqlite:
            dialect = engine.dialect
            self._lite = {
                name: compile_statement(stmt, dialect) for name, stmt in _build_sqlite().items()
            }
            self._writer = SqliteWriter(make_url(self._url).database or "")
        else:
            self._pg = compile_statement(_build_postgres(), engine.dialect)
            self._pool_lock = asyncio.Lock()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._writer is not None:
            await self._writer.close()

    async def _pg_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await create_pg_pool(self._url)
        return self._pool

    async def record(self, record: CaseEventRecord) -> IntakeOutcome:
        """Store the delivery once; return whether it was new and the case's status."""
        params = _params(record)
        with translate_errors():
            if self._writer is not None:
                return await self._writer.transaction(
                    lambda conn: self._record_sqlite(conn, params, record.status)
                )
            pool = await self._pg_pool()
            async with pool.acquire() as conn:
                row = await conn.fetchrow(self._pg.sql, *self._pg.args(params))
        assert row is not None
        event_id, status, prior = row["event_id"], row["status"], row["prior_status"]
        if event_id is None:
            return IntakeOutcome(
                created=False, status=prior if prior is not None else record.status
            )
        return IntakeOutcome(created=True, status=status)

    def _record_sqlite(
        self, conn: sqlite3.Connection, params: dict[str, Any], status: int
    ) -> IntakeOutcome:
        lite = self._lite
        if fetch_one(conn, lite["event"], params) is None:
            prior = fetch_one(conn, lite["prior"], params)
            return IntakeOutcome(created=False, status=prior[0] if prior else status)
        for name in ("agency", "rename", "procedure"):
            conn.execute(lite[name].sql, lite[name].args(params))
        if params["has_officer"]:
            conn.execute(lite["officer"].sql, lite["officer"].args(params))
        current = fetch_one(conn, lite["case"], params)
        assert current is not None
        if params["has_contact"]:
            conn.execute(lite["contact"].sql, lite["contact"].args(params))
        return IntakeOutcome(created=True, status=int(current[0]))


__all__ = [
    "END_STATUSES",
    "CaseEventRecord",
    "IntakeOutcome",
    "IntakeStore",
    "StorageUnavailable",
    "timeliness_sql",
]
