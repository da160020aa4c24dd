"""Case intake: store a delivery in the inbox once and fold it into the case's current state.

Hot path. The statements (`storage.intake_sql`) are compiled once and run on the raw driver.
Deliveries that arrive while the database is busy are grouped (`storage.batching.GroupCommit`):
- PostgreSQL: one data-modifying CTE statement in autocommit for the whole group, so a group
  costs one round trip and one commit.
- SQLite: the same inserts per delivery, the whole group in one writer transaction.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.batching import GroupCommit
from storage.db import is_sqlite
from storage.errors import StorageUnavailable, translate_errors
from storage.intake_records import END_STATUSES, CaseEventRecord, IntakeOutcome
from storage.intake_sql import build_postgres, build_sqlite
from storage.rawsql import SqliteWriter, compile_statement, create_pg_pool, fetch_one

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
    # The record's `phone` is the number sealed with SIPAS_CONTACT_KEY (bot/contacts.py).
    params["phone_sealed"] = params.pop("phone")
    return params


_DATETIME_FIELDS = (
    *(f.name for f in fields(CaseEventRecord) if "datetime" in str(f.type)),
    "end_event_at",
    "ended_at",
    "due_at",
)


def _batch_arguments(batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The batch as the statement reads it: the rows as one JSON array (dates as ISO 8601
    text; measured here, one JSON text costs the service half of what asyncpg spends encoding
    the same rows as one array per field) and the payloads as an array of JSON texts."""
    rows = []
    payloads = []
    for position, params in enumerate(batch, start=1):
        payloads.append(json.dumps(params["payload"]))
        # A missing key reads as NULL, so empty fields are left out (a third of the text).
        # A new dict: a failed batch is retried from the same params.
        row = {name: value for name, value in params.items() if value is not None}
        del row["payload"]
        for name in _DATETIME_FIELDS:
            if name in row:
                row[name] = row[name].isoformat()
        row["i"] = position
        rows.append(row)
    return {"batch": json.dumps(rows), "payloads": payloads}


def _batch_keys(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """What may not repeat within one statement: the delivery's key, its body and its case
    (an identical body names the same case, so the body is listed for clarity, not need)."""
    return (
        ("key", params["idempotency_key"]),
        ("body", params["body_sha256"]),
        ("case", params["case_code"]),
    )


_RELINK_CODE_PG = "UPDATE cases SET link_code_hash = $1 WHERE code = $2 AND link_key_id = $3"
_RELINK_CODE_LITE = "UPDATE cases SET link_code_hash = ? WHERE code = ? AND link_key_id = ?"


class IntakeStore:
    """Writes deliveries. Statements are compiled once and run on the raw driver:
    a pooled asyncpg connection (one round trip) or the SQLite writer thread (one hop).
    """

    def __init__(self, engine: AsyncEngine, *, max_batch: int = 64, max_inflight: int = 1) -> None:
        # One batch at a time: on two cores it was as fast as two, and a process then commits
        # its inbox rows in id order, so the survey loop reading behind its cursor does not
        # pass over an event of this process whose transaction is still open.
        self._url = str(engine.url.render_as_string(hide_password=False))
        self._sqlite = is_sqlite(self._url)
        self._pool: asyncpg.Pool | None = None
        self._writer: SqliteWriter | None = None
        if self._sqlite:
            dialect = engine.dialect
            self._lite = {
                name: compile_statement(stmt, dialect) for name, stmt in build_sqlite().items()
            }
            self._writer = SqliteWriter(make_url(self._url).database or "")
            run_batch = self._record_sqlite_batch
        else:
            self._pg = compile_statement(build_postgres(), engine.dialect)
            self._pool_lock = asyncio.Lock()
            run_batch = self._record_batch
        self._batches: GroupCommit[dict[str, Any], IntakeOutcome] = GroupCommit(
            run_batch, keys=_batch_keys, max_batch=max_batch, max_inflight=max_inflight
        )

    async def close(self) -> None:
        await self._batches.drain()
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
            return await self._batches.submit(params)

    async def relink_code(self, case_code: str, code_hash: str, key_id: str) -> None:
        """Store a case's new link code once its link moved to `key_id` (its key was retired,
        `storage.cases.relink`): the old code, made with the retired key, stops working. A
        rare path, apart from the batch."""
        with translate_errors():
            if self._writer is not None:
                await self._writer.transaction(
                    lambda conn: conn.execute(_RELINK_CODE_LITE, (code_hash, case_code, key_id))
                )
                return
            pool = await self._pg_pool()
            async with pool.acquire() as conn:
                await conn.execute(_RELINK_CODE_PG, code_hash, case_code, key_id)

    async def _record_sqlite_batch(self, batch: Sequence[dict[str, Any]]) -> list[IntakeOutcome]:
        """Run one batch in one writer transaction: one thread hop and one commit for all."""
        assert self._writer is not None
        with translate_errors():
            return await self._writer.transaction(
                lambda conn: [self._record_sqlite(conn, params) for params in batch]
            )

    async def _record_batch(self, batch: Sequence[dict[str, Any]]) -> list[IntakeOutcome]:
        """Run one batch (distinct keys and cases) as one statement in one transaction."""
        arguments = self._pg.driver_args(_batch_arguments(batch))
        with translate_errors():
            pool = await self._pg_pool()
            async with pool.acquire() as conn:
                rows = await conn.fetch(self._pg.sql, *arguments)
        outcomes = []
        for params, row in zip(batch, rows, strict=True):
            event_id, status, prior = row["event_id"], row["status"], row["prior_status"]
            if event_id is None:
                outcomes.append(
                    IntakeOutcome(
                        created=False,
                        status=prior if prior is not None else params["status"],
                        link_key_id=row["prior_key_id"],
                    )
                )
            else:
                outcomes.append(
                    IntakeOutcome(created=True, status=status, link_key_id=row["prior_key_id"])
                )
        return outcomes

    def _record_sqlite(self, conn: sqlite3.Connection, params: dict[str, Any]) -> IntakeOutcome:
        lite = self._lite
        if fetch_one(conn, lite["event"], params) is None:
            prior = fetch_one(conn, lite["prior"], params)
            if prior is None:
                return IntakeOutcome(created=False, status=params["status"])
            return IntakeOutcome(created=False, status=prior[0], link_key_id=prior[1])
        for name in ("agency", "rename", "procedure"):
            conn.execute(lite[name].sql, lite[name].args(params))
        if params["has_officer"]:
            conn.execute(lite["officer"].sql, lite["officer"].args(params))
        current = fetch_one(conn, lite["case"], params)
        assert current is not None
        if params["has_contact"]:
            conn.execute(lite["contact"].sql, lite["contact"].args(params))
        return IntakeOutcome(created=True, status=int(current[0]), link_key_id=current[1])


__all__ = ["IntakeStore", "StorageUnavailable"]
