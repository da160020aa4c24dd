"""Statements compiled once from SQLAlchemy Core and run on the raw driver (hot paths).

SQLAlchemy's per-execution work (cache key of a large statement, parameter construction,
pool checkout and reset) costs more than the database round trip on the intake path, so the
hot path compiles its statements once — SQL text, parameter order, bind processors — and hands
them straight to asyncpg or sqlite3.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Compiled:
    """SQL text with positional parameters, ready for the driver."""

    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name in self.names:
            value = params[name] if name in params else self.defaults[name]
            processor = self.processors.get(name)
            values.append(
                processor(value) if processor is not None and value is not None else value
            )
        return values

    def driver_args(self, params: Mapping[str, Any]) -> list[Any]:
        """Parameters already in the driver's types, in order, without bind processors
        (for lists of plain values, where SQLAlchemy's array processor would visit every item)."""
        return [params[name] if name in params else self.defaults[name] for name in self.names]


def compile_statement(statement: ClauseElement, dialect: Dialect) -> Compiled:
    """Compile `statement` for `dialect` once: text, parameter order, literals, processors.

    Each parameter's bind processor is its type's implementation for the dialect (a generic
    `DateTime` has none of its own: on SQLite it is `sqlite.DATETIME`'s, which writes the text
    SQLAlchemy writes, so rows read the same whichever path wrote them)."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    processors: dict[str, Callable[[Any], Any]] = {}
    for name in set(names):
        processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    defaults = {name: compiled.binds[name].value for name in names}
    return Compiled(compiled.string, names, defaults, processors)


def asyncpg_dsn(url: str) -> str:
    """The asyncpg DSN of a SQLAlchemy `postgresql+asyncpg://` URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class StatelessConnection(asyncpg.Connection):
    """A pooled connection that keeps no session state (no SET, LISTEN, cursors or advisory
    locks), so releasing it needs no reset query: one round trip saved per request."""

    def get_reset_query(self) -> str:
        return ""


async def create_pg_pool(url: str, *, min_size: int = 2, max_size: int = 30) -> asyncpg.Pool:
    """A pool for the hot paths' prepared statements.

    Their plans do not depend on the parameters (a batch arrives as one JSON array, whose size
    the planner cannot see anyway), so each connection plans a statement once instead of on
    every execution.
    """
    return await asyncpg.create_pool(
        asyncpg_dsn(url),
        min_size=min_size,
        max_size=max_size,
        statement_cache_size=256,
        connection_class=StatelessConnection,
        server_settings={"plan_cache_mode": "force_generic_plan"},
    )


class SqliteWriter:
    """One SQLite connection on one thread: a whole transaction (or a read outside one, WAL:
    never waiting for a writer) costs one thread hop."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._conn = conn
        return self._conn

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(conn)` in autocommit on the connection's thread."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: work(self._connection())
        )

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(conn)` inside BEGIN IMMEDIATE … COMMIT on the writer thread (ROLLBACK
        and the exception when it raises)."""

        def run() -> T:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)


def fetch_one(
    conn: sqlite3.Connection,
    statement: Compiled,
    params: Mapping[str, Any],
) -> Sequence[Any] | None:
    row: Sequence[Any] | None = conn.execute(statement.sql, statement.args(params)).fetchone()
    return row
