"""`POST /api/v1/onestop/events`: signed case events from one-stop systems.

Checks run in the contract's order and the first failure answers: size (413), content type
(415), signature (401), JSON and schema (400), meaning (422).
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.onestop.dossier import DossierError, parse_json, validate
from bot.onestop.intake import idempotency_key
from bot.onestop.signature import SignatureError, verify
from bot.web.keys import CLOCK, INTAKE, METRICS, SETTINGS
from bot.web.responses import error, json_response
from storage.errors import StorageUnavailable

MAX_BODY = 256 * 1024
log = logging.getLogger(__name__)
routes = web.RouteTableDef()


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to exceed `limit` bytes."""
    if request.content_length is not None:
        # The parser reads exactly Content-Length bytes, so a declared size settles it.
        return None if request.content_length > limit else await request.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@routes.post("/api/v1/onestop/events")
async def post_event(request: web.Request) -> web.Response:
    """Accept one case event: store it once, update the case, answer with the links."""
    app = request.app
    metrics = app[METRICS]
    settings = app[SETTINGS]

    def refuse(
        reason: str,
        status: int,
        message: str,
        fields: dict[str, str] | None = None,
    ) -> web.Response:
        metrics.events_rejected.labels(reason).inc()
        log.info("intake refused", extra={"reason": reason, "status": status})
        return error(status, message, fields)

    body = await _read_limited(request, MAX_BODY)
    if body is None:
        return refuse("too_large", 413, f"body is larger than {MAX_BODY // 1024} KiB")
    if request.content_type != "application/json":
        return refuse("content_type", 415, "Content-Type must be application/json")
    try:
        verify(
            secrets=settings.onestop_secrets,
            timestamp=request.headers.get("X-Sipas-Timestamp"),
            signature=request.headers.get("X-Sipas-Signature"),
            body=body,
            now=app[CLOCK](),
            max_skew=settings.max_clock_skew_seconds,
        )
    except SignatureError as exc:
        return refuse(f"signature_{exc.reason}", 401, exc.message)
    try:
        key = idempotency_key(request.headers.get("Idempotency-Key"), body)
        payload = parse_json(body)
        dossier = validate(payload)
    except DossierError as exc:
        reason = "schema" if exc.http_status == 400 else "meaning"
        return refuse(reason, exc.http_status, exc.message, exc.fields)
    try:
        reply = await app[INTAKE].accept(dossier, key=key, payload=payload)
    except StorageUnavailable:
        log.exception("intake could not reach the database")
        metrics.events_rejected.labels("unavailable").inc()
        return error(503, "database unavailable, retry later", headers={"Retry-After": "5"})
    metrics.accepted(reply.created).inc()
    return json_response(reply.body, status=202 if reply.created else 200, ascii_only=True)
