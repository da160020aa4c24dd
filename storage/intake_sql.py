"""The SQL of case intake, built once from the SQLModel tables (SQLAlchemy Core).

- `build_postgres()`: one data-modifying CTE statement for a whole batch of deliveries; the
  inbox insert (ON CONFLICT DO NOTHING on the idempotency key and on the body's SHA-256)
  decides which deliveries are new and reach the other tables.
- `build_sqlite()`: the same inserts as separate statements, run per delivery.

The case's state follows the newest event by event time, and the end of a case and its
timeliness (`timeliness_sql`, domain.md §3) are computed in SQL, so out-of-order deliveries
converge to the same row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement, Grouping
from sqlalchemy.sql.functions import GenericFunction

from storage.intake_records import CaseEventRecord
from storage.models import Agency, Case, CaseContact, CaseEvent, Officer, Procedure

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


def _p(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


Ref = Callable[[str, Any], Any]
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


@dataclass(frozen=True, slots=True)
class _Values:
    """Values of fresh rows, each taken by `ref(name, column)`: a bound parameter named after
    the record's field (SQLite), or that field's column in the batch (PostgreSQL)."""

    event: dict[str, Any]
    agency: dict[str, Any]
    procedure: dict[str, Any]
    officer: dict[str, Any]
    case: dict[str, Any]
    contact: dict[str, Any]


def _values(ref: Ref) -> _Values:
    return _Values(
        event={
            "idempotency_key": ref("idempotency_key", events_t.c.idempotency_key),
            "body_sha256": ref("body_sha256", events_t.c.body_sha256),
            "case_code": ref("case_code", events_t.c.case_code),
            "status": ref("status", events_t.c.status),
            "event_at": ref("event_at", events_t.c.event_at),
            "recorded_at": ref("recorded_at", events_t.c.recorded_at),
            "payload": ref("payload", events_t.c.payload),
        },
        agency={
            "code": ref("agency_code", agencies_t.c.code),
            "name": ref("agency_name", agencies_t.c.name),
            "created_at": ref("recorded_at", agencies_t.c.created_at),
        },
        procedure={
            "code": ref("procedure_code", procedures_t.c.code),
            "name": ref("procedure_name", procedures_t.c.name),
            "field_code": ref("field_code", procedures_t.c.field_code),
            "field_name": ref("field_name", procedures_t.c.field_name),
            "created_at": ref("recorded_at", procedures_t.c.created_at),
        },
        officer={
            "agency_code": ref("agency_code", officers_t.c.agency_code),
            "name": ref("officer_name", officers_t.c.name),
            "created_at": ref("recorded_at", officers_t.c.created_at),
        },
        case={
            "code": ref("case_code", cases_t.c.code),
            **{name: ref(name, cases_t.c[name]) for name in _CASE_FIELDS},
            "timeliness": timeliness_sql(
                ref("ended_at", cases_t.c.ended_at), ref("due_at", cases_t.c.due_at)
            ),
            "state_at": ref("event_at", cases_t.c.state_at),
            "events_count": literal(1),
            "link_token_hash": ref("link_token_hash", cases_t.c.link_token_hash),
            "link_key_id": ref("link_key_id", cases_t.c.link_key_id),
            "link_code_hash": ref("link_code_hash", cases_t.c.link_code_hash),
            "created_at": ref("recorded_at", cases_t.c.created_at),
            "updated_at": ref("recorded_at", cases_t.c.updated_at),
        },
        contact={
            "case_code": ref("case_code", contacts_t.c.case_code),
            "applicant_name": ref("applicant_name", contacts_t.c.applicant_name),
            "phone_hash": ref("phone_hash", contacts_t.c.phone_hash),
            "phone_key_id": ref("phone_key_id", contacts_t.c.phone_key_id),
            "email": ref("email", contacts_t.c.email),
            "phone_sealed": ref("phone_sealed", contacts_t.c.phone_sealed),
            "updated_at": ref("recorded_at", contacts_t.c.updated_at),
        },
    )


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
        "link_key_id": func.coalesce(t.link_key_id, excluded.link_key_id),
        # A case from before link codes gets one, but only under its own kid: a code made with
        # another key would not be the one the answer prints.
        "link_code_hash": func.coalesce(
            t.link_code_hash,
            case(
                (
                    or_(t.link_key_id.is_(None), t.link_key_id == excluded.link_key_id),
                    excluded.link_code_hash,
                ),
                else_=null(),
            ),
        ),
        "updated_at": excluded.updated_at,
    }


_CONTACT_FIELDS = ("applicant_name", "phone_hash", "phone_key_id", "email")


def _sealed_phone(excluded: Any) -> Any:
    """The sealed number (random nonces: each delivery seals it differently) follows the
    phone's hash: kept while a delivery brings no phone or the same one, replaced by one
    bringing another (or the same under a new SIPAS_SECRET_KEY, or when none is kept) — with
    NULL when it came without a contact key, so an old number never outlives its hash."""
    c = contacts_t.c
    return case(
        (excluded.phone_hash.is_(None), c.phone_sealed),
        (
            or_(c.phone_sealed.is_(None), excluded.phone_hash.is_distinct_from(c.phone_hash)),
            excluded.phone_sealed,
        ),
        else_=c.phone_sealed,
    )


def _contact_update_set(excluded: Any) -> dict[str, Any]:
    c = contacts_t.c
    return {name: func.coalesce(excluded[name], c[name]) for name in _CONTACT_FIELDS} | {
        "phone_sealed": _sealed_phone(excluded),
        "updated_at": excluded.updated_at,
    }


def _contact_changes(excluded: Any) -> Any:
    """Rewrite a contact only when the delivery brings something new: most events of a case
    repeat the applicant's details, and each rewrite costs a row version and index entries."""
    c = contacts_t.c
    return or_(
        *(
            and_(excluded[name].is_not(None), excluded[name].is_distinct_from(c[name]))
            for name in _CONTACT_FIELDS
        ),
        and_(excluded.phone_sealed.is_not(None), c.phone_sealed.is_(None)),
    )


