"""Intake under attack: each test replays a defect seen against a running service.

Far-future event times, non-finite numbers, personal data kept in the inbox, compressed bodies
that expand past the size limit, captured deliveries replayed under a new key, and bodies that
never finish arriving. In process, on SQLite and PostgreSQL, with the server's clock fixed.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.app import create_app
from bot.survey.notices import notice_intents
from bot.web.intake_routes import BODY_TIMEOUT
from bot.web.keys import IN_FLIGHT
from storage.db import create_engine, migrate_async
from storage.event_feed import EventForChat
from tests.conftest import make_settings
from tests.integration.test_intake import read_case, rows
from tests.support import dossier, signed

ENDPOINT = "/api/v1/onestop/events"
# The server's clock: 2026-10-05 10:00:00 in Hà Nội (03:00 UTC).
LOCAL_NOW = datetime(2026, 10, 5, 10, 0, 0)
NOW = datetime(2026, 10, 5, 3, 0, 0, tzinfo=UTC).timestamp()
SKEW = 300


def local(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def fixed_app(url: str) -> web.Application:
    return create_app(make_settings(url, max_clock_skew_seconds=SKEW), clock=lambda: NOW)


@pytest.fixture
async def fixed(migrated_url: str) -> AsyncIterator[TestClient]:
    """The service in process, its clock fixed at `NOW`."""
    async with TestClient(TestServer(fixed_app(migrated_url))) as client:
        yield client


async def post(
    client: TestClient, payload: dict[str, Any] | bytes, *, key: str | None = None, **extra: str
) -> tuple[int, Any]:
    body, headers = signed(payload, timestamp=int(NOW), key=key)
    response = await client.post(ENDPOINT, data=body, headers=headers | extra)
    return response.status, await response.json()


async def stored_payloads(url: str) -> list[dict[str, Any]]:
    found = await rows(url, "SELECT payload FROM case_events ORDER BY id")
    return [
        json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in found
    ]


# --- 1. far-future event times --------------------------------------------------------------


async def test_a_far_future_processing_moment_is_refused_and_does_not_freeze_the_case(
    fixed: TestClient,
) -> None:
    assert (await post(fixed, dossier(TrangThaiHoSo=2, ThoiDiemXuLy=local(LOCAL_NOW))))[0] == 202
    status, body = await post(fixed, dossier(TrangThaiHoSo=8, ThoiDiemXuLy="20991231235959"))
    assert status == 422, body
    assert set(body["fields"]) == {"ThoiDiemXuLy"}
    later = dossier(TrangThaiHoSo=10, ThoiDiemXuLy=local(LOCAL_NOW), NgayTra=local(LOCAL_NOW))
    assert (await post(fixed, later))[0] == 202
    case = await read_case(fixed, "H12.22-261001-0001")
    assert (case["TrangThaiHoSo"], case["events"]) == (10, 2)


@pytest.mark.parametrize(
    ("ahead", "expected"),
    [(timedelta(seconds=SKEW), 202), (timedelta(seconds=SKEW + 1), 422)],
    ids=["at-the-skew", "one-second-past"],
)
async def test_the_skew_is_measured_in_local_time(
    fixed: TestClient, ahead: timedelta, expected: int
) -> None:
    """The contract's dates are Hà Nội wall-clock times: 10:05 local is five minutes ahead of
    03:00 UTC, not seven hours."""
    status, body = await post(fixed, dossier(ThoiDiemXuLy=local(LOCAL_NOW + ahead)))
    assert status == expected, body


@pytest.mark.parametrize("field", ["NgayTiepNhan", "NgayKetThucXuLy", "NgayTra"])
async def test_without_a_processing_moment_a_future_date_that_would_be_the_event_time_is_refused(
    fixed: TestClient, field: str
) -> None:
    future = local(LOCAL_NOW + timedelta(days=2))
    payload = dossier(TrangThaiHoSo=10, **{field: future})
    payload["NgayHenTra"] = local(LOCAL_NOW + timedelta(days=3))
    status, body = await post(fixed, payload)
    assert status == 422, body
    assert set(body["fields"]) == {field}


async def test_future_promised_dates_are_legitimate(fixed: TestClient) -> None:
    supplement = {
        "NgayHenTraTruoc": "20991231170000",
        "NgayHenTraMoi": "21001231170000",
        "LyDo": "Chờ ý kiến",
    }
    payload = dossier(NgayHenTra="20991231170000", DanhSachHoSoBoSung=[supplement])
    assert (await post(fixed, payload))[0] == 202
    # ThoiDiemXuLy, when present, is the event time: a later finish date does not count.
    payload = dossier(
        "HS-2", ThoiDiemXuLy=local(LOCAL_NOW), NgayKetThucXuLy=local(LOCAL_NOW + timedelta(days=1))
    )
    assert (await post(fixed, payload))[0] == 202


# --- 2. non-finite numbers -------------------------------------------------------------------

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1E+999"]
MARKER = "@@number@@"
PLACES: dict[str, Any] = {
    "extra-field": {"GhiChu": MARKER},
    "supplement-item": {"DanhSachHoSoBoSung": [{"LyDo": "x", "SoTien": MARKER}]},
    "nested-list": {"Extra": {"a": [1, {"b": [MARKER]}]}},
}


async def test_a_non_finite_number_anywhere_is_not_json(fixed: TestClient) -> None:
    """PostgreSQL's json refuses NaN and ±Infinity (and 1e999 is infinity once decoded)."""
    for literal in NON_FINITE:
        for where, extra in PLACES.items():
            text = json.dumps(dossier(TrangThaiHoSo=2, **extra))
            body = text.replace(f'"{MARKER}"', literal).encode()
            status, answer = await post(fixed, body)
            assert status == 400, (literal, where, answer)
            assert "JSON" in answer["error"]
    assert (await fixed.get("/healthz")).status == 200


