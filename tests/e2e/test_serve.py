"""End to end: the real `sipas serve` process, events over HTTP, state read back."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.service import ServiceProcess
from tests.support import API_TOKEN, SECRET, bearer, dossier, signed

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(empty_database_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    """`sipas serve` on an empty database: it migrates it at start."""
    env = {
        "SIPAS_DATABASE_URL": empty_database_url,
        "SIPAS_ONESTOP_SECRETS": f"old-secret,{SECRET}",
        "SIPAS_API_TOKEN": API_TOKEN,
    }
    with ServiceProcess(tmp_path, env) as process:
        yield process


@pytest.mark.both_databases
async def test_events_posted_over_http_are_read_back(service: ServiceProcess) -> None:
    lifecycle = [
        dossier(TrangThaiHoSo=2, ThoiDiemXuLy="20261001083000"),
        dossier(TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000"),
        dossier(TrangThaiHoSo=10, ThoiDiemXuLy="20261009100000", NgayTra="20261009100000"),
    ]
    async with aiohttp.ClientSession(service.url) as http:
        for payload in lifecycle:
            body, headers = signed(payload)
            async with http.post("/api/v1/onestop/events", data=body, headers=headers) as r:
                assert r.status == 202, await r.text()
                answer = await r.json()
        body, headers = signed(lifecycle[-1])
        async with http.post("/api/v1/onestop/events", data=body, headers=headers) as r:
            assert r.status == 200
        async with http.get("/api/v1/cases/H12.22-261001-0001", headers=bearer()) as r:
            case = await r.json()
        async with http.get(answer["links"]["web"].removeprefix(service.url)) as r:
            page = await r.text()
    assert answer["links"]["web"].startswith(f"{service.url}/s/")
    assert case["TrangThaiHoSo"] == 10
    assert case["events"] == 3
    assert case["timeliness"] == "late"  # returned 09/10, promised 08/10
    assert case["NgayTiepNhan"] == "2026-10-01T08:30:00+07:00"
    assert 'id="survey"' in page  # at the survey status the link is the survey itself


async def test_bad_requests_get_clear_answers(service: ServiceProcess) -> None:
    async with aiohttp.ClientSession(service.url) as http:
        body, headers = signed(dossier(TrangThaiHoSo=11))
        async with http.post("/api/v1/onestop/events", data=body, headers=headers) as r:
            assert r.status == 422
            assert "TrangThaiHoSo" in (await r.json())["fields"]
        body, headers = signed(dossier(), secret="unknown")
        async with http.post("/api/v1/onestop/events", data=body, headers=headers) as r:
            assert r.status == 401
        body, headers = signed(dossier(), timestamp=int(time.time()) - 301)
        async with http.post("/api/v1/onestop/events", data=body, headers=headers) as r:
            assert r.status == 401
        body, headers = signed(dossier(), secret="old-secret")  # rotation: both accepted
        async with http.post("/api/v1/onestop/events", data=body, headers=headers) as r:
            assert r.status == 202
        async with http.get("/healthz") as r:
            assert r.status == 200


async def test_sigterm_lets_an_in_flight_request_finish(service: ServiceProcess) -> None:
    body, headers = signed(dossier("INFLIGHT-1"))
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    head = (
        "POST /api/v1/onestop/events HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{service.port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body[:10])
    await writer.drain()
    await asyncio.sleep(0.3)
    assert service.process is not None
    service.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.5)
    writer.write(body[10:])
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), timeout=20)
    writer.close()
    assert response.startswith(b"HTTP/1.1 202"), response[:200]
    assert await asyncio.to_thread(service.process.wait, 20) == 0
