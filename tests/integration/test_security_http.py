"""Security headers on citizens' pages, no versions in `Server`, and who may read /metrics."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from bot.metrics import Metrics
from bot.web import ops_routes
from bot.web.keys import METRICS, SETTINGS
from tests.conftest import make_settings
from tests.support import bearer, dossier, signed

PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def assert_page_headers(response: web.StreamResponse | object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in PAGE_HEADERS.items():
        assert headers.get(name) == value, name
    policy = headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert "script-src" not in directives  # no script at all (default-src 'none')
    assert all(s.startswith("'sha256-") for s in directives["style-src"])
    assert headers["Server"] == "sipas"


async def test_case_page_and_unknown_link_send_the_security_headers(client: TestClient) -> None:
    body, headers = signed(dossier())
    answer = await client.post("/api/v1/onestop/events", data=body, headers=headers)
    token = str((await answer.json())["links"]["web"]).rsplit("/s/", 1)[1]
    page = await client.get(f"/s/{token}")
    assert page.status == 200
    assert_page_headers(page)
    html = await page.text()
    # The inline style is the one the policy's hash allows.
    import base64
    import hashlib

    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["Content-Security-Policy"]
    missing = await client.get("/s/AAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status == 404
    assert_page_headers(missing)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/healthz"), ("GET", "/nowhere"), ("GET", "/api/v1/cases/X"), ("PUT", "/healthz")],
)
async def test_no_response_announces_server_versions(
    client: TestClient, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=bearer())
    assert response.headers["Server"] == "sipas"
    assert "aiohttp" not in response.headers["Server"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_malformed_request_gets_no_versions_either(client: TestClient) -> None:
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    await writer.drain()
    answer = (await reader.read(4096)).decode("latin-1")
    writer.close()
    assert answer.split("\r\n", 1)[0].endswith("400 Bad Request")
    assert "\r\nServer: sipas\r\n" in answer
    assert "aiohttp" not in answer and "Python/" not in answer


def metrics_request(app: web.Application, remote: str, token: str | None = None) -> web.Request:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return make_mocked_request("GET", "/metrics", headers=headers, app=app).clone(remote=remote)


def metrics_app(token: str = "") -> web.Application:
    app = web.Application()
    app[SETTINGS] = make_settings("sqlite+aiosqlite:///:memory:", metrics_token=token)
    app[METRICS] = Metrics()
    return app


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.8.9.10", "::1"])
async def test_metrics_are_open_on_loopback(remote: str) -> None:
    response = await ops_routes.metrics(metrics_request(metrics_app(), remote))
    assert response.status == 200


@pytest.mark.parametrize("remote", ["203.0.113.7", "10.0.0.2", "2001:db8::1", "unix-socket"])
async def test_metrics_from_elsewhere_need_the_token(remote: str) -> None:
    refused = await ops_routes.metrics(metrics_request(metrics_app(), remote))
    assert refused.status == 403
    assert b"SIPAS_METRICS_TOKEN" in refused.body  # type: ignore[operator]
    app = metrics_app("scrape-token-1234")
    assert (await ops_routes.metrics(metrics_request(app, remote))).status == 401
    assert (await ops_routes.metrics(metrics_request(app, remote, "wrong"))).status == 401
    allowed = await ops_routes.metrics(metrics_request(app, remote, "scrape-token-1234"))
    assert allowed.status == 200


async def test_metrics_token_set_still_allows_loopback_without_it() -> None:
    app = metrics_app("scrape-token-1234")
    assert (await ops_routes.metrics(metrics_request(app, "127.0.0.1"))).status == 200
    assert (await ops_routes.metrics(metrics_request(app, "127.0.0.1", "wrong"))).status == 401
