"""The ZNS HTTP API: send a template message to a phone, read back service ratings.

ZNS is called with the OA's access token (`bot.zalo_oa.tokens.OATokens`): every call takes
the current one, and a call Zalo answers `-124` (the token is invalid, expired or replaced by
a refresh) is made once more with a renewed token. Zalo answers HTTP 200 with a negative
`error` when it refuses a call; the methods return those answers (`ZnsAnswer`, `RatingPage`)
and raise only when there is no answer to read:

    ZnsUnavailable      timeout, connection error, HTTP 5xx/429, unreadable body: try later
    TokensDead          (from the OA's tokens) no usable token pair: wait for a new one

Phone numbers and tokens never reach a log line or an exception text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from bot.zalo_oa import wire

log = logging.getLogger(__name__)

SEND_PATH = "/message/template"
RATING_PATH = "/rating/get"
TIMEOUT_SECONDS = 10.0
MAX_RATING_LIMIT = 100  # rows per page of /rating/get

INVALID_PHONE = -108
NO_ZALO_ACCOUNT = -118
INVALID_TOKEN = -124
DAILY_QUOTA_EXCEEDED = -144
# The phone can never get ZNS: do not try that case again.
FINAL_FOR_CASE = frozenset({INVALID_PHONE, NO_ZALO_ACCOUNT})
HTTP_REFUSED = -1  # the `error` of an HTTP 4xx answer whose body names none


class ZnsError(Exception):
    """Root of the ZNS client's own errors."""


class ZnsUnavailable(ZnsError):
    """No usable answer this time (timeout, connection, HTTP 5xx or 429, unreadable body)."""


class AccessTokens(Protocol):
    """The OA's access token (`OATokens` is one)."""

    async def access_token(self) -> str: ...

    async def renew(self, rejected: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Quota:
    """What ZNS says of today's sending allowance (from each accepted send's `data.quota`)."""

    daily: int
    remaining: int


@dataclass(frozen=True, slots=True)
class ZnsAnswer:
    """A send's answer: `error` 0 and `data` on success, else Zalo's negative code."""

    error: int
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    status: int = 200

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error == 0

    @property
    def msg_id(self) -> str | None:
        value = self.data.get("msg_id")
        return None if value is None or value == "" else str(value)

    @property
    def quota(self) -> Quota | None:
        """`data.quota` (`dailyQuota`, `remainingQuota`, sent as strings), when readable."""
        raw = self.data.get("quota")
        if not isinstance(raw, dict):
            return None
        daily, remaining = (
            wire.as_int(raw.get("dailyQuota")),
            wire.as_int(raw.get("remainingQuota")),
        )
        if daily is None or remaining is None:
            return None
        return Quota(daily, remaining)


@dataclass(frozen=True, slots=True)
class RatingPage:
    """One page of `GET /rating/get`: on success `total` ratings in the window and this
    page's `rows` as Zalo sent them (`msgId`, `trackingId`, `rate`, `note`, `feedbacks`,
    `submitDate`); else Zalo's negative `error`."""

    error: int
    message: str = ""
    total: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error == 0


class ZnsClient:
    """The ZNS API over one `aiohttp.ClientSession` (opened on first use, closed by `close`)."""

    def __init__(
        self, *, base_url: str, tokens: AccessTokens, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self._base = base_url.rstrip("/")
        self._tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self.token_retries = 0  # calls made again after a -124

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_template(
        self,
        *,
        phone: str,
        template_id: str,
        template_data: Mapping[str, str],
        tracking_id: str | None = None,
    ) -> ZnsAnswer:
        """Send one template message to `phone` (`84…`)."""
        body: dict[str, Any] = {
            "phone": phone,
            "template_id": template_id,
            "template_data": dict(template_data),
        }
        if tracking_id is not None:
            body["tracking_id"] = tracking_id
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        status, answer = await self._with_token(
            lambda token: self._request(
                "POST",
                SEND_PATH,
                token,
                data=raw,
                headers={"Content-Type": "application/json"},
            )
        )
        error, message = wire.error_code(answer), _message(answer)
        if status != 200:
            return ZnsAnswer(error or HTTP_REFUSED, message or f"HTTP {status}", status=status)
        if error is None:
            raise ZnsUnavailable(f"{SEND_PATH}: an answer without an error code")
        data = answer.get("data")
        return ZnsAnswer(error, message, data if isinstance(data, dict) else {})

    async def ratings(
        self, template_id: str, from_ms: int, to_ms: int, offset: int = 0, limit: int = 100
    ) -> RatingPage:
        """The ratings of `template_id`'s messages submitted in `[from_ms, to_ms]` (epoch
        ms), oldest first, `limit` (1–100) of them from `offset`."""
        limit = max(1, min(limit, MAX_RATING_LIMIT))
        params = {
            "template_id": template_id,
            "from_time": str(max(from_ms, 0)),
            "to_time": str(max(to_ms, 0)),
            "offset": str(max(offset, 0)),
            "limit": str(limit),
        }
        status, answer = await self._with_token(
            lambda token: self._request("GET", RATING_PATH, token, params=params)
        )
        error, message = wire.error_code(answer), _message(answer)
        if status != 200:
            return RatingPage(error or HTTP_REFUSED, message or f"HTTP {status}", status=status)
        if error is None:
            raise ZnsUnavailable(f"{RATING_PATH}: an answer without an error code")
        if error != 0:
            return RatingPage(error, message)
        data = answer.get("data")
        data = data if isinstance(data, dict) else {}
        rows = data.get("data")
        rows = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
        return RatingPage(0, message, wire.as_int(data.get("total")) or len(rows), rows)

    async def _with_token(
        self, call: Callable[[str], Awaitable[tuple[int, dict[str, Any]]]]
    ) -> tuple[int, dict[str, Any]]:
        """`call(token)` with the current access token; once more with a renewed one if
        Zalo refuses it (-124)."""
        token = await self._tokens.access_token()
        status, answer = await call(token)
        if status == 200 and wire.error_code(answer) == INVALID_TOKEN:
            self.token_retries += 1
            status, answer = await call(await self._tokens.renew(token))
        return status, answer

    async def _request(
        self, method: str, path: str, access_token: str, **request: Any
    ) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) of any 2xx/4xx answer. Transient failures raise."""
        headers = {"access_token": access_token, **request.pop("headers", {})}
        return await wire.call(
            self._http(),
            method,
            self._base + path,
            path=path,
            unavailable=ZnsUnavailable,
            headers=headers,
            **request,
        )


def _message(body: dict[str, Any]) -> str:
    return str(body.get("message") or body.get("error_name") or "")[:200]


__all__ = [
    "DAILY_QUOTA_EXCEEDED",
    "FINAL_FOR_CASE",
    "INVALID_PHONE",
    "INVALID_TOKEN",
    "MAX_RATING_LIMIT",
    "NO_ZALO_ACCOUNT",
    "AccessTokens",
    "Quota",
    "RatingPage",
    "ZnsAnswer",
    "ZnsClient",
    "ZnsError",
    "ZnsUnavailable",
]