# --- 3. only the contract's fields are stored -----------------------------------------------


async def test_the_inbox_keeps_only_the_contract_fields(
    fixed: TestClient, migrated_url: str
) -> None:
    supplement = {
        "NgayHenTraTruoc": "20261008170000",
        "NgayHenTraMoi": "20261012170000",
        "LyDo": "Bổ sung bản sao căn cước",
        "SoCCCD": "079301001234",
        "DiaChi": "12 Lê Lợi, phường Bến Thành",
        "SoDienThoai": "0987654321",
    }
    payload = dossier(
        TrangThaiHoSo=5,
        ThoiDiemXuLy="20261003100000",
        Email="hang@example.vn",
        DonViXuLy="Phòng Kinh tế",
        KenhThucHien=2,
        DanhSachHoSoBoSung=[supplement],
        SoCCCD="079301009999",
        DiaChiThuongTru="34 Nguyễn Huệ",
        SoDienThoaiKhac="0900000000",
        GhiChu={"nested": "anything"},
    )
    assert (await post(fixed, payload))[0] == 202
    [stored] = await stored_payloads(migrated_url)
    phone = stored.pop("SoDienThoai")
    assert phone.startswith("hmac:") and "0912345678" not in phone
    expected = {k: v for k, v in payload.items() if k not in {"SoDienThoai"}}
    for unknown in ("SoCCCD", "DiaChiThuongTru", "SoDienThoaiKhac", "GhiChu"):
        del expected[unknown]
    expected["Email"] = "redacted"
    expected["DanhSachHoSoBoSung"] = [
        {
            "NgayHenTraTruoc": "20261008170000",
            "NgayHenTraMoi": "20261012170000",
            "LyDo": "Bổ sung bản sao căn cước",
        }
    ]
    assert stored == expected
    text = json.dumps(stored, ensure_ascii=False)
    for secret in ("079301", "Lê Lợi", "Nguyễn Huệ", "0987654321", "0900000000", "hang@"):
        assert secret not in text


async def test_the_contact_row_keeps_no_email_and_no_raw_phone(
    fixed: TestClient, migrated_url: str
) -> None:
    assert (await post(fixed, dossier(Email="hang@example.vn")))[0] == 202
    [contact] = await rows(migrated_url, "SELECT * FROM case_contacts")
    assert contact["email"] is None
    assert contact["phone"] is None
    assert contact["phone_hash"] and "0912345678" not in str(dict(contact))


