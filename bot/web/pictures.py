"""Pictures handed to a platform by URL: the Zalo Bot's `sendPhoto` takes a link, not the
bytes, so a chart (a head's digest) is kept for a while and served at
`GET /media/<token>.png` for the platform to fetch.

`PictureHost.host(png)` stores the picture under the SHA-256 of a fresh random token (128
bits; the token itself is only in the URL) for `LIFETIME` and answers
`{SIPAS_PUBLIC_URL}/media/<token>.png`. The route answers the PNG while it has not expired,
else a plain 404; anything but a PNG of at most `MAX_PICTURE_BYTES` is never hosted.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from aiohttp import web

from bot.web.keys import ENGINE, SERVICES
from storage.errors import StorageError
from storage.pictures import PictureStore

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

PATH_PREFIX = "/media/"
LIFETIME = timedelta(days=7)  # the platform fetches at once; a later re-fetch still works
MAX_PICTURE_BYTES = 2 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NAME = re.compile(r"([A-Za-z0-9_-]{22})\.png")
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=3600",
    "Referrer-Policy": "no-referrer",
}
_BUSY = {"Retry-After": "5", "Cache-Control": "no-store"}


def _not_found() -> web.Response:
    return web.Response(status=404, text="Không tìm thấy ảnh.\n", headers=_HEADERS)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class PictureHost:
    """Keeps pictures for a platform to fetch and names their URL."""

    def __init__(
        self,
        store: PictureStore,
        *,
        public_url: str,
        now: Callable[[], datetime],
        lifetime: timedelta = LIFETIME,
    ) -> None:
        self._store = store
        self._base = public_url.rstrip("/") + PATH_PREFIX
        self._now = now
        self._lifetime = lifetime

    async def host(self, png: bytes) -> str | None:
        """The URL `png` can be fetched at; None for what is not a PNG or is too large (the
        caller sends its text alone). A database error propagates."""
        if not png.startswith(PNG_SIGNATURE) or len(png) > MAX_PICTURE_BYTES:
            log.warning("picture not hosted: not a PNG or too large", extra={"bytes": len(png)})
            return None
        token = secrets.token_urlsafe(16)
        now = self._now()
        await self._store.put(_hash(token), png, now=now, expires_at=now + self._lifetime)
        return f"{self._base}{token}.png"


@routes.get(PATH_PREFIX + "{name}")
async def picture(request: web.Request) -> web.Response:
    found = _NAME.fullmatch(request.match_info["name"])
    if found is None:
        return _not_found()
    now = request.app[SERVICES].surveys.clock.utcnow()
    try:
        png = await PictureStore(request.app[ENGINE]).get(_hash(found.group(1)), now=now)
    except StorageError:
        return web.Response(
            status=503, text="Hệ thống đang bận, vui lòng thử lại sau.\n", headers=_BUSY
        )
    if png is None:
        return _not_found()
    return web.Response(body=png, content_type="image/png", headers=_HEADERS)


__all__ = ["LIFETIME", "MAX_PICTURE_BYTES", "PictureHost", "routes"]