def _agency_rename() -> Any:
    """Name an agency created from its code alone once a name arrives (SQLite).

    A plain conditional UPDATE, apart from the insert: it locks the agency row only when it
    renames it. (An upsert's DO UPDATE … WHERE locks the row on every delivery, which
    serialised all deliveries of one agency.)
    """
    name = _p("agency_name", agencies_t.c.name)
    code = _p("agency_code", agencies_t.c.code)
    return (
        update(agencies_t)
        .where(agencies_t.c.code == code, agencies_t.c.name == agencies_t.c.code, name != code)
        .values(name=name)
    )


# The batch's columns: every record field a statement reads, plus the row's position.
def _batch_columns() -> dict[str, Any]:
    """Every field a batch carries, with the type of the column it is written to."""
    targets = {
        "case_code": cases_t.c.code,
        "idempotency_key": events_t.c.idempotency_key,
        "body_sha256": events_t.c.body_sha256,
        "agency_name": agencies_t.c.name,
        "procedure_name": procedures_t.c.name,
        "field_code": procedures_t.c.field_code,
        "field_name": procedures_t.c.field_name,
        "event_at": events_t.c.event_at,
        "recorded_at": events_t.c.recorded_at,
        "payload": events_t.c.payload,
        "applicant_name": contacts_t.c.applicant_name,
        "phone_hash": contacts_t.c.phone_hash,
        "phone_key_id": contacts_t.c.phone_key_id,
        "phone_sealed": contacts_t.c.phone_sealed,
        "email": contacts_t.c.email,
    }
    # The record's `phone` travels as `phone_sealed` (storage/intake.py `_params`).
    names = [f.name for f in fields(CaseEventRecord) if f.name != "phone"]
    names += ["end_event_at", "ended_at", "due_at", "phone_sealed"]
    columns = {name: targets.get(name, cases_t.c.get(name)).type for name in names}
    # Unbounded strings: a cast to VARCHAR(n) would silently cut an over-long value, while a
    # column refuses it.
    columns = {
        name: String() if isinstance(getattr(type_, "impl_instance", type_), String) else type_
        for name, type_ in columns.items()
    }
    columns["payload"] = Text()  # JSON text, cast where it is stored (see below)
    return columns | {"has_officer": Boolean(), "has_contact": Boolean()}


_BATCH_COLUMNS = _batch_columns()


