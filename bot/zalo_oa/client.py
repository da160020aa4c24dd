"""The Zalo OA HTTP API: customer-service messages, image uploads and the OAuth token refresh,
and what each answer means for a send.

Zalo answers HTTP 200 with a negative `error` in the body when it refuses a call; the methods
return those answers (`ApiAnswer`, classified by `is_token_error` and `outcome`) and raise
only when there is no answer to read:

    ZaloOAError             root of this package's errors
    ├── ZaloOAUnavailable   timeout, connection error, HTTP 5xx/429, unreadable body: try later
    └── RefreshRefused      the OAuth endpoint refused the refresh token (negative error or
                            HTTP 4xx): the pair is dead until an admin gives a new one

Tokens never reach a log line or an exception text.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.channels.base import Failed, RetryLater, SendOutcome, Sent
from bot.zalo_oa import wire

log = logging.getLogger(__name__)

MESSAGE_PATH = "/v3.0/oa/message/cs"
UPLOAD_PATH = "/v2.0/oa/upload/image"
OAUTH_PATH = "/v4/oa/access_token"
TIMEOUT_SECONDS = 10.0
DEFAULT_EXPIRES_IN = 90_000  # seconds; Zalo's access tokens live about 25 h

# The access token is invalid, expired, or was replaced by a refresh: refresh, retry once.
TOKEN_ERRORS = frozenset({-216, -220, -124})
# The user cannot get CS messages now (no interaction for 7 days; not following): another
# channel may carry this message.
FALLBACK_ERRORS = frozenset({-230, -213})
RATE_LIMITED = -32
RATE_LIMIT_WAIT = 30.0  # seconds; Zalo counts calls per minute
HTTP_REFUSED = -1  # the `error` of an HTTP 4xx answer whose body names none


class ZaloOAError(Exception):
    """Root of the Zalo OA adapter's errors."""


class ZaloOAUnavailable(ZaloOAError):
    """No usable answer this time (timeout, connection, HTTP 5xx or 429, unreadable body)."""


class RefreshRefused(ZaloOAError):
    """The OAuth endpoint refused the refresh token for good."""

    def __init__(self, error: int, reason: str) -> None:
        super().__init__(f"refresh refused: {error} {reason}")
        self.error = error
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    """What the OA API answered: `error` 0 and `data` on success, else Zalo's negative code."""

    error: int
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    status: int = 200

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error == 0

    @property
    def message_id(self) -> str | None:
        value = self.data.get("message_id")
        return None if value is None else str(value)

    @property
    def attachment_id(self) -> str | None:
        value = self.data.get("attachment_id")
        return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """A successful refresh: the new pair and the access token's lifetime in seconds."""

    access_token: str
    refresh_token: str
    expires_in: int

    def __repr__(self) -> str:  # never show the tokens
        return f"TokenAnswer(expires_in={self.expires_in})"


def is_token_error(answer: ApiAnswer) -> bool:
    """Whether the access token was refused (refresh it, then retry once)."""
    return answer.error in TOKEN_ERRORS


def outcome(answer: ApiAnswer, *, message_id: str | None = None) -> SendOutcome:
    """What an answer that is not a token error means for the message."""
    if answer.ok:
        return Sent(message_id if message_id is not None else answer.message_id)
    reason = f"zalo {answer.error}: {answer.message}"[:200]
    if answer.error in FALLBACK_ERRORS:
        return Failed(reason, fallback=True)
    if answer.error == RATE_LIMITED:
        return RetryLater(reason, after=RATE_LIMIT_WAIT)
    if answer.error in TOKEN_ERRORS:
        return RetryLater(f"{reason} (after a refresh)")
    return Failed(reason)


class OAClient:
    """The OA API and its OAuth endpoint over one `aiohttp.ClientSession` (opened on first
    use, closed by `close`)."""

    def __init__(
        self,
        *,
        api_base_url: str,
        oauth_base_url: str,
        app_id: str,
        app_secret: str,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._api = api_base_url.rstrip("/")
        self._oauth = oauth_base_url.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_cs(self, access_token: str, user_id: str, message: dict[str, Any]) -> ApiAnswer:
        """Send one customer-service `message` to a user."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        return await self._api_call(
            MESSAGE_PATH, access_token, json=body, headers={"Content-Type": "application/json"}
        )

    async def upload_image(self, access_token: str, png: bytes) -> ApiAnswer:
        """Upload a PNG; `attachment_id` of the answer names it in a media message."""
        form = aiohttp.FormData()
        form.add_field("file", png, filename="picture.png", content_type="image/png")
        return await self._api_call(UPLOAD_PATH, access_token, data=form)

    async def _api_call(self, path: str, access_token: str, **request: Any) -> ApiAnswer:
        headers = {"access_token": access_token, **request.pop("headers", {})}
        if "json" in request:
            request["data"] = json.dumps(request.pop("json"), ensure_ascii=False).encode("utf-8")
        status, body = await self._post(self._api + path, headers=headers, **request)
        error = wire.error_code(body)
        message = str(body.get("message") or body.get("error_name") or "")
        if status != 200:
            return ApiAnswer(error or HTTP_REFUSED, message or f"HTTP {status}", status=status)
        if error is None:
            raise ZaloOAUnavailable(f"{path}: an answer without an error code")
        data = body.get("data")
        return ApiAnswer(error, message, data if isinstance(data, dict) else {})

    async def refresh(self, refresh_token: str) -> TokenAnswer:
        """Exchange the (single-use) refresh token for a new pair."""
        form = {
            "app_id": self._app_id,
            "refresh_token": refresh_token,
            "grant_type": "refresh_token",
        }
        status, body = await self._post(
            self._oauth + OAUTH_PATH, headers={"secret_key": self._app_secret}, data=form
        )
        error = wire.error_code(body)
        reason = str(body.get("error_name") or body.get("message") or "")[:200]
        if status != 200:
            raise RefreshRefused(error or HTTP_REFUSED, reason or f"HTTP {status}")
        if error:
            raise RefreshRefused(error, reason)
        access, renewed = body.get("access_token"), body.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(renewed, str) or not renewed:
            raise ZaloOAUnavailable("the refresh answer carries no token pair")
        return TokenAnswer(access, renewed, _seconds(body.get("expires_in")))

    async def _post(self, url: str, **request: Any) -> tuple[int, dict[str, Any]]:
        """POST; (status, JSON body) of any 2xx/4xx answer. Transient failures raise."""
        path = "/" + url.split("://", 1)[-1].partition("/")[2]
        return await wire.call(
            self._http(), "POST", url, path=path, unavailable=ZaloOAUnavailable, **request
        )


def _seconds(value: Any) -> int:
    """`expires_in` (Zalo sends a string of seconds); a default when it is unreadable."""
    try:
        seconds = int(str(value))
    except ValueError:
        return DEFAULT_EXPIRES_IN
    return seconds if seconds > 0 else DEFAULT_EXPIRES_IN
