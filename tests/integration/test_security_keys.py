"""Link and phone-hash keys: only from SIPAS_SECRET_KEY, rotated by key id, retired on removal.

Each step runs the whole HTTP service in-process with a different `SIPAS_SECRET_KEY` over the
same database, as a restart with a new environment would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import create_app
from bot.onestop.links import case_token
from bot.secret_key import SecretKeyProblem, check_for_serve, export_stored_key
from bot.survey.service import ChatRef
from bot.web.keys import SERVICES
from storage.db import create_engine
from tests.conftest import make_settings
from tests.support import dossier, signed

OLD = "old-link-key-0123456789abcdef"
NEW = "new-link-key-fedcba9876543210"
CASE_A, CASE_B = "H12.22-261001-0001", "H12.22-261001-0002"
PHONE_A, PHONE_B = "0912345678", "0987654321"


@pytest.fixture
def service(migrated_url: str) -> Callable[[str], Any]:
    """`async with service(secret_key) as client`: the app on the shared database."""

    class Started:
        def __init__(self, secret_key: str) -> None:
            self.app = create_app(make_settings(migrated_url, secret_key=secret_key))
            self.client = TestClient(TestServer(self.app))

        async def __aenter__(self) -> TestClient:
            await self.client.start_server()
            return self.client

        async def __aexit__(self, *exc: object) -> None:
            await self.client.close()

    return Started


async def deliver(client: TestClient, payload: dict[str, Any], status: int = 202) -> str:
    """Post a delivery; the token of the web link it answers with."""
    body, headers = signed(payload)
    response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
    assert response.status == status, await response.text()
    return str((await response.json())["links"]["web"]).rsplit("/s/", 1)[1]


async def page_status(client: TestClient, token: str) -> int:
    return (await client.get(f"/s/{token}")).status


async def rows(url: str, sql: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


async def linked_by_phone(client: TestClient, chat: str, phone: str) -> list[str]:
    linking = client.app[SERVICES].linking
    ref = ChatRef(channel="telegram", external_id=chat)
    await linking.on_contact(ref, phone, own=True)
    row = await linking.survey.chat_row(ref)
    return [case.code for case in await linking.links.cases_of_chat(row.id)]


async def last_reply(url: str) -> str:
    found = await rows(url, "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1")
    payload = found[0]["payload"]
    return str((json.loads(payload) if isinstance(payload, str) else payload)["key"])


async def test_rotation_keeps_old_links_and_phones_and_new_cases_use_the_new_key(
    service: Callable[[str], Any], migrated_url: str
) -> None:
    async with service(OLD) as client:  # a bare secret: kid k0, as before key ids
        token_a = await deliver(client, dossier(CASE_A, SoDienThoai=PHONE_A))
    assert token_a == case_token(OLD.encode(), CASE_A)  # links printed before stay the same

    async with service(f"k1:{NEW},k0:{OLD}") as client:
        assert await page_status(client, token_a) == 200
        # A repeated delivery and a new event of the old case answer with its old link.
        assert await deliver(client, dossier(CASE_A, SoDienThoai=PHONE_A), status=200) == token_a
        moved = dossier(CASE_A, TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000")
        assert await deliver(client, moved) == token_a
        token_b = await deliver(client, dossier(CASE_B, SoDienThoai=PHONE_B))
        assert token_b == case_token(NEW.encode(), CASE_B)
        assert await page_status(client, token_b) == 200
        # A phone hashed under the old key still links its case.
        assert await linked_by_phone(client, "501", PHONE_A) == [CASE_A]
        assert await linked_by_phone(client, "502", PHONE_B) == [CASE_B]

    cases = await rows(migrated_url, "SELECT code, link_key_id FROM cases ORDER BY code")
    assert [(r["code"], r["link_key_id"]) for r in cases] == [(CASE_A, "k0"), (CASE_B, "k1")]
    contacts = await rows(
        migrated_url, "SELECT case_code, phone_key_id FROM case_contacts ORDER BY case_code"
    )
    # Case A's contact was rewritten by its later deliveries, under the current key.
    assert [r["phone_key_id"] for r in contacts] == ["k1", "k1"]
    chats = await rows(migrated_url, "SELECT phone_key_id FROM chats ORDER BY external_id")
    assert [r["phone_key_id"] for r in chats] == ["k1", "k1"]


async def test_removing_a_key_retires_its_links_and_phone_hashes(
    service: Callable[[str], Any], migrated_url: str
) -> None:
    async with service(f"k0:{OLD}") as client:
        token_a = await deliver(client, dossier(CASE_A, SoDienThoai=PHONE_A))
    async with service(f"k1:{NEW}") as client:
        # The removed key may have leaked: the links it made find nothing any more.
        assert await page_status(client, token_a) == 404
        linking = client.app[SERVICES].linking
        await linking.on_start(ChatRef(channel="telegram", external_id="601"), token_a)
        assert await last_reply(migrated_url) == "link_unknown"
        # The phone was hashed with the removed key only: it matches nothing.
        assert await linked_by_phone(client, "602", PHONE_A) == []
        # The next delivery of the case gives it a new link under the current key.
        again = dossier(CASE_A, TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000", SoDienThoai=None)
        token_new = await deliver(client, again)
        assert token_new == case_token(NEW.encode(), CASE_A) != token_a
        assert await page_status(client, token_new) == 200
        assert await page_status(client, token_a) == 404
        assert await deliver(client, again, status=200) == token_new
    cases = await rows(migrated_url, "SELECT link_key_id FROM cases")
    assert cases == [{"link_key_id": "k1"}]


async def add_stored_key(url: str, value: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO service_secrets (name, value, created_at) "
                    "VALUES ('link_key', :value, '2026-01-01 00:00:00')"
                ),
                {"value": value},
            )
    finally:
        await engine.dispose()


async def stored_keys(url: str) -> int:
    found = await rows(url, "SELECT count(*) AS n FROM service_secrets")
    return int(found[0]["n"])


async def test_serve_refuses_without_a_key(migrated_url: str) -> None:
    with pytest.raises(SecretKeyProblem, match=r"SIPAS_SECRET_KEY is not set.*sipas init-env"):
        await check_for_serve(make_settings(migrated_url, secret_key=""))
    with pytest.raises(SecretKeyProblem, match="shorter than 16"):
        await check_for_serve(make_settings(migrated_url, secret_key="k1:short,k0:" + OLD))
    await check_for_serve(make_settings(migrated_url, secret_key=OLD))


async def test_a_key_left_in_the_database_is_moved_to_the_environment(
    migrated_url: str,
) -> None:
    await add_stored_key(migrated_url, OLD)
    unset = make_settings(migrated_url, secret_key="")
    with pytest.raises(SecretKeyProblem, match="sipas export-secret-key"):
        await check_for_serve(unset)
    exported = await export_stored_key(unset)
    assert exported.line == f"SIPAS_SECRET_KEY=k0:{OLD}"
    assert await stored_keys(migrated_url) == 1  # kept until the environment holds it
    # Another key in the environment: the line keeps it first and adds the stored one.
    other = make_settings(migrated_url, secret_key=f"k1:{NEW}")
    with pytest.raises(SecretKeyProblem, match="sipas export-secret-key"):
        await check_for_serve(other)
    assert (await export_stored_key(other)).line == f"SIPAS_SECRET_KEY=k1:{NEW},k0:{OLD}"

    moved = make_settings(migrated_url, secret_key=exported.line.split("=", 1)[1])
    await check_for_serve(moved)  # holds it: starts, and the database copy is gone
    assert await stored_keys(migrated_url) == 0
    assert (await export_stored_key(moved)).line is None


async def test_export_deletes_the_copy_once_the_environment_holds_it(migrated_url: str) -> None:
    await add_stored_key(migrated_url, OLD)
    outcome = await export_stored_key(make_settings(migrated_url, secret_key=f"k0:{OLD}"))
    assert outcome.line is None and "deleted" in outcome.message
    assert await stored_keys(migrated_url) == 0


async def test_services_never_write_a_key_into_the_database(
    service: Callable[[str], Any], migrated_url: str
) -> None:
    async with service(OLD) as client:
        await deliver(client, dossier(CASE_A))
    assert await stored_keys(migrated_url) == 0


async def test_the_migration_marks_existing_tokens_and_hashes_as_key_k0(database_url: str) -> None:
    from storage.db import migrate_async

    await migrate_async(database_url, "0010")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            now = datetime(2026, 10, 1)
            await conn.execute(
                text("INSERT INTO agencies (code, name, created_at) VALUES ('A', 'A', :now)"),
                {"now": now},
            )
            await conn.execute(
                text("INSERT INTO procedures (code, name, created_at) VALUES ('P', 'P', :now)"),
                {"now": now},
            )
            for code, token in (("C1", "a" * 64), ("C2", None)):
                await conn.execute(
                    text(
                        "INSERT INTO cases (code, agency_code, procedure_code, status, "
                        "received_at, state_at, events_count, link_token_hash, created_at, "
                        "updated_at) VALUES (:code, 'A', 'P', 2, :now, :now, 1, :token, :now, :now)"
                    ),
                    {"code": code, "token": token, "now": now},
                )
            await conn.execute(
                text(
                    "INSERT INTO case_contacts (case_code, phone_hash, updated_at) "
                    "VALUES ('C1', :h, :now)"
                ),
                {"h": "b" * 64, "now": now},
            )
    finally:
        await engine.dispose()
    await migrate_async(database_url)
    cases = await rows(database_url, "SELECT code, link_key_id FROM cases ORDER BY code")
    assert [(r["code"], r["link_key_id"]) for r in cases] == [("C1", "k0"), ("C2", None)]
    contacts = await rows(database_url, "SELECT phone_key_id FROM case_contacts")
    assert contacts == [{"phone_key_id": "k0"}]
