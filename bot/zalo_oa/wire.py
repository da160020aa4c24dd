"""One HTTP call to a Zalo API (the OA's, OAuth's, ZNS's) and how its answer is read.

Zalo answers errors with HTTP 200 and a negative `error` in the body; 5xx, 429, timeouts and
broken connections are transient (the caller's "unavailable" exception); any other answer is
returned as (status, JSON object), an unreadable body being an empty object (or transient on
a 200, where a body was promised).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    path: str,
    unavailable: type[Exception],
    **request: Any,
) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of any 2xx/4xx answer; `unavailable(...)` for a transient failure.
    `path` names the call in logs (never the URL: it may carry a token)."""
    try:
        async with session.request(method, url, **request) as response:
            status = response.status
            raw = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.info("zalo call failed", extra={"path": path, "error": type(exc).__name__})
        raise unavailable(f"{path}: {type(exc).__name__}") from exc
    if status >= 500 or status == 429:
        log.info("zalo call failed", extra={"path": path, "status": status})
        raise unavailable(f"{path}: HTTP {status}")
    try:
        body = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        if status == 200:
            raise unavailable(f"{path}: an unreadable answer")
        body = {}
    return status, body


def as_int(value: Any) -> int | None:
    """An integer Zalo sent as a number or a string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def error_code(body: dict[str, Any]) -> int | None:
    return as_int(body.get("error"))
