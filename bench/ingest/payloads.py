"""Pre-built, pre-signed intake requests: every one is a new delivery (a distinct body).

Bodies come from `bot.cli.cases.sample_event`. Case codes are unique per phase (`prefix`), and each
case receives one event per status in `statuses`. Events of one case are spread `block` requests
apart, so concurrent requests almost never touch the same case row, while the mix still holds
both new cases (INSERT) and later events of known cases (ON CONFLICT DO UPDATE).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.cli.cases import sample_event

DEFAULT_SECRET = "bench-ingest-secret-0123456789abcdef"
DEFAULT_STATUSES = (1, 2, 4, 10)
PATH = "/api/v1/onestop/events"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

Request = tuple[bytes, dict[str, str]]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`X-Sipas-Signature` value: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def build_requests(
    count: int,
    *,
    prefix: str,
    secret: str = DEFAULT_SECRET,
    statuses: Sequence[int] = DEFAULT_STATUSES,
    block: int = 1000,
) -> list[Request]:
    """`count` signed requests, timestamped now (so build them right before a phase)."""
    if count <= 0:
        return []
    if len(prefix) > 40:
        raise ValueError("prefix is too long for MaHoSo (64 characters)")
    now = datetime.now(ZONE).replace(tzinfo=None, microsecond=0)
    templates = {status: sample_event("X", status, now) for status in statuses}
    timestamp = str(int(time.time()))
    requests: list[Request] = []
    case_base = 0
    while len(requests) < count:
        cases_in_block = min(block, -(-(count - len(requests)) // len(statuses)))
        for status in statuses:
            template = templates[status]
            for offset in range(cases_in_block):
                event = dict(template)
                event["MaHoSo"] = f"{prefix}-{case_base + offset:07d}"
                body = json.dumps(event, ensure_ascii=False).encode("utf-8")
                headers = {
                    "Content-Type": "application/json",
                    "X-Sipas-Timestamp": timestamp,
                    "X-Sipas-Signature": sign(secret, timestamp, body),
                }
                requests.append((body, headers))
                if len(requests) == count:
                    return requests
        case_base += cases_in_block
    return requests
