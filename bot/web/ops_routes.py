"""Operations: `/healthz`, `/metrics`, and the middleware that times and guards every request."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.web.keys import ENGINE, IN_FLIGHT, METRICS, SETTINGS
from bot.web.responses import error, json_response
from storage.cases import ping
from storage.errors import StorageError, StorageUnavailable

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Answer 200 when the database answers, 503 when it does not."""
    try:
        await ping(request.app[ENGINE])
    except StorageUnavailable as exc:
        log.warning("health check failed", extra={"error": str(exc)})
        return json_response({"status": "degraded", "database": "unreachable"}, status=503)
    return json_response({"status": "ok", "database": "ok"})


def _loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a Unix socket or a proxy's name: not known to be this machine


def _metrics_refusal(request: web.Request) -> web.Response | None:
    """None when the scraper may read: from this machine, or with SIPAS_METRICS_TOKEN."""
    token = request.app[SETTINGS].metrics_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token:
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return None
        if _loopback(request.remote) and not given:
            return None
        return error(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    if _loopback(request.remote):
        return None
    return error(
        403,
        "/metrics answers only this machine; set SIPAS_METRICS_TOKEN and scrape with "
        "Authorization: Bearer <token> to read it from elsewhere",
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Export Prometheus metrics in the text format (loopback, or with the metrics token)."""
    refusal = _metrics_refusal(request)
    if refusal is not None:
        return refusal
    registry = request.app[METRICS]
    for refresh in registry.before_scrape:
        try:
            await refresh()
        except StorageError as exc:
            log.warning("metrics: a figure could not be read", extra={"error": str(exc)})
    response = web.Response(body=registry.render())
    response.headers["Content-Type"] = registry.content_type
    return response


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Time every request; turn an unexpected failure into a JSON 500 without a trace."""
    started = time.perf_counter()
    status = 500
    in_flight = request.app[IN_FLIGHT]
    in_flight.enter()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        if exc.status >= 400 and exc.content_type != "application/json":
            return error(exc.status, exc.reason)
        raise
    except StorageUnavailable:
        log.exception("database unavailable", extra={"path": request.path})
        status = 503
        return error(503, "database unavailable, retry later", headers={"Retry-After": "5"})
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        return error(500, "internal error")
    finally:
        in_flight.leave()
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        request.app[METRICS].latency(route, request.method, status).observe(
            time.perf_counter() - started
        )