async def test_the_apology_still_reads_the_stored_supplement(
    fixed: TestClient, migrated_url: str
) -> None:
    """The notices read `DanhSachHoSoBoSung` back from the inbox: what is kept still serves."""
    supplement = {
        "NgayHenTraTruoc": "20261008170000",
        "NgayHenTraMoi": "20261012170000",
        "LyDo": "Chờ ý kiến của cơ quan phối hợp",
        "SoCCCD": "079301001234",
    }
    assert (await post(fixed, dossier(TrangThaiHoSo=5, DanhSachHoSoBoSung=[supplement])))[0] == 202
    [stored] = await stored_payloads(migrated_url)
    moved = datetime(2026, 10, 12, 17, 0)
    event = EventForChat(
        event_id=1,
        case_code="H12.22-261001-0001",
        event_status=5,
        payload=stored,
        case_status=5,
        received_at=datetime(2026, 10, 1, 8, 30),
        promised_at=datetime(2026, 10, 8, 17, 0),
        promised_new_at=moved,
        due_at=moved,
        processing_unit=None,
        procedure_name="Cấp giấy chứng nhận đăng ký hộ kinh doanh",
        agency_name="Trung tâm",
        applicant_name=None,
        chat_id=42,
    )
    [*_, apology] = notice_intents([event], survey_statuses=(10,), not_before=LOCAL_NOW)
    assert apology.kind == "apology"
    assert apology.payload["reason"] == "Chờ ý kiến của cơ quan phối hợp"
    assert apology.payload["old_due"] == "2026-10-08"


async def test_a_nul_in_a_kept_reason_is_stored_and_unknown_fields_are_not(
    fixed: TestClient, migrated_url: str
) -> None:
    """A NUL that no text column could hold still round-trips in the inbox's JSON."""
    payload = dossier(
        DanhSachHoSoBoSung=[{"LyDo": "a\u0000b"}], GhiChu="a\u0000b", Extra={"x": ["\u0000"]}
    )
    assert (await post(fixed, payload))[0] == 202
    [stored] = await stored_payloads(migrated_url)
    assert stored["DanhSachHoSoBoSung"] == [{"LyDo": "a\u0000b"}]
    assert "GhiChu" not in stored and "Extra" not in stored


# --- 4. compressed bodies ---------------------------------------------------------------------


def padded(size: int) -> bytes:
    """A valid delivery of about `size` bytes (blank padding compresses to almost nothing)."""
    prefix = json.dumps(dossier(Pad="")).encode()
    return prefix[:-2] + b" " * max(0, size - len(prefix)) + b'"}'


async def post_compressed(
    client: TestClient, raw: bytes, *, encoding: str = "gzip"
) -> tuple[int, Any]:
    compressed = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    _, headers = signed(raw, timestamp=int(NOW))
    headers["Content-Encoding"] = encoding
    response = await client.post(ENDPOINT, data=compressed, headers=headers)
    return response.status, await response.json()


async def test_a_small_compressed_body_is_read(fixed: TestClient) -> None:
    assert (await post_compressed(fixed, padded(10_000), encoding="deflate"))[0] == 202


async def test_a_compressed_body_expanding_past_the_limit_is_a_413(fixed: TestClient) -> None:
    raw = padded(900 * 1024)
    assert len(gzip.compress(raw)) < 2048
    status, body = await post_compressed(fixed, raw)
    assert status == 413, body


