"""The one-stop side of the fan-out benchmark: case events without a phone, signed and posted
to the service's intake (`POST /api/v1/onestop/events`)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bench.zalo_oa.common import ONESTOP_SECRET
from bot.cli.cases import sample_event
from bot.onestop.signature import sign

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local_now() -> datetime:
    return datetime.now(ZONE).replace(tzinfo=None)


def event(code: str, status: int, at: datetime) -> dict[str, Any]:
    """A one-stop event of case `code` without a phone (the case is linked by its code only)."""
    body = sample_event(code, status, at)
    body["SoDienThoai"] = None
    return {k: v for k, v in body.items() if v is not None}


async def post_case(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """One signed one-stop event; the intake's answer (retried on 503)."""
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    for attempt in range(5):
        stamp_s = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Sipas-Timestamp": stamp_s,
            "X-Sipas-Signature": sign(ONESTOP_SECRET, stamp_s, raw),
        }
        async with http.post(f"{url}/api/v1/onestop/events", data=raw, headers=headers) as r:
            if r.status in (200, 202):
                return dict(await r.json())
            text = await r.text()
        if r.status != 503 or attempt == 4:
            raise RuntimeError(f"intake answered {r.status}: {text[:300]}")
        await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def post_cases(
    http: aiohttp.ClientSession, url: str, bodies: list[dict[str, Any]], concurrency: int
) -> list[dict[str, Any]]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(body: dict[str, Any]) -> dict[str, Any]:
        async with semaphore:
            return await post_case(http, url, body)

    return list(await asyncio.gather(*(one(b) for b in bodies)))