def build_postgres() -> Any:
    """One statement for a batch of deliveries with distinct keys and distinct cases.

    The batch arrives as one JSON array of rows (`json_to_recordset`), so a batch of any size
    is the same prepared statement. The inbox insert decides
    (ON CONFLICT DO NOTHING) which deliveries are new; only those reach the other tables. Rows
    are written in key order, so two batches running at once take their row locks in the same
    order. Each input row comes back with its event id (NULL for a repeated delivery), the
    case's new status and its status before.
    """
    pg = postgresql
    row_columns = [
        column(name, type_) for name, type_ in _BATCH_COLUMNS.items() if name != "payload"
    ]
    rows = (
        func.json_to_recordset(cast(bindparam("batch", type_=Text()), JSON()))
        .table_valued(column("i", Integer()), *row_columns)
        .render_derived(name="batch", with_types=True)
    )
    src = select(rows).cte("src")
    # Payloads travel apart, as JSON texts, and become json only when stored: json_to_recordset
    # would decode their strings, and PostgreSQL text cannot hold the NUL that a `\u0000`
    # escape stands for, while a json column keeps the text as sent.
    payloads = Grouping(bindparam("payloads", type_=postgresql.ARRAY(Text())))
    payload = cast(payloads[src.c.i], JSON())

    def ref(name: str, _column: Any) -> Any:
        return payload if name == "payload" else src.c[name]

    v = _values(ref)

    def select_from(values: dict[str, Any], source: Any, *where: Any) -> Any:
        return select(*[value.label(key) for key, value in values.items()]).select_from(source)

    ev = (
        pg.insert(events_t)
        .from_select(list(v.event), select_from(v.event, src).order_by(src.c.i))
        # No conflict target: a known key and a known body (a replay under a new key) are
        # both repeats.
        .on_conflict_do_nothing()
        .returning(events_t.c.id, events_t.c.idempotency_key)
        .cte("ev")
    )
    fresh = src.join(ev, ev.c.idempotency_key == src.c.idempotency_key)

    def insert_new(table: Any, values: dict[str, Any], order: Any, *where: Any) -> Any:
        query = select_from(values, fresh).where(*where).order_by(*order)
        if table is not cases_t and table is not contacts_t:
            query = query.ext(postgresql.distinct_on(*order))
        return pg.insert(table).from_select(list(values), query)

    ag = (
        insert_new(agencies_t, v.agency, [src.c.agency_code])
        .on_conflict_do_nothing(index_elements=["code"])
        .cte("ag")
    )
    named = (
        select(src.c.agency_code, src.c.agency_name)
        .select_from(fresh)
        .where(src.c.agency_name != src.c.agency_code)
        .ext(postgresql.distinct_on(src.c.agency_code))
        .order_by(src.c.agency_code, src.c.i.desc())
        .subquery("named")
    )
    rename = (
        update(agencies_t)
        .where(
            agencies_t.c.code == named.c.agency_code,
            agencies_t.c.name == agencies_t.c.code,
        )
        .values(name=named.c.agency_name)
        .cte("rename")
    )
    pr = (
        insert_new(procedures_t, v.procedure, [src.c.procedure_code])
        .on_conflict_do_nothing(index_elements=["code"])
        .cte("pr")
    )
    off = (
        insert_new(
            officers_t, v.officer, [src.c.agency_code, src.c.officer_name], src.c.has_officer
        )
        .on_conflict_do_nothing(index_elements=["agency_code", "name"])
        .cte("off")
    )
    cs_stmt = insert_new(cases_t, v.case, [src.c.case_code])
    cs = (
        cs_stmt.on_conflict_do_update(
            index_elements=["code"], set_=_case_update_set(cs_stmt.excluded)
        )
        .returning(cases_t.c.code, cases_t.c.status)
        .cte("cs")
    )
    ct_stmt = insert_new(contacts_t, v.contact, [src.c.case_code], src.c.has_contact)
    ct = ct_stmt.on_conflict_do_update(
        index_elements=["case_code"],
        set_=_contact_update_set(ct_stmt.excluded),
        where=_contact_changes(ct_stmt.excluded),
    ).cte("ct")
    # A correlated lookup, so the case is found by its key whatever the planner guesses of
    # the batch's size (a join let it scan the whole table).
    prior = select(cases_t.c.status).where(cases_t.c.code == src.c.case_code).scalar_subquery()
    prior_key = (
        select(cases_t.c.link_key_id).where(cases_t.c.code == src.c.case_code).scalar_subquery()
    )
    return (
        select(
            src.c.i,
            ev.c.id.label("event_id"),
            cs.c.status.label("status"),
            prior.label("prior_status"),
            prior_key.label("prior_key_id"),
        )
        .select_from(
            src.outerjoin(ev, ev.c.idempotency_key == src.c.idempotency_key).outerjoin(
                cs, cs.c.code == src.c.case_code
            )
        )
        .order_by(src.c.i)
        .add_cte(ev, ag, rename, pr, off, cs, ct)
    )


def build_sqlite() -> dict[str, Any]:
    lite = sqlite
    v = _values(_p)
    ag = lite.insert(agencies_t).values(v.agency)
    cs = lite.insert(cases_t).values(v.case)
    ct = lite.insert(contacts_t).values(v.contact)
    return {
        "event": lite.insert(events_t)
        .values(v.event)
        .on_conflict_do_nothing()  # a known key or a known body: a repeat
        .returning(events_t.c.id),
        "prior": select(cases_t.c.status, cases_t.c.link_key_id).where(
            cases_t.c.code == bindparam("case_code")
        ),
        "agency": ag.on_conflict_do_nothing(index_elements=["code"]),
        "rename": _agency_rename(),
        "procedure": lite.insert(procedures_t)
        .values(v.procedure)
        .on_conflict_do_nothing(index_elements=["code"]),
        "officer": lite.insert(officers_t)
        .values(v.officer)
        .on_conflict_do_nothing(index_elements=["agency_code", "name"]),
        "case": cs.on_conflict_do_update(
            index_elements=["code"], set_=_case_update_set(cs.excluded)
        ).returning(cases_t.c.status, cases_t.c.link_key_id),
        "contact": ct.on_conflict_do_update(
            index_elements=["case_code"], set_=_contact_update_set(ct.excluded)
        ),
    }


__all__ = ["build_postgres", "build_sqlite", "local_date", "timeliness_sql"]
