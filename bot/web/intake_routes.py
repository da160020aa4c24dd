"""`POST /api/v1/onestop/events`: signed case events from one-stop systems.

Checks run in the contract's order and the first failure answers: size (413), content type
(415), signature (401), JSON and schema (400), meaning (422). A body that does not finish
arriving within `BODY_TIMEOUT` seconds is answered 408 and its connection closed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web

from bot.onestop.dossier import DossierError, validate
from bot.onestop.intake import body_digest, idempotency_key
from bot.onestop.json_body import parse_json
from bot.onestop.signature import SignatureError, verify
from bot.web.keys import CLOCK, IN_FLIGHT, INTAKE, METRICS, SETTINGS
from bot.web.responses import error, json_response
from storage.errors import StorageUnavailable

MAX_BODY = 256 * 1024
# Seconds a client has to send the whole body (256 KiB in 30 s is 9 KB/s); then 408 and the
# connection is closed, so a stalled upload holds a connection for half a minute at most (less
# once shutdown drains, see bot/web/inflight.py). Tests shorten it by setting the app key.
DEFAULT_BODY_TIMEOUT = 30.0
BODY_TIMEOUT = web.AppKey("intake_body_timeout", float)
log = logging.getLogger(__name__)
routes = web.RouteTableDef()


class _BodyUnreadable(Exception):
    """The body arrived broken: cut short, or not decodable in its Content-Encoding."""


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The whole (decompressed) body, or None as soon as it is known to exceed `limit` bytes.

    A declared Content-Length over the limit settles it unread. Otherwise the body is read chunk
    by chunk, counted after aiohttp's transparent decompression: a small gzip body can expand
    far past the limit, and aiohttp inflates it piecewise as it is read (64 KiB at a time), so
    no more than one chunk past the limit is ever held.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        return None
    stream = request.content
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await stream.readany():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except (web.RequestPayloadError, ConnectionError) as exc:
        # How aiohttp reports a body cut short or compressed wrongly.
        raise _BodyUnreadable(str(exc)) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _answer_and_close(request: web.Request, response: web.Response) -> web.Response:
    """Send `response`, then close the connection: the rest of a stalled or broken body is not
    worth reading, and aiohttp would otherwise go on reading it for up to 10 s."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()  # the transport flushes the answer before it closes
    return response


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

    try:
        async with app[IN_FLIGHT].upload(app.get(BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT)):
            body = await _read_limited(request, MAX_BODY)
    except TimeoutError:
        return await _answer_and_close(
            request, refuse("slow_body", 408, "the request body did not arrive in time")
        )
    except _BodyUnreadable:
        return await _answer_and_close(
            request, refuse("unreadable_body", 400, "the request body could not be read")
        )
    if body is None:
        return refuse("too_large", 413, f"body is larger than {MAX_BODY // 1024} KiB")
    if request.content_type != "application/json":
        return refuse("content_type", 415, "Content-Type must be application/json")
    now = app[CLOCK]()
    try:
        verify(
            secrets=settings.onestop_secrets,
            timestamp=request.headers.get("X-Sipas-Timestamp"),
            signature=request.headers.get("X-Sipas-Signature"),
            body=body,
            now=now,
            max_skew=settings.max_clock_skew_seconds,
        )
    except SignatureError as exc:
        return refuse(f"signature_{exc.reason}", 401, exc.message)
    digest = body_digest(body)
    # The contract's dates are local wall-clock times; the latest acceptable one is read in the
    # service's zone from the same clock that judged the signature's freshness.
    not_after = datetime.fromtimestamp(now + settings.max_clock_skew_seconds, settings.tz)
    try:
        key = idempotency_key(request.headers.get("Idempotency-Key"), body, digest=digest)
        payload = parse_json(body)
        dossier = validate(payload, not_after=not_after)
    except DossierError as exc:
        reason = "schema" if exc.http_status == 400 else "meaning"
        return refuse(reason, exc.http_status, exc.message, exc.fields)
    try:
        reply = await app[INTAKE].accept(dossier, key=key, body_sha256=digest, payload=payload)
    except StorageUnavailable:
        log.exception("intake could not reach the database")
        metrics.events_rejected.labels("unavailable").inc()
        return error(503, "database unavailable, retry later", headers={"Retry-After": "5"})
    metrics.accepted(reply.created).inc()
    return json_response(reply.body, status=202 if reply.created else 200, ascii_only=True)
