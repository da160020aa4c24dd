"""Operations: `/healthz`, `/metrics`, and the middleware that times and guards every request."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.web.keys import ENGINE, IN_FLIGHT, METRICS
from bot.web.responses import error, json_response
from storage.cases import ping
from storage.errors import StorageUnavailable

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


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Export Prometheus metrics in the text format."""
    registry = request.app[METRICS]
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
