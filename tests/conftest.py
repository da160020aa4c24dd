"""Shared fixtures: SQLite and PostgreSQL databases (empty, or migrated by cloning a template
made once per run), and the app in-process.

Migrating takes a quarter of a second per database, so it runs once per test run and backend:
a migrated SQLite file that each test copies, and a migrated PostgreSQL database cloned with
`CREATE DATABASE … TEMPLATE …`. Cloning (and dropping) costs a third of a second on a busy
machine, so each worker keeps its clones in a pool (`PgPool`): after a test its clone is reset
to exactly the template's state (other sessions ended, every table the test wrote or whose
sequence it advanced truncated with `RESTART IDENTITY`) and handed to a later test — unless
its schema, its `alembic_version` or its settings no longer match the template's, then it is
dropped. Tests about migrating use `database_url`, which stays truly empty (a new database
each time). With pytest-xdist every worker makes its own templates and pool.

PostgreSQL tests run against `SIPAS_TEST_PG_URL` (default: postgres@127.0.0.1:5432). In CI
(`CI=true`) an unreachable server fails the run; locally those tests are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
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


# What must stay as the template made it for a clone to be reused: every relation of the
# database's own schemas with its columns, constraints, indexes, triggers, rules and policies;
# functions, types, extensions, schemas; the migration revision; the database's own settings.
_PG_FINGERPRINT = """SELECT md5(concat_ws('|',
  (SELECT string_agg(format('%s.%s:%s:%s:%s', n.nspname, c.relname, c.relkind, c.relpersistence,
          c.reloptions), ',' ORDER BY n.nspname, c.relname)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      AND n.nspname NOT LIKE 'pg_temp%'),
  (SELECT string_agg(format('%s.%s:%s:%s:%s:%s:%s', a.attrelid::regclass, a.attname, a.attnum,
          format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attisdropped,
          pg_get_expr(d.adbin, d.adrelid)), ',' ORDER BY a.attrelid::regclass::text, a.attnum)
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      AND n.nspname NOT LIKE 'pg_temp%' AND a.attnum > 0),
  (SELECT string_agg(format('%s:%s:%s', conrelid::regclass, conname, pg_get_constraintdef(oid)),
          ',' ORDER BY conrelid::regclass::text, conname)
     FROM pg_constraint WHERE connamespace NOT IN ('pg_catalog'::regnamespace,
          'information_schema'::regnamespace)),
  (SELECT string_agg(pg_get_indexdef(indexrelid), ',' ORDER BY indexrelid::regclass::text)
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%'),
  (SELECT string_agg(format('%s:%s:%s', tgrelid::regclass, tgname, tgenabled), ','
          ORDER BY tgrelid::regclass::text, tgname) FROM pg_trigger),
  (SELECT string_agg(format('%s:%s', ev_class::regclass, rulename), ','
          ORDER BY ev_class::regclass::text, rulename) FROM pg_rewrite
    WHERE ev_class >= 16384),
  (SELECT string_agg(format('%s:%s', polrelid::regclass, polname), ','
          ORDER BY polrelid::regclass::text, polname) FROM pg_policy),
  (SELECT string_agg(format('%s:%s', p.oid::regprocedure, md5(p.prosrc)), ','
          ORDER BY p.oid::regprocedure::text) FROM pg_proc p WHERE p.oid >= 16384),
  (SELECT string_agg(format('%s.%s', typnamespace::regnamespace, typname), ','
          ORDER BY typnamespace::regnamespace::text, typname) FROM pg_type WHERE oid >= 16384),
  (SELECT string_agg(extname || extversion, ',' ORDER BY extname) FROM pg_extension),
  (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace
    WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'),
  (SELECT string_agg(array_to_string(setconfig, ';'), ',' ORDER BY setrole)
     FROM pg_db_role_setting WHERE setdatabase =
          (SELECT oid FROM pg_database WHERE datname = current_database())),
  (SELECT string_agg(version_num, ',' ORDER BY version_num) FROM public.alembic_version)
))"""


# Ends every other session on the current database; how many there were.
_PG_END_OTHER_SESSIONS = (
    "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


class PgPool:
    """One worker's migrated PostgreSQL databases, each a clone of the template, reused by one
    test after another: `acquire` gives one at the template's state, `release` resets it in
    the background (while the next test runs on another) and puts it back, or drops it."""

    # Clones kept, so that one is reset while the next test runs on another.
    SIZE = 3

    def __init__(self, admin_url: str, template: str) -> None:
        self.admin_url = admin_url
        self.template = template
        self.free: list[str] = []
        self.made: set[str] = set()
        self.resetting: set[asyncio.Task[None]] = set()
        # The template's state, learnt from the first clone (the template stays idle).
        self.fingerprint: str | None = None
        self.tables: list[str] = []
        self.sequence_tables: dict[str, str] = {}

    async def acquire(self) -> str:
        while not self.free and self.resetting and len(self.made) >= self.SIZE:
            await asyncio.wait(self.resetting, return_when=asyncio.FIRST_COMPLETED)
        if self.free:
            return self.free.pop()
        name = await _pg_create(self.admin_url, template=self.template)
        self.made.add(name)
        if self.fingerprint is None:
            await self._learn(name)
        return name

    async def _learn(self, name: str) -> None:
        conn = await asyncpg.connect(self._url(name))
        try:
            self.fingerprint = await conn.fetchval(_PG_FINGERPRINT)
            self.tables = [
                row[0]
                for row in await conn.fetch(
                    "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
                    "AND tablename <> 'alembic_version' ORDER BY 1"
                )
            ]
            # Every sequence owned by a column, by its table (any other one: see `_reset`).
            self.sequence_tables = {
                row[0]: row[1]
                for row in await conn.fetch(
                    "SELECT format('%I.%I', s.schemaname, s.sequencename), "
                    "format('%I.%I', tn.nspname, t.relname) "
                    "FROM pg_sequences s JOIN pg_class c ON c.relname = s.sequencename "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname "
                    "JOIN pg_depend d ON d.objid = c.oid AND d.deptype IN ('a', 'i') "
                    "AND d.refclassid = 'pg_class'::regclass "
                    "JOIN pg_class t ON t.oid = d.refobjid "
                    "JOIN pg_namespace tn ON tn.oid = t.relnamespace"
                )
            }
            rows = await conn.fetchval(self._probe_sql())
            used = await conn.fetchval(self._sequences_sql())
        finally:
            await conn.close()
        # A clone that would need resetting before its first test is no template for this pool.
        assert not rows and not used, f"the migrated template is not empty: {rows} {used}"

    def _url(self, name: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def _probe_sql(self) -> str:
        """The tables holding a row, as one array."""
        if not self.tables:
            return "SELECT ARRAY[]::text[]"
        checks = ", ".join(
            f"CASE WHEN EXISTS (SELECT FROM {table}) THEN '{table}' END" for table in self.tables
        )
        return f"SELECT array_remove(ARRAY[{checks}], NULL)"

    @staticmethod
    def _sequences_sql() -> str:
        """The sequences a test advanced (a fresh or restarted one has no last value)."""
        return (
            "SELECT coalesce(array_agg(format('%I.%I', schemaname, sequencename)), '{}') "
            "FROM pg_sequences WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
            "AND last_value IS NOT NULL"
        )

    def release(self, name: str) -> None:
        """Start putting `name` back (see `_put_back`)."""
        task = asyncio.get_running_loop().create_task(self._put_back(name))
        self.resetting.add(task)
        task.add_done_callback(self.resetting.discard)

    async def _put_back(self, name: str) -> None:
        """Back to the pool at the template's state, or dropped when that cannot be ensured."""
        try:
            reset = await self._reset(name)
        except Exception:
            reset = False
        if reset:
            self.free.append(name)
        else:
            with contextlib.suppress(Exception):
                await self.drop(name)

    async def _reset(self, name: str) -> bool:
        conn = await asyncpg.connect(self._url(name))
        try:
            # A test's data is never worth a flush to disk; a lock left behind is not waited on.
            await conn.execute("SET synchronous_commit = off; SET lock_timeout = '10s'")
            # What DROP DATABASE … WITH (FORCE) would do first: end the sessions left behind.
            for _ in range(500):
                if not await conn.fetchval(_PG_END_OTHER_SESSIONS):
                    break
                await asyncio.sleep(0.01)
            else:
                return False
            state = await conn.fetchrow(
                f"SELECT ({_PG_FINGERPRINT}), ({self._probe_sql()}), ({self._sequences_sql()}), "
                "(SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database())"
            )
            assert state is not None
            fingerprint, written, advanced, prepared = state
            if fingerprint != self.fingerprint or prepared:
                return False
            tables = set(written)
            for sequence in advanced:
                owner = self.sequence_tables.get(sequence)
                if owner is None:
                    return False
                tables.add(owner)
            if tables:
                # Every table the test wrote, and every one whose sequence it advanced (a
                # rolled-back insert), emptied into new files as a fresh clone's are.
                await conn.execute(f"TRUNCATE {', '.join(sorted(tables))} RESTART IDENTITY CASCADE")
            return True
        finally:
            await conn.close()

    async def drop(self, name: str) -> None:
        self.made.discard(name)
        await _pg_drop(self.admin_url, name)

    async def close(self) -> None:
        if self.resetting:
            await asyncio.wait(self.resetting)
        self.free.clear()
        for name in list(self.made):
            await self.drop(name)


@pytest.fixture(scope="session")
async def pg_pool(pg_admin: str, pg_template: str) -> AsyncIterator[PgPool]:
    """This worker's pool of migrated PostgreSQL databases (dropped at the end of the run)."""
    pool = PgPool(pg_admin, pg_template)
    yield pool
    await pool.close()


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
async def pg_migrated_url(pg_admin: str, pg_pool: PgPool) -> AsyncIterator[str]:
    """A PostgreSQL database at the head revision, as the template is (a clone from the pool),
    reset or dropped afterwards."""
    name = await pg_pool.acquire()
    yield pg_database_url(pg_admin, name)
    pg_pool.release(name)


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
