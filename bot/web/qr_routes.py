"""The receipt's QR code: `GET /s/{token}/qr.svg` and `/s/{token}/qr.png` encode the case's
`links.web`, and the same drawing goes into the printed receipt block (`sipas receipt`).

The code uses error correction level H (a receipt gets folded, crumpled and smudged) and keeps
the four-module quiet zone on a white ground. Its size is fixed by us, never by the request:
the SVG prints 35 mm square (a `viewBox` in modules, so it scales without loss), the PNG is
300–600 pixels at 300 dpi. The token is in the URL, so the answers are not cached anywhere
and send no referrer; an unknown or malformed token gets a small HTML 404 page.
"""

from __future__ import annotations

import functools
import io
from html import escape

import segno
from aiohttp import web

from bot.onestop.links import TOKEN_RE, token_hash
from bot.texts import CASE_PAGE, VI
from bot.web.keys import CASES, INTAKE

routes = web.RouteTableDef()

ERROR_LEVEL = "h"
QUIET_ZONE = 4  # modules of light margin around the code (ISO/IEC 18004)
SVG_SIZE_MM = 35
PNG_TARGET_PX = 480
PNG_DPI = 300
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def qr_code(url: str) -> segno.QRCode:
    """The QR code of `url` (never a Micro QR: phones' camera apps do not read those)."""
    return segno.make(url, error=ERROR_LEVEL, micro=False)


def qr_modules(url: str) -> list[list[bool]]:
    """The code's modules row by row, quiet zone included (True = dark)."""
    return [[bool(m) for m in row] for row in qr_code(url).matrix_iter(border=QUIET_ZONE)]


def qr_path(modules: list[list[bool]]) -> str:
    """SVG path data drawing the dark modules, one rectangle per horizontal run."""
    parts: list[str] = []
    for y, row in enumerate(modules):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return "".join(parts)


def qr_symbol(url: str, *, x: float, y: float, size: float) -> str:
    """The code as an `<svg>` element placed at (`x`, `y`), `size` units square, for embedding
    in a larger SVG drawing (the receipt block)."""
    modules = qr_modules(url)
    n = len(modules)
    return (
        f'<svg x="{x:g}" y="{y:g}" width="{size:g}" height="{size:g}" viewBox="0 0 {n} {n}" '
        'shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path fill="#000" d="{qr_path(modules)}"/></svg>'
    )


@functools.lru_cache(maxsize=128)
def qr_svg(url: str) -> bytes:
    """A standalone SVG document of the code, `SVG_SIZE_MM` millimetres square."""
    modules = qr_modules(url)
    n = len(modules)
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_SIZE_MM}mm" '
        f'height="{SVG_SIZE_MM}mm" viewBox="0 0 {n} {n}" shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path fill="#000" d="{qr_path(modules)}"/></svg>\n'
    )
    return document.encode("utf-8")


@functools.lru_cache(maxsize=128)
def qr_png(url: str) -> bytes:
    """A PNG of the code: whole pixels per module, about `PNG_TARGET_PX` pixels square."""
    code = qr_code(url)
    width, _ = code.symbol_size(border=QUIET_ZONE)
    out = io.BytesIO()
    code.save(
        out,
        kind="png",
        scale=max(1, PNG_TARGET_PX // width),
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        dpi=PNG_DPI,
    )
    return out.getvalue()


async def _web_link(request: web.Request) -> str | None:
    """The case's `links.web` for the token in the path, or None for an unknown token."""
    token = request.match_info["token"]
    if not TOKEN_RE.match(token):
        return None
    found = await request.app[CASES].by_link(token_hash(token))
    if found is None:
        return None
    return request.app[INTAKE].links(found[0].code, token)["web"]


def _not_found() -> web.Response:
    text = CASE_PAGE[VI]
    title = escape(text["not_found_title"])
    body = (
        '<!doctype html>\n<html lang="vi"><head><meta charset="utf-8">'
        f"<title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{escape(text['not_found'])}</p></body></html>"
    )
    return web.Response(text=body, status=404, content_type="text/html", headers=_HEADERS)


@routes.get("/s/{token}/qr.svg")
async def qr_svg_image(request: web.Request) -> web.Response:
    """Draw the QR code of the case's web link as SVG."""
    url = await _web_link(request)
    if url is None:
        return _not_found()
    return web.Response(body=qr_svg(url), content_type="image/svg+xml", headers=_HEADERS)


@routes.get("/s/{token}/qr.png")
async def qr_png_image(request: web.Request) -> web.Response:
    """Draw the QR code of the case's web link as PNG."""
    url = await _web_link(request)
    if url is None:
        return _not_found()
    return web.Response(body=qr_png(url), content_type="image/png", headers=_HEADERS)
