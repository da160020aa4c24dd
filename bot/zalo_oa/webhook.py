"""`POST /zalo/webhook`: Zalo OA events stored first, answered at once; and the picture the
phone request shows (`GET /zalo/share-phone.png`).

The order of checks: the body's size (413), the signature over the raw body (401, nothing
stored: a forged event costs one hash), the JSON (400 unless an object with an `event_name`
and a `timestamp`), then the event is made safe to keep (`events.safe_body`) and handed to the
inbox. Zalo hears 200 `{"ok": true}` for a new event, a redelivery and a write still under way
alike, and 503 when the database refused the write (Zalo delivers it again later). Late events
are kept too: Zalo redelivers late.

The route answers 404 while the OA is off (no `ZaloOAWebhook` set on the app). Nothing of a
body — phone numbers least of all — is ever logged.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.channels.inbox import EventInbox
from bot.sealing import Sealer
from bot.web.responses import error, json_response
from bot.zalo_oa import signature
from bot.zalo_oa.events import EventError, OAEvent, read_event, safe_body
from storage.errors import StorageError

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/zalo/webhook"
PICTURE_PATH = "/zalo/share-phone.png"
MAX_BODY = 64 * 1024  # an OA event is a few hundred bytes
BODY_TIMEOUT = 5.0  # seconds to receive the body (Zalo wants an answer within about 2 s)


class _Unreadable(Exception):
    """The body arrived broken or too slowly."""


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to exceed `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > limit:
                    return None
                chunks.append(chunk)
    except (TimeoutError, web.RequestPayloadError, ConnectionError) as exc:
        raise _Unreadable(type(exc).__name__) from None
    return b"".join(chunks)


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


class ZaloOAWebhook:
    """Takes the OA's events: checks, stores (through the inbox), answers.

    Counters for /metrics are plain attributes: `forged`, `bad`, `too_large`, `unavailable`,
    and per event kind `accepted` and `duplicates`.
    """

    def __init__(
        self,
        inbox: EventInbox,
        *,
        app_id: str,
        secret_key: str,
        sealer: Sealer,
        oa_id: str = "",
        max_body: int = MAX_BODY,
        acts_on: Callable[[OAEvent], bool] = lambda event: True,
    ) -> None:
        self._inbox = inbox
        self._acts_on = acts_on  # False: stored settled, never queued (echoes, receipts)
        self._app_id = app_id
        self._secret_key = secret_key
        self._sealer = sealer
        self._oa_id = oa_id
        self._max_body = max_body
        self.forged = 0
        self.bad = 0
        self.too_large = 0
        self.unavailable = 0
        self.accepted: dict[str, int] = {}
        self.duplicates: dict[str, int] = {}

    def _bad(self, message: str) -> web.Response:
        self.bad += 1
        return error(400, message)

    async def handle(self, request: web.Request) -> web.Response:
        """One event pushed by Zalo."""
        try:
            raw = await _read_capped(request, self._max_body)
        except _Unreadable:
            return self._bad("the request body could not be read")
        if raw is None:
            self.too_large += 1
            return error(413, f"body is larger than {self._max_body // 1024} KiB")
        body = _parsed(raw)
        # The signature covers the body's own timestamp: read it before anything else is
        # trusted (a body that is no JSON object is signed with an empty one).
        stamp = body.get("timestamp", "") if isinstance(body, dict) else ""
        if not signature.verify(
            request.headers.get(signature.HEADER),
            app_id=self._app_id,
            raw_body=raw,
            timestamp=str(stamp) if isinstance(stamp, str | int) else "",
            secret_key=self._secret_key,
        ):
            self.forged += 1
            log.warning("zalo oa: event with a wrong signature refused")
            return error(401, "the event signature is wrong or missing")
        if not isinstance(body, dict):
            return self._bad("the body must be a JSON object")
        try:
            event = read_event(body, raw, oa_id=self._oa_id)
        except EventError as exc:
            return self._bad(str(exc))
        if not event.known:
            log.info("zalo oa: event of an unknown kind stored", extra={"kind": event.kind[:64]})
        try:
            outcome = await self._inbox.accept(
                dedupe_key=event.dedupe_key,
                kind=event.kind,
                user=event.user,
                body=safe_body(body, self._sealer),
                inert=not self._acts_on(event),
            )
        except StorageError:
            self.unavailable += 1
            log.warning("zalo oa: the database refused an event", extra={"kind": event.kind[:64]})
            return error(503, "the event could not be stored; deliver it again later")
        counts = self.duplicates if outcome == "duplicate" else self.accepted
        counts[event.kind] = counts.get(event.kind, 0) + 1
        return json_response({"ok": True})


# The running webhook, set while the OA is on (absent while ZALO_OA_ID or its key is empty).
WEBHOOK = web.AppKey("zalo_oa_webhook", ZaloOAWebhook)

routes = web.RouteTableDef()


@routes.post(WEBHOOK_PATH)
async def zalo_oa_webhook(request: web.Request) -> web.Response:
    """Events pushed by the Zalo OA."""
    webhook = request.app.get(WEBHOOK)
    if webhook is None:
        return error(404, "the Zalo OA channel is off")
    return await webhook.handle(request)


@functools.cache
def share_phone_png() -> bytes:
    """The picture of the phone request: a phone on Zalo blue, no words (it is shown beside
    the request's own title and subtitle, in the user's language). Drawn once, without pyplot
    (whose global state is not safe across threads)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyBboxPatch

    def rounded(
        x: float, y: float, width: float, height: float, radius: float, color: str
    ) -> FancyBboxPatch:
        style = f"round,pad=0,rounding_size={radius}"
        return FancyBboxPatch((x, y), width, height, boxstyle=style, color=color)

    figure = Figure(figsize=(6.4, 3.35), dpi=100, facecolor="#0068ff")
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, 64)
    axes.set_ylim(0, 33.5)
    axes.set_axis_off()
    axes.add_patch(rounded(24, 4, 16, 25.5, 2.5, "white"))
    axes.add_patch(rounded(25.6, 8.5, 12.8, 17.5, 0.8, "#cfe2ff"))
    axes.add_patch(Circle((32, 6.2), 1.1, color="#0068ff"))
    for y in (21.5, 18.0, 14.5):
        axes.add_patch(rounded(27.5, y, 9, 1.6, 0.8, "#0068ff"))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor=figure.get_facecolor())
    return buffer.getvalue()


@routes.get(PICTURE_PATH)
async def share_phone_picture(request: web.Request) -> web.Response:
    """The phone request's picture (Zalo fetches it by URL)."""
    png = await asyncio.to_thread(share_phone_png)
    return web.Response(
        body=png,
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def install(app: web.Application) -> None:
    """Add the OA's routes to the service."""
    app.add_routes(routes)
