"""Database engine and schema migrations for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def dialect_insert(engine: AsyncEngine) -> Any:
    """The backend's `insert` (it has `on_conflict_do_nothing` and `on_conflict_do_update`)."""
    return sqlite.insert if is_sqlite(str(engine.url)) else postgresql.insert


def _ensure_sqlite_file(url: str) -> None:
    """Create the database file readable by its owner only before SQLite opens it.

    SQLite gives its -wal and -shm files the database file's mode, so they follow. A file
    left readable by an older version is made private too; a directory we create is 0700.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        # Not ours to change (another owner) or gone meanwhile: SQLite reports what matters.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if companion.stat().st_mode & 0o077:
                companion.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine with the settings each backend needs."""
    if is_sqlite(url):
        _ensure_sqlite_file(url)
        # One connection: SQLite takes one writer at a time, and writers on several connections
        # wait in its busy handler (sleeps of up to 100 ms, unfair), so a webhook's one INSERT
        # could wait seconds behind the workers; on one connection every transaction queues in
        # arrival order on the pool instead (reads are short: they queue too).
        database = make_url(url).database
        if "poolclass" not in kwargs and database and database != ":memory:":
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_async_engine(url, **kwargs)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run from several processes at once."""
    if is_sqlite(url):
        _ensure_sqlite_file(url)
    command.upgrade(alembic_config(url), revision)


async def migrate_async(url: str, revision: str = "head") -> None:
    """Run `migrate` from inside an event loop (Alembic drives its own loop in a thread)."""
    await asyncio.to_thread(migrate, url, revision)
