"""A small client of the Zalo Bot Platform API: `POST {base}{token}/{method}` with JSON.

One aiohttp session per client, opened on the first call. The platform answers
`{"ok": true, "result": …}` or `{"ok": false, "error_code": N, "description": …}` (the HTTP
status usually equals the code). What a call can raise:

    ZaloBotError
    ├── ZaloBotApiError      the platform answered with an error (`code`, `description`);
    │                        408 from getUpdates only means nothing arrived in time
    └── ZaloBotUnreachable   no answer: connection refused, timeout, not JSON from a proxy

The token sits in the URL path, so no message this module produces (its exceptions included)
ever carries it: aiohttp's errors are reworded with the token cut out.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

DEFAULT_TIMEOUT = 10.0  # seconds for an ordinary call
CONNECT_TIMEOUT = 5.0
LONG_POLL_MARGIN = 10.0  # seconds a getUpdates call may take beyond its own timeout


class ZaloBotError(Exception):
    """Any failed call to the Zalo Bot Platform."""


class ZaloBotApiError(ZaloBotError):
    """The platform answered with an error."""

    def __init__(self, code: int, description: str, *, retry_after: float | None = None) -> None:
        self.code = code
        self.description = description
        self.retry_after = retry_after
        super().__init__(f"{code} {description}")


class ZaloBotUnreachable(ZaloBotError):
    """No usable answer: the connection failed, timed out, or the answer was not the API's."""


class ZaloBotClient:
    """Calls Bot Platform methods for one bot token."""

    def __init__(self, *, base_url: str, token: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _redact(self, text: str) -> str:
        """`text` without the token (nor its secret half)."""
        secret = self._token.partition(":")[2]
        for part in (self._token, secret):
            if part:
                text = text.replace(part, "<token>")
        return text

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            # A send after the channel stopped must not open a session nobody closes.
            raise ZaloBotUnreachable("the client is closed")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout, sock_connect=CONNECT_TIMEOUT),
            )
        return self._session

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """The `result` of one method call; raises `ZaloBotError`."""
        session = self._open()
        url = f"{self._base}{self._token}/{method}"
        limit = aiohttp.ClientTimeout(total=timeout or self._timeout, sock_connect=CONNECT_TIMEOUT)
        try:
            async with session.post(url, json=params or {}, timeout=limit) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError:
            raise ZaloBotUnreachable(f"{method}: timed out") from None
        except (aiohttp.ClientError, OSError) as exc:
            reason = self._redact(f"{type(exc).__name__}: {exc}")
            raise ZaloBotUnreachable(f"{method}: {reason}") from None
        return self._result(method, status, raw)

    def _result(self, method: str, status: int, raw: bytes) -> Any:
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            if status >= 400:
                raise ZaloBotApiError(status, f"HTTP {status} (not a JSON answer)")
            raise ZaloBotUnreachable(f"{method}: the answer is not JSON (HTTP {status})")
        if body.get("ok") is True and status < 400:
            return body.get("result")
        code = body.get("error_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else status
        description = body.get("description")
        text = self._redact(str(description)[:300]) if description else f"HTTP {status}"
        raise ZaloBotApiError(code or status, text, retry_after=_retry_after(body))

    # -- the methods the channel uses ------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        found = await self.call("getMe")
        return found if isinstance(found, dict) else {}

    async def get_updates(self, *, timeout: float) -> Any:
        """One update (or None), waiting up to `timeout` s; 408 when nothing arrived."""
        return await self.call(
            "getUpdates", {"timeout": timeout}, timeout=timeout + LONG_POLL_MARGIN
        )

    async def set_webhook(self, *, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo: str, caption: str | None = None) -> Any:
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params)

    async def close(self) -> None:
        """Close the session; later calls raise `ZaloBotUnreachable`."""
        self._closed = True
        if self._session is not None and not self._session.closed:
            await self._session.close()
            # Give the connector a turn to close its sockets (aiohttp's advice).
            await asyncio.sleep(0)
        self._session = None


def _retry_after(body: dict[str, Any]) -> float | None:
    """`parameters.retry_after` when the platform gives one (as Telegram's API does)."""
    parameters = body.get("parameters")
    if not isinstance(parameters, dict):
        return None
    value = parameters.get("retry_after")
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 3600:
        return float(value)
    return None
