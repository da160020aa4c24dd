"""JSON error answers in one shape: `{"error": "...", "fields": {...}}`."""

from __future__ import annotations

import json

from aiohttp import web


def json_response(body: object, *, status: int = 200, ascii_only: bool = False) -> web.Response:
    """A JSON answer; `ascii_only` escapes non-ASCII text (the same JSON, encoded faster: the
    intake hot path), otherwise Vietnamese stays readable for people reading with curl."""
    return web.Response(
        body=json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "replace"),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def error(
    status: int,
    message: str,
    fields: dict[str, str] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, object] = {"error": message}
    if fields:
        body["fields"] = fields
    response = json_response(body, status=status)
    if headers:
        response.headers.update(headers)
    return response
