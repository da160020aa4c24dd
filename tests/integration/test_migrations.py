"""Alembic migrations build the schema from empty, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime

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
    "case_link_history",
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
    "chat_choices",
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


async def test_existing_links_become_the_first_rows_of_their_history(database_url: str) -> None:
    """0010 renames the ways of linking (start → token, contact → phone) and records every
    link made before it as its case's first history row."""
    await migrate_async(database_url, "0009")
    engine = create_engine(database_url)
    at = datetime(2026, 10, 1, 8, 30)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO agencies (code, name, created_at) VALUES ('A', 'Sở', :at)"),
                {"at": at},
            )
            await conn.execute(
                text("INSERT INTO procedures (code, name, created_at) VALUES ('P', 'TTHC', :at)"),
                {"at": at},
            )
            for n, via in ((1, "start"), (2, "contact")):
                await conn.execute(
                    text(
                        "INSERT INTO cases (code, agency_code, procedure_code, status,"
                        " received_at, state_at, events_count, created_at, updated_at)"
                        " VALUES (:code, 'A', 'P', 4, :at, :at, 1, :at, :at)"
                    ),
                    {"code": f"C{n}", "at": at},
                )
                await conn.execute(
                    text(
                        "INSERT INTO chats (id, channel, external_id, language, opted_out,"
                        " created_at, updated_at) VALUES (:id, 'telegram', :ext, 'vi', false,"
                        " :at, :at)"
                    ),
                    {"id": n, "ext": str(100 + n), "at": at},
                )
                await conn.execute(
                    text(
                        "INSERT INTO case_links (case_code, chat_id, via, linked_at)"
                        " VALUES (:code, :chat, :via, :at)"
                    ),
                    {"code": f"C{n}", "chat": n, "via": via, "at": at},
                )
        await migrate_async(database_url)
        async with engine.connect() as conn:
            links = (
                await conn.execute(text("SELECT case_code, via FROM case_links ORDER BY 1"))
            ).all()
            history = (
                await conn.execute(
                    text(
                        "SELECT case_code, chat_id, kind, how, previous_chat_id"
                        " FROM case_link_history ORDER BY case_code"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in links] == [("C1", "token"), ("C2", "phone")]
    assert [tuple(r) for r in history] == [
        ("C1", 1, "link", "token", None),
        ("C2", 2, "link", "phone", None),
    ]
