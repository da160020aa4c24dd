"""Security headers of every HTTP answer, and a `Server` header that names no versions.

One hook (`app.on_response_prepare`) sets them on every response the application sends —
pages, JSON, errors — so a page added later inherits them. Pages with inline CSS register it
with `inline_style`; the Content-Security-Policy allows exactly those styles by hash and no
script at all.
"""

from __future__ import annotations

import base64
import hashlib

from aiohttp import web, web_response

SERVER = "sipas"
_STYLE_HASHES: list[str] = []


def inline_style(css: str) -> str:
    """Allow `css` as the content of a `<style>` element; return it unchanged."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    source = f"'sha256-{digest}'"
    if source not in _STYLE_HASHES:
        _STYLE_HASHES.append(source)
    return css


def content_security_policy() -> str:
    styles = " ".join(_STYLE_HASHES) or "'none'"
    return (
        "default-src 'none'; "
        f"style-src {styles}; "
        "img-src 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'none'"
    )


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # the token of a citizen's link is in the URL
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }


async def secure_response(_request: web.Request, response: web.StreamResponse) -> None:
    """Add the security headers (a handler's own value wins) and hide the versions."""
    for name, value in _headers().items():
        response.headers.setdefault(name, value)
    response.headers["Server"] = SERVER


def install(app: web.Application) -> None:
    """Put the headers on every response of `app`."""
    # Answers to malformed requests are made below the application, without its hooks:
    # aiohttp fills their Server header from this module constant.
    web_response.SERVER_SOFTWARE = SERVER
    app.on_response_prepare.append(secure_response)
