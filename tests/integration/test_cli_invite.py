"""`sipas invite` through `main(argv)`: the link it prints and what it records (interfaces.md
"Command line"), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.db import create_engine
from storage.models import AuditEntry


def _audit_targets(database_url: str) -> list[tuple[str, str]]:
    async def read() -> list[tuple[str, str]]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(AuditEntry.action, AuditEntry.target))  # type: ignore[call-overload]
                return [(row.action, row.target) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_invite_prints_a_draft_deep_link_while_telegram_is_off(
    migrated_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer `.env` is read
    monkeypatch.setenv("SIPAS_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIPAS_LOG_LEVEL", "WARNING")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)

    assert main(["invite", "inspector"]) == 0
    out, err = capsys.readouterr()
    [link] = out.splitlines()
    assert link.startswith("https://t.me/<bot>?start=i")
    assert "put the bot's username in place of <bot>" in err
    assert "Valid 72 hours, single use." in err
    assert ("invite", "inspector") in _audit_targets(migrated_url)

    assert main(["invite", "head"]) == 1
    assert "a head invite needs --agency" in capsys.readouterr().err
