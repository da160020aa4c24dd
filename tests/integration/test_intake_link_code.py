"""The receipt's link code and its `links.zalo` / `links.qr` (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import create_app
from bot.channels.links import ChannelLinks
from bot.onestop.dossier import validate
from bot.onestop.intake import IntakeService, body_digest
from bot.onestop.links import (
    LINK_CODE_ALPHABET,
    KeyRing,
    extract_link_code,
    format_link_code,
    link_code_hash,
)
from storage.case_links import CaseLinkStore
from storage.db import create_engine
from storage.intake import IntakeStore
from tests.conftest import make_settings
from tests.support import dossier, signed

CODE_RE = re.compile(f"[{LINK_CODE_ALPHABET}]{{8}}")
CASE_A, CASE_B = "H12.22-261001-0001", "H12.22-261001-0002"


async def post(client: TestClient, payload: dict[str, Any]) -> tuple[int, Any]:
    body, headers = signed(payload)
    response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
    return response.status, await response.json()


async def lookup(url: str, typed: str, key_ids: tuple[str, ...] = ("k0",)) -> str | None:
    code = extract_link_code(typed)
    assert code is not None, typed
    engine = create_engine(url)
    try:
        found = await CaseLinkStore(engine).case_by_link_code(link_code_hash(code), key_ids=key_ids)
    finally:
        await engine.dispose()
    return None if found is None else found.code


async def test_the_code_has_the_contract_shape(client: TestClient) -> None:
    status, body = await post(client, dossier())
    assert status == 202
    assert CODE_RE.fullmatch(body["link_code"]), body["link_code"]


async def test_the_same_code_on_repeat_and_on_a_200(client: TestClient) -> None:
    _, first = await post(client, dossier(TrangThaiHoSo=2))
    status, again = await post(client, dossier(TrangThaiHoSo=2))
    assert status == 200
    _, later = await post(client, dossier(TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000"))
    assert first["link_code"] == again["link_code"] == later["link_code"]


async def test_cases_get_different_codes(client: TestClient) -> None:
    _, a = await post(client, dossier(MaHoSo=CASE_A))
    _, b = await post(client, dossier(MaHoSo=CASE_B))
    assert a["link_code"] != b["link_code"]


async def test_a_lookup_takes_the_code_in_any_form(client: TestClient, migrated_url: str) -> None:
    _, a = await post(client, dossier(MaHoSo=CASE_A))
    await post(client, dossier(MaHoSo=CASE_B))
    code = a["link_code"]
    for typed in (
        code,
        code.lower(),
        format_link_code(code),
        f"mã {format_link_code(code)}",
        f"Dạ, mã của tôi là {format_link_code(code).lower()} ạ",
    ):
        assert await lookup(migrated_url, typed) == CASE_A, typed
    wrong = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
    assert await lookup(migrated_url, wrong) is None


async def test_an_ambiguous_code_links_no_case(client: TestClient, migrated_url: str) -> None:
    _, a = await post(client, dossier(MaHoSo=CASE_A))
    await post(client, dossier(MaHoSo=CASE_B))
    engine = create_engine(migrated_url)
    try:
        async with engine.begin() as conn:  # a collision, as 40 bits allow
            await conn.execute(
                text("UPDATE cases SET link_code_hash = :h WHERE code = :c"),
                {"h": link_code_hash(a["link_code"]), "c": CASE_B},
            )
    finally:
        await engine.dispose()
    assert await lookup(migrated_url, a["link_code"]) is None


async def test_rotation_keeps_an_old_case_code(migrated_url: str) -> None:
    async def deliver(secret_key: str, code: str) -> str:
        app = create_app(make_settings(migrated_url, secret_key=secret_key))
        async with TestClient(TestServer(app)) as client:
            status, body = await post(client, dossier(MaHoSo=code))
            assert status in (200, 202)
            return str(body["link_code"])

    old = await deliver("k0:old-link-key-0123456789abcdef", CASE_A)
    rotated = "k1:new-link-key-fedcba9876543210,k0:old-link-key-0123456789abcdef"
    assert await deliver(rotated, CASE_A) == old
    new = await deliver(rotated, CASE_B)
    assert new != old
    assert await lookup(migrated_url, old, ("k1", "k0")) == CASE_A
    assert await lookup(migrated_url, new, ("k1", "k0")) == CASE_B
    assert await lookup(migrated_url, old, ("k1",)) is None  # k0 retired


async def test_links_zalo_and_qr(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    keys = KeyRing.single(b"test-link-key")
    replies = []
    try:
        for zalo_url in (None, "https://zalo.me/4318239581"):
            service = IntakeService(
                store=IntakeStore(engine),
                link_key=keys,
                public_url="https://sipas.example.vn",
                links=ChannelLinks(),
                zalo_url=zalo_url,
            )
            payload = dossier()
            raw = repr(payload).encode()
            reply = await service.accept(
                validate(payload),
                key="key:zalo",
                body_sha256=body_digest(raw),
                payload=payload,
            )
            replies.append(reply.body["links"])
            await service.close()
    finally:
        await engine.dispose()
    token = keys.token(CASE_A)
    assert replies[0]["zalo"] is None
    assert replies[1]["zalo"] == "https://zalo.me/4318239581"
    for links in replies:
        assert links["qr"] == f"https://sipas.example.vn/s/{token}/qr.svg"


def test_settings_turn_links_zalo_on_with_the_oa() -> None:
    off = make_settings("sqlite+aiosqlite:///x.db", zalo_oa_id="4318239581")
    on = make_settings(
        "sqlite+aiosqlite:///x.db", zalo_oa_id="4318239581", zalo_oa_secret_key="oa-key"
    )
    assert off.zalo_oa_url is None
    assert on.zalo_oa_url == "https://zalo.me/4318239581"


async def test_retiring_a_key_gives_the_case_a_new_code(migrated_url: str) -> None:
    old_key, new_key = "k0:old-link-key-0123456789abcdef", "k1:new-link-key-fedcba9876543210"

    async def deliver(secret_key: str, **fields: Any) -> str:
        app = create_app(make_settings(migrated_url, secret_key=secret_key))
        async with TestClient(TestServer(app)) as client:
            status, body = await post(client, dossier(MaHoSo=CASE_A, **fields))
            assert status in (200, 202)
            return str(body["link_code"])

    old = await deliver(old_key)
    new = await deliver(new_key, TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000")
    assert new != old
    assert await lookup(migrated_url, new, ("k1",)) == CASE_A
    assert await lookup(migrated_url, old, ("k1",)) is None


async def test_a_case_from_before_link_codes_gets_its_code_on_its_next_delivery(
    client: TestClient, migrated_url: str
) -> None:
    _, first = await post(client, dossier(MaHoSo=CASE_A))
    engine = create_engine(migrated_url)
    try:
        async with engine.begin() as conn:  # as migration 0013 leaves an older case
            await conn.execute(text("UPDATE cases SET link_code_hash = NULL"))
    finally:
        await engine.dispose()
    assert await lookup(migrated_url, first["link_code"]) is None
    _, again = await post(client, dossier(MaHoSo=CASE_A, TrangThaiHoSo=4))
    assert again["link_code"] == first["link_code"]
    assert await lookup(migrated_url, first["link_code"]) == CASE_A


async def test_the_service_answers_links_zalo_once_the_oa_is_configured(migrated_url: str) -> None:
    settings = make_settings(migrated_url, zalo_oa_id="4318239581", zalo_oa_secret_key="oa-key")
    async with TestClient(TestServer(create_app(settings))) as client:
        status, body = await post(client, dossier(CASE_A))
    assert status == 202, body
    assert body["links"]["zalo"] == "https://zalo.me/4318239581"
    assert CODE_RE.fullmatch(body["link_code"])
