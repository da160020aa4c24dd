"""The applicant's phone number, kept sealed while ZNS may need it (SQLite and PostgreSQL).

Intake seals the number in `84…` form with SIPAS_CONTACT_KEY (AES-GCM, bot/contacts.py); the
row, the inbox, the logs and the database file never hold it in clear; a rotated key keeps old
numbers opening; `sipas purge-contacts` (and the daily job) deletes the sealed number
SIPAS_CONTACT_RETENTION_DAYS after the case ends and its survey closes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError
from sqlalchemy import text

from bot.app import create_app
from bot.cli import main
from bot.contacts import PURPOSE, ContactBook, zns_phone
from bot.onestop.links import KeyRing
from bot.sealing import Sealer
from bot.services import job_runner
from bot.web.keys import SERVICES
from storage.contacts import ContactStore
from storage.db import create_engine
from storage.models import utcnow
from tests.conftest import SQLITE_FILES, make_settings, sqlite_url
from tests.support import dossier, signed

KEY_1 = "c1:first-contact-key-0123456789abcdef"
KEY_2 = "c2:second-contact-key-0123456789abcdef"
CASE = "H12.22-261001-0001"
OTHER = "H12.22-261001-0002"
PHONE = "0912345678"
# The number in every form it could be written, and its bare subscriber digits.
PHONE_FORMS = ("0912345678", "84912345678", "+84 912 345 678", "912345678", "912 345 678")
RETENTION = timedelta(days=30)


@asynccontextmanager
async def service(url: str, **overrides: Any) -> AsyncIterator[TestClient]:
    app = create_app(make_settings(url, **overrides))
    async with TestClient(TestServer(app)) as client:
        yield client


async def deliver(client: TestClient, payload: dict[str, Any]) -> int:
    body, headers = signed(payload)
    response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
    assert response.status in {200, 202}, await response.text()
    return response.status


async def rows(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(r._mapping) for r in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def contact(url: str, case_code: str = CASE) -> dict[str, Any]:
    [row] = await rows(url, "SELECT * FROM case_contacts WHERE case_code = :c", c=case_code)
    return row


async def opened(url: str, ring: str, case_code: str = CASE) -> str | None:
    engine = create_engine(url)
    try:
        return await ContactBook(KeyRing.parse(ring), ContactStore(engine)).phone(case_code)
    finally:
        await engine.dispose()


async def purge(url: str, now: datetime) -> int:
    engine = create_engine(url)
    try:
        return await ContactStore(engine).purge(now, RETENTION)
    finally:
        await engine.dispose()


async def add_survey(url: str, case_code: str, status: str, updated_at: datetime) -> None:
    await rows(
        url,
        "INSERT INTO surveys (case_code, source, questionnaire_version, status, invited_at, "
        "expires_at, updated_at) VALUES (:c, 'zns', 1, :s, :u, :u, :u)",
        c=case_code,
        s=status,
        u=updated_at,
    )


def no_phone_in(textual: str) -> None:
    for form in PHONE_FORMS:
        assert form not in textual, form


# --- sealing at intake -------------------------------------------------------------------------


async def test_intake_seals_the_phone_and_only_the_contact_book_opens_it(
    migrated_url: str,
) -> None:
    async with service(migrated_url, contact_key=KEY_1) as client:
        assert await deliver(client, dossier(SoDienThoai="+84 912 345 678")) == 202
    row = await contact(migrated_url)
    assert row["phone"] is None and row["phone_hash"]
    assert row["phone_sealed"].startswith("c1.")
    no_phone_in(json.dumps(row, default=str))
    assert await opened(migrated_url, KEY_1) == "84912345678"
    # Another key cannot open it, nor can a sealer of another purpose under the same key.
    assert await opened(migrated_url, "c1:some-other-secret-0123456789") is None
    with pytest.raises(ValueError):
        Sealer(KeyRing.parse(KEY_1), "zalo-oa-tokens").open(row["phone_sealed"])
    events = await rows(migrated_url, "SELECT payload FROM case_events")
    no_phone_in(json.dumps([e["payload"] for e in events], default=str))


async def test_without_a_contact_key_only_the_hash_is_kept(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        async with service(migrated_url) as client:
            await deliver(client, dossier())
    row = await contact(migrated_url)
    assert row["phone_hash"] and row["phone_sealed"] is None and row["phone"] is None
    warned = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert len([w for w in warned if "SIPAS_CONTACT_KEY" in w]) == 1


async def test_rotation_keeps_old_numbers_opening_and_seals_new_ones_under_the_new_key(
    migrated_url: str,
) -> None:
    async with service(migrated_url, contact_key=KEY_1) as client:
        await deliver(client, dossier())
    before = (await contact(migrated_url))["phone_sealed"]
    async with service(migrated_url, contact_key=f"{KEY_2},{KEY_1}") as client:
        await deliver(client, dossier(OTHER, SoDienThoai="0987 654 321"))
        # The same number again: the stored value is kept (not resealed on every delivery).
        await deliver(client, dossier(TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000"))
        assert (await contact(migrated_url))["phone_sealed"] == before
        assert (await contact(migrated_url, OTHER))["phone_sealed"].startswith("c2.")
        # A later delivery bringing another number replaces it, under the current key.
        await deliver(
            client,
            dossier(TrangThaiHoSo=5, ThoiDiemXuLy="20261003090000", SoDienThoai="0977111222"),
        )
    ring = f"{KEY_2},{KEY_1}"
    assert (await contact(migrated_url))["phone_sealed"].startswith("c2.")
    assert await opened(migrated_url, ring) == "84977111222"
    assert await opened(migrated_url, ring, OTHER) == "84987654321"
    # Retiring the old key: what it sealed no longer opens (and is treated as absent).
    async with service(migrated_url, contact_key=KEY_1) as client:
        await deliver(client, dossier("H12.22-261001-0003"))
    assert await opened(migrated_url, KEY_2, "H12.22-261001-0003") is None


async def test_a_new_number_without_a_key_drops_the_old_sealed_one(migrated_url: str) -> None:
    async with service(migrated_url, contact_key=KEY_1) as client:
        await deliver(client, dossier())
    async with service(migrated_url) as client:
        await deliver(
            client,
            dossier(TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000", SoDienThoai="0977111222"),
        )
    assert (await contact(migrated_url))["phone_sealed"] is None


# --- retention ---------------------------------------------------------------------------------


async def test_purge_deletes_numbers_only_after_the_case_and_its_survey_end(
    migrated_url: str,
) -> None:
    codes = [f"H12.22-261001-00{i:02d}" for i in range(1, 7)]
    async with service(migrated_url, contact_key=KEY_1) as client:
        await deliver(client, dossier(codes[0], TrangThaiHoSo=10))  # ended, survey closed
        await deliver(client, dossier(codes[1], TrangThaiHoSo=10))  # ended, no survey
        await deliver(client, dossier(codes[2], TrangThaiHoSo=10))  # ended, survey open
        await deliver(client, dossier(codes[3], TrangThaiHoSo=9))  # result ready: not ended
        await deliver(client, dossier(codes[4], TrangThaiHoSo=4))  # still in progress
        await deliver(client, dossier(codes[5], TrangThaiHoSo=10))  # survey closed later
    now = utcnow()
    await add_survey(migrated_url, codes[0], "completed", now)
    await add_survey(migrated_url, codes[2], "invited", now)
    await add_survey(migrated_url, codes[5], "expired", now + timedelta(days=10))
    assert await purge(migrated_url, now + timedelta(days=29)) == 0
    assert await purge(migrated_url, now + timedelta(days=31)) == 2
    left = await rows(
        migrated_url,
        "SELECT case_code FROM case_contacts WHERE phone_sealed IS NOT NULL ORDER BY case_code",
    )
    assert [r["case_code"] for r in left] == codes[2:]
    assert await opened(migrated_url, KEY_1, codes[0]) is None
    assert (await contact(migrated_url, codes[0]))["phone_hash"]  # linking by phone still works
    # The survey that closed later counts from its close; the purge is idempotent.
    assert await purge(migrated_url, now + timedelta(days=39)) == 0
    assert await purge(migrated_url, now + timedelta(days=41)) == 1


async def test_the_daily_job_purges_with_the_service_clock(
    migrated_url: str, tmp_path: Path
) -> None:
    clock_file = tmp_path / "clock"
    clock_file.write_text((utcnow() + timedelta(days=31)).isoformat() + "+00:00")
    settings = make_settings(migrated_url, contact_key=KEY_1, clock_file=str(clock_file))
    app = create_app(settings)
    async with TestClient(TestServer(app)) as client:
        await deliver(client, dossier(TrangThaiHoSo=10))
        runner = job_runner(app[SERVICES], settings)
        assert "purge-contacts" in runner.jobs
        assert runner.jobs["purge-contacts"].cron == {"hour": 3, "minute": 30}
        assert await runner.run_once("purge-contacts", force=True) == "1 phone numbers deleted"
        assert await app[SERVICES].contacts.phone(CASE) is None  # type: ignore[union-attr]


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory without `.env` and an environment without SIPAS_ settings; the
    logging a command configures is put back afterwards."""
    for name in list(os.environ):
        if name.startswith(("SIPAS_", "TELEGRAM_", "ZALO_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield tmp_path
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def sqlite_migrated(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database only (the command line and the file's bytes)."""
    for name in SQLITE_FILES:
        if (sqlite_template / name).exists():
            shutil.copyfile(sqlite_template / name, tmp_path / name)
    return sqlite_url(tmp_path)


def test_purge_contacts_prints_how_many_were_deleted(
    sqlite_migrated: str, cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    migrated_url = sqlite_migrated

    async def cases() -> None:
        async with service(migrated_url, contact_key=KEY_1) as client:
            await deliver(client, dossier(TrangThaiHoSo=10))
            await deliver(client, dossier(OTHER, TrangThaiHoSo=3))

    asyncio.run(cases())
    clock_file = cli_env / "clock"
    monkeypatch.setenv("SIPAS_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIPAS_CLOCK_FILE", str(clock_file))
    monkeypatch.setenv("SIPAS_CONTACT_RETENTION_DAYS", "30")
    clock_file.write_text((utcnow() + timedelta(days=20)).isoformat() + "+00:00")
    capsys.readouterr()
    assert main(["purge-contacts"]) == 0
    assert capsys.readouterr().out.startswith("0 phone numbers deleted")
    clock_file.write_text((utcnow() + timedelta(days=31)).isoformat() + "+00:00")
    assert main(["purge-contacts"]) == 0
    assert capsys.readouterr().out.startswith("2 phone numbers deleted (kept 30 days")


def test_init_env_writes_a_contact_key_and_adds_one_to_an_older_env(
    cli_env: Path, capsys: Any
) -> None:
    assert main(["init-env"]) == 0
    values = dict(
        line.split("=", 1) for line in (cli_env / ".env").read_text().splitlines() if "=" in line
    )
    key = values["SIPAS_CONTACT_KEY"]
    assert len(key) >= 43 and key != values["SIPAS_SECRET_KEY"]
    assert values["SIPAS_CONTACT_RETENTION_DAYS"] == "30"
    capsys.readouterr()
    assert main(["init-env"]) == 0
    assert "left unchanged" in capsys.readouterr().out
    # A .env from before SIPAS_CONTACT_KEY gets one appended, the rest untouched.
    older = "SIPAS_SECRET_KEY=kept-as-it-was\n# SIPAS_CONTACT_KEY=commented-out\nSIPAS_API_TOKEN=t"
    (cli_env / ".env").write_text(older)
    (cli_env / ".env").chmod(0o600)
    assert main(["init-env"]) == 0
    assert "added a new random SIPAS_CONTACT_KEY" in capsys.readouterr().out
    written = (cli_env / ".env").read_text()
    assert written.startswith(older + "\n")
    [added] = [line for line in written.splitlines() if line.startswith("SIPAS_CONTACT_KEY=")]
    assert len(added.split("=", 1)[1]) >= 43
    assert (cli_env / ".env").stat().st_mode & 0o777 == 0o600
    # One that assigns it, even empty, is the operator's choice.
    (cli_env / ".env").write_text("SIPAS_CONTACT_KEY=\n")
    assert main(["init-env"]) == 0
    assert (cli_env / ".env").read_text() == "SIPAS_CONTACT_KEY=\n"


# --- settings and the contact book ---------------------------------------------------------------


def test_settings_refuse_a_bad_contact_key_or_retention() -> None:
    with pytest.raises(ValidationError, match="SIPAS_CONTACT_KEY: key id c1 appears twice"):
        make_settings("sqlite+aiosqlite:///x.db", contact_key="c1:a,c1:b")
    with pytest.raises(ValidationError):
        make_settings("sqlite+aiosqlite:///x.db", contact_retention_days=0)
    settings = make_settings("sqlite+aiosqlite:///x.db", contact_key=f"{KEY_2},{KEY_1}")
    assert settings.contact_ring.ids == ("c2", "c1")
    assert settings.contact_retention_days == 30
    assert not make_settings("sqlite+aiosqlite:///x.db").contact_ring


def test_the_contact_book_normalises_and_refuses_what_it_cannot_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    book = ContactBook(KeyRing.parse(KEY_1))
    assert [zns_phone(p) for p in ("0912 345 678", "+84 912 345 678", "(+84) 0912345678")] == [
        "84912345678"
    ] * 3
    assert zns_phone("12345") is None and book.seal("12345") is None
    sealed = book.seal("0912.345.678")
    assert sealed is not None and sealed != book.seal("0912345678")  # a fresh nonce each time
    assert Sealer(KeyRing.parse(KEY_1), PURPOSE).open(sealed) == "84912345678"
    kid, _, body = sealed.partition(".")
    altered = f"{kid}.{body[:-4]}AAAA"
    with caplog.at_level(logging.WARNING, logger="bot.contacts"):
        assert book.open(altered) is None
        assert book.open("zz." + body) is None
    assert len(caplog.records) == 2
    no_phone_in(" ".join(str(vars(r)) for r in caplog.records))
    assert ContactBook(KeyRing.parse("")).seal(PHONE) is None


# --- the number never in clear anywhere ----------------------------------------------------------


async def test_the_raw_number_is_in_no_log_and_nowhere_in_the_database_file(
    sqlite_migrated: str, caplog: pytest.LogCaptureFixture
) -> None:
    migrated_url = sqlite_migrated
    with caplog.at_level(logging.DEBUG):
        async with service(migrated_url, contact_key=KEY_1, log_level="DEBUG") as client:
            await deliver(client, dossier(SoDienThoai="0912345678"))
            await deliver(client, dossier(OTHER, SoDienThoai="+84 912 345 678"))
            await deliver(client, dossier(TrangThaiHoSo=10, SoDienThoai="84912345678"))
            for code in (CASE, OTHER):
                response = await client.get(
                    f"/api/v1/cases/{code}", headers={"Authorization": "Bearer test-api-token"}
                )
                assert response.status == 200
                no_phone_in(await response.text())
        assert await purge(migrated_url, utcnow() + timedelta(days=31)) == 1
    assert await opened(migrated_url, KEY_1, OTHER) == "84912345678"
    no_phone_in(" ".join(str(vars(r)) for r in caplog.records))
    database = Path(migrated_url.split("///", 1)[1])
    files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
    assert database in files
    for path in files:
        raw = path.read_bytes()
        for form in PHONE_FORMS:
            assert form.encode() not in raw, (path.name, form)
            assert form.encode("utf-16-le") not in raw, (path.name, form)
