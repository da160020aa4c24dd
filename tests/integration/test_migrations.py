"""Alembic migrations build the schema from empty, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.db import alembic_config, create_engine, migrate_async

TABLES = {
    "agencies",
    "procedures",
    "officers",
    "cases",
    "case_contacts",
    "case_events",
    "service_secrets",
    "chats",
    "case_links",
    "questionnaires",
    "surveys",
    "answers",
    "outbox",
    "outbox_attempts",
    "cursors",
    "job_runs",
    "daily_scores",
    "role_invites",
    "role_grants",
    "alerts",
    "agency_daily_scores",
    "audit_log",
    "chat_dialogs",
    "runtime_settings",
}


async def test_migrations_create_every_table_from_empty(database_url: str) -> None:
    await migrate_async(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            uniques = await conn.run_sync(
                lambda c: inspect(c).get_unique_constraints("case_events")
            )
    finally:
        await engine.dispose()
    assert names >= TABLES
    assert version == ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert any(u["column_names"] == ["idempotency_key"] for u in uniques)


async def test_migrating_twice_changes_nothing(database_url: str) -> None:
    await migrate_async(database_url)
    await migrate_async(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    assert rows == 1
