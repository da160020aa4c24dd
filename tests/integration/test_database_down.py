"""With the database unreachable the service says so: 503, never a hang or a trace."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from tests.conftest import make_settings
from tests.support import bearer, dossier, signed


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def client_without_database() -> AsyncIterator[TestClient]:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/nowhere"
    app = create_app(make_settings(url))
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_health_reports_the_database_down(client_without_database: TestClient) -> None:
    response = await client_without_database.get("/healthz")
    assert response.status == 503
    assert await response.json() == {"status": "degraded", "database": "unreachable"}


async def test_intake_and_read_answer_503_with_retry_after(
    client_without_database: TestClient,
) -> None:
    body, headers = signed(dossier())
    posted = await client_without_database.post(
        "/api/v1/onestop/events", data=body, headers=headers
    )
    assert posted.status == 503
    assert posted.headers["Retry-After"] == "5"
    assert "error" in await posted.json()
    read = await client_without_database.get("/api/v1/cases/X", headers=bearer())
    assert read.status == 503
