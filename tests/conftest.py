"""Shared fixtures: fresh SQLite and PostgreSQL databases, the app in-process.

PostgreSQL tests run against `SIPAS_TEST_PG_URL` (default: postgres@127.0.0.1:5432). In CI
(`CI=true`) an unreachable server fails the run; locally those tests are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
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
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


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


@pytest.fixture
async def pg_url(pg_admin: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"sipas_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = pg_admin.rsplit("/", 1)[0].split("://", 1)[1]
    yield f"postgresql+asyncpg://{base}/{name}"
    admin = await asyncpg.connect(pg_admin)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """An empty database of each kind the product supports."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/sipas.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    await migrate_async(database_url)
    return database_url


@pytest.fixture
async def client(migrated_url: str) -> AsyncIterator[TestClient]:
    """The whole HTTP service in-process on a migrated database."""
    app = create_app(make_settings(migrated_url))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
