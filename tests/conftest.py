"""Shared fixtures: SQLite and PostgreSQL databases (empty, or migrated by cloning a template
made once per run), and the app in-process.

Migrating takes a quarter of a second per database, so it runs once per test run and backend:
a migrated SQLite file that each test copies, and a migrated PostgreSQL database that each test
clones with `CREATE DATABASE … TEMPLATE …`. Tests about migrating use `database_url`, which
stays truly empty. With pytest-xdist every worker makes its own templates.

PostgreSQL tests run against `SIPAS_TEST_PG_URL` (default: postgres@127.0.0.1:5432). In CI
(`CI=true`) an unreachable server fails the run; locally those tests are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import Settings
from storage.db import migrate_async
from tests.support import API_TOKEN, SECRET

PG_ADMIN_URL = os.environ.get("SIPAS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DATABASE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# SQLite keeps a migrated database in these files (WAL mode); a clone copies each that exists.
SQLITE_FILES = ("sipas.db", "sipas.db-wal", "sipas.db-shm")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for tests: never read a developer's `.env`."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "onestop_secrets": [SECRET],
        "api_token": API_TOKEN,
        "secret_key": "test-link-key",
        "log_format": "text",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory}/{SQLITE_FILES[0]}"


def pg_database_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy URL of database `name` on the admin URL's server."""
    base = admin_url.rsplit("/", 1)[0].split("://", 1)[1]
    return f"postgresql+asyncpg://{base}/{name}"


async def _pg_admin_execute(admin_url: str, statement: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def _pg_create(admin_url: str, *, template: str | None = None) -> str:
    """A new database (a copy of `template` when given); its name."""
    name = f"sipas_t_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    await _pg_admin_execute(admin_url, f'CREATE DATABASE "{name}"{clause}')
    return name


async def _pg_drop(admin_url: str, name: str) -> None:
    await _pg_admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    """The PostgreSQL admin URL, once the server is known to answer."""

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI requires the PostgreSQL tests)")
        pytest.skip(message)
    yield PG_ADMIN_URL


@pytest.fixture(scope="session")
def pg_template(pg_admin: str) -> Iterator[str]:
    """The name of a PostgreSQL database migrated to head once per run, to clone per test.

    Nothing stays connected to it (a template must be idle to be copied)."""
    name = asyncio.run(_pg_create(pg_admin))
    try:
        asyncio.run(migrate_async(pg_database_url(pg_admin, name)))
        yield name
    finally:
        asyncio.run(_pg_drop(pg_admin, name))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a SQLite database migrated to head once per run, to copy per test."""
    directory = tmp_path_factory.mktemp("sqlite-template")
    asyncio.run(migrate_async(sqlite_url(directory)))
    return directory


@pytest.fixture
async def pg_url(pg_admin: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = await _pg_create(pg_admin)
    yield pg_database_url(pg_admin, name)
    await _pg_drop(pg_admin, name)


@pytest.fixture
async def pg_migrated_url(pg_admin: str, pg_template: str) -> AsyncIterator[str]:
    """A PostgreSQL database at the head revision (a clone of the template), dropped afterwards."""
    name = await _pg_create(pg_admin, template=pg_template)
    yield pg_database_url(pg_admin, name)
    await _pg_drop(pg_admin, name)


@pytest.fixture(params=DATABASE_KINDS)
def database_kind(request: pytest.FixtureRequest) -> str:
    """Each kind of database the product supports: "sqlite", "postgres"."""
    return str(request.param)


@pytest.fixture
def empty_database_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind, never cloned: for tests about migrating."""
    if database_kind == "sqlite":
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """An empty database of each kind the product supports (tests/e2e overrides it with a
    migrated one: the real process migrates at start anyway)."""
    return empty_database_url


@pytest.fixture
def migrated_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each kind at the head revision, cloned from the run's template."""
    if database_kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        for name in SQLITE_FILES:
            if (template / name).exists():
                shutil.copyfile(template / name, tmp_path / name)
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("pg_migrated_url"))


@pytest.fixture
async def client(migrated_url: str) -> AsyncIterator[TestClient]:
    """The whole HTTP service in-process on a migrated database."""
    app = create_app(make_settings(migrated_url))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