async def test_a_zip_bomb_is_refused_without_expanding_it(
    fixed: TestClient, migrated_url: str
) -> None:
    bomb = gzip.compress(b"\x00" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB in 64 KB
    headers = signed(b"{}", timestamp=int(NOW))[1] | {"Content-Encoding": "gzip"}
    started = time.monotonic()
    response = await fixed.post(ENDPOINT, data=bomb, headers=headers)
    assert response.status == 413
    assert time.monotonic() - started < 5
    assert (await fixed.get("/healthz")).status == 200


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_is_not_what_its_encoding_says_is_a_400(
    fixed: TestClient, encoding: str
) -> None:
    body, headers = signed(dossier(), timestamp=int(NOW))
    headers["Content-Encoding"] = encoding
    response = await fixed.post(ENDPOINT, data=b"\x78\x9c not compressed " + body, headers=headers)
    assert response.status == 400, await response.text()
    assert (await fixed.get("/healthz")).status == 200


# --- 5. a captured delivery replayed under a new key -----------------------------------------


async def test_a_replay_under_a_new_key_is_the_same_delivery(
    fixed: TestClient, migrated_url: str
) -> None:
    payload = dossier(TrangThaiHoSo=4)
    first_status, first = await post(fixed, payload, key="evt-1")
    again_status, again = await post(fixed, payload, key="evt-2-replayed")
    bare_status, bare = await post(fixed, payload)
    assert (first_status, again_status, bare_status) == (202, 200, 200)
    assert first == again == bare
    assert (await rows(migrated_url, "SELECT count(*) AS n FROM case_events"))[0]["n"] == 1
    assert (await read_case(fixed, "H12.22-261001-0001"))["events"] == 1
    # A different body of the same case is still a new event.
    assert (await post(fixed, dossier(TrangThaiHoSo=5), key="evt-3"))[0] == 202


async def test_twenty_identical_deliveries_under_twenty_keys_apply_once(
    fixed: TestClient, migrated_url: str
) -> None:
    payload = dossier(TrangThaiHoSo=4)
    answers = await asyncio.gather(*(post(fixed, payload, key=f"k-{n}") for n in range(20)))
    assert sorted(status for status, _ in answers) == [200] * 19 + [202]
    assert {body["TrangThaiHoSo"] for _, body in answers} == {4}
    assert (await rows(migrated_url, "SELECT count(*) AS n FROM case_events"))[0]["n"] == 1
    assert (await read_case(fixed, "H12.22-261001-0001"))["events"] == 1


# --- 6. bodies that never finish ---------------------------------------------------------------


async def open_partial_upload(server: TestServer) -> tuple[asyncio.StreamReader, Any]:
    """A raw connection that announces 200 KB and sends five bytes of it."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    body, headers = signed(b"x" * 200_000, timestamp=int(NOW))
    head = (
        f"POST {ENDPOINT} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body[:5])
    await writer.drain()
    return reader, writer


async def test_a_body_that_stops_arriving_gets_408_and_the_server_stays_healthy(
    migrated_url: str,
) -> None:
    app = fixed_app(migrated_url)
    app[BODY_TIMEOUT] = 0.3
    async with TestClient(TestServer(app)) as client:
        reader, writer = await open_partial_upload(client.server)
        try:
            started = time.monotonic()
            status_line = await asyncio.wait_for(reader.readline(), timeout=3)
            assert status_line.startswith(b"HTTP/1.1 408"), status_line
            await asyncio.wait_for(reader.read(), timeout=3)  # and the server closes
            assert time.monotonic() - started < 2
        finally:
            writer.close()
        assert (await client.get("/healthz")).status == 200
        assert (await post(client, dossier()))[0] == 202


async def handler_started(in_flight: Any) -> None:
    while in_flight.count == 0:
        await asyncio.sleep(0.005)


async def test_shutdown_ends_a_stalled_upload_within_the_drain(migrated_url: str) -> None:
    """SIGTERM waits for requests in flight: a stalled upload is answered 408 inside that wait
    instead of holding shutdown until it is cancelled."""
    app = fixed_app(migrated_url)
    async with TestClient(TestServer(app)) as client:
        reader, writer = await open_partial_upload(client.server)
        try:
            in_flight = app[IN_FLIGHT]
            await asyncio.wait_for(handler_started(in_flight), timeout=3)
            assert await in_flight.drained(0.3)
            status_line = await asyncio.wait_for(reader.readline(), timeout=3)
            assert status_line.startswith(b"HTTP/1.1 408"), status_line
        finally:
            writer.close()


# --- migration 0009 ----------------------------------------------------------------------------


async def test_migration_0009_fills_the_hash_of_bodies_keyed_by_it(database_url: str) -> None:
    """Deliveries stored without a vendor key were keyed by their body's hash: an old capture
    replayed under a new key after the upgrade is a repeat too."""
    await migrate_async(database_url, "0008")
    digest = "ab" * 32
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for key in (f"sha256:{digest}", "key:vendor-1", "key:vendor-2"):
                await conn.execute(
                    text(
                        "INSERT INTO case_events (idempotency_key, case_code, status, event_at,"
                        " recorded_at, payload) VALUES (:key, 'HS-1', 2, :at, :at, '{}')"
                    ),
                    {"key": key, "at": LOCAL_NOW},
                )
    finally:
        await engine.dispose()
    await migrate_async(database_url, "0009")
    found = await rows(
        database_url, "SELECT idempotency_key, body_sha256 FROM case_events ORDER BY id"
    )
    assert [r["body_sha256"] for r in found] == [digest, None, None]
    engine = create_engine(database_url)
    try:
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO case_events (idempotency_key, body_sha256, case_code, status,"
                        " event_at, recorded_at, payload)"
                        " VALUES ('key:new', :digest, 'HS-1', 2, :at, :at, '{}')"
                    ),
                    {"digest": digest, "at": LOCAL_NOW},
                )
    finally:
        await engine.dispose()
