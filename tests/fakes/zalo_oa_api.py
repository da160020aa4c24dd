"""A fake Zalo Official Account: the OA API v3, its OAuth refresh, and the users' side.

`FakeZaloOA` is one aiohttp app; point `ZALO_OA_API_BASE_URL`, `ZALO_OAUTH_BASE_URL` (and later
`ZALO_ZNS_API_BASE_URL`) at `fake.url`. Set `fake.webhook_url` to the product's
`/zalo/webhook` and the simulated users' events are POSTed there, signed.

What it models (domain.md §8, interfaces.md "Zalo channels"; wire shapes in
`tests/fakes/zalo_oa_events.py`):

* `POST /v3.0/oa/message/cs` (header `access_token`): text (1–2000 chars), text with up to 5
  buttons (`oa.query.hide` / `oa.query.show` with a string payload ≤ 1000, `oa.open.url` with
  `{"url"}`; titles ≤ 100), the `request_user_info` template (one element; the only way the
  user can later `submit_info`) and an image (`media` template, an uploaded `attachment_id`).
  Answers are HTTP 200 `{"error": 0, "message": "Success", "data": {...}}` or HTTP 200 with a
  negative `error`: -201 bad form, -216 unknown or dead token, -220 expired token, -213 user
  unknown or not following, -230 last interaction older than 7 days, -32 over
  `calls_per_minute` (counted on the fake clock over the last 60 s, admitted calls only).
  Sends 48 h–7 d after the user's last interaction are `billable`.
* `POST /v2.0/oa/upload/image` (multipart `file`, PNG or JPEG, ≤ 1 MB: else -210 for size,
  -201 for type) → `attachment_id`; `GET /v3.0/oa/quota/message?user_id=` → the user's reply
  quota (the old "8 free replies" reading: informative only, never enforced).
* `POST /v4/oa/access_token` (form `refresh_token`, `app_id`, `grant_type=refresh_token`, header
  `secret_key`): a new access token and a new refresh token (`expires_in` a string); the old
  access token dies at once and a refresh token works once (-14014 after), a wrong app id or
  secret is -14002. OAuth errors are `{"error", "error_name", "error_description"}`.
* Events (each POST awaits the product's answer): `follow`, `unfollow`, `user_send_text` (typed,
  or a `tap` on a query button: the same event, the payload as text), stickers, images, files,
  locations, `user_submit_info` (old or new address format; phone as `84…`),
  `user_seen_message`, and after each accepted send an `oa_send_text` / `oa_send_image` echo and
  a `user_received_message` receipt (in the background: `await fake.drain()`). Every user action
  is an interaction that reopens the reply window; receipts and seen marks are not.
* Its own clock (`now_ms`, `advance`, `set_now`) for event timestamps, windows and the rate
  limit, running on real time or on a `clock` hook (epoch seconds: e.g. the product's test
  clock, so both agree); token expiry follows it only with `expire_with_clock=True` (else
  `expire_access_token`).
* Faults: `fail_next(kind, status=503 | error=-32, times=1, execute=False)`, kinds `message`,
  `upload`, `quota`, `refresh` (or their paths) or `*`; `fail_refresh_for_good()`;
  `hold_refreshes()` keeps refreshes waiting until the event it returns is set.

All helpers must be called from the event loop that runs the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from .zalo_oa_events import (
    EXPIRED_TOKEN,
    INVALID_PARAMS,
    INVALID_TOKEN,
    NOT_FOLLOWING,
    OAUTH_INVALID_APP,
    OAUTH_INVALID_PARAM,
    OAUTH_INVALID_REFRESH,
    OVER_LIMIT,
    RATE_LIMITED,
    SIGNATURE_HEADER,
    WINDOW_CLOSED,
    EventFactory,
    OaApiError,
    OaButton,
    OaDelivery,
    OaEvent,
    OaSentMessage,
    OaUser,
    OaUserSide,
    WebhookAnswer,
    WebhookPoster,
    invalid,
    new_id,
    parse_message,
    signature,
)

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_APP_ID",
    "DEFAULT_APP_SECRET",
    "DEFAULT_OA_ID",
    "DEFAULT_OA_SECRET_KEY",
    "DEFAULT_REFRESH_TOKEN",
    "SIGNATURE_HEADER",
    "FakeZaloOA",
    "OaApiError",
    "OaButton",
    "OaCall",
    "OaDelivery",
    "OaEvent",
    "OaSentMessage",
    "OaUser",
    "WebhookAnswer",
    "signature",
]

log = logging.getLogger("tests.fakes.zalo_oa")

DEFAULT_APP_ID = "1384924370520157862"
DEFAULT_APP_SECRET = "TEST-ZALO-APP-SECRET"
DEFAULT_OA_ID = "579745863508352884"
DEFAULT_OA_SECRET_KEY = "TEST-ZALO-OA-SECRET-KEY"
DEFAULT_ACCESS_TOKEN = "TEST-ZALO-OA-ACCESS-TOKEN-0"
DEFAULT_REFRESH_TOKEN = "TEST-ZALO-OA-REFRESH-TOKEN-0"

MESSAGE_PATH = "/v3.0/oa/message/cs"
UPLOAD_PATH = "/v2.0/oa/upload/image"
QUOTA_PATH = "/v3.0/oa/quota/message"
OAUTH_PATH = "/v4/oa/access_token"
PATHS = {"message": MESSAGE_PATH, "upload": UPLOAD_PATH, "quota": QUOTA_PATH, "refresh": OAUTH_PATH}
MAX_UPLOAD = 1024 * 1024
HOUR_MS = 3_600_000
MINUTE_MS = 60_000


@dataclass
class OaCall:
    """One API request as the fake saw it."""

    kind: str  # "message" | "upload" | "quota" | "refresh"
    path: str
    access_token: str | None
    json: Any
    form: dict[str, str]
    at: int
    status: int = 200
    error: int | None = None  # 0 on success, the negative code of an error answer
    detail: str | None = None  # why the fake refused it (not sent on the wire)
    injected: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error


@dataclass
class _Fault:
    kind: str
    remaining: int
    status: int | None
    error: int | None
    execute: bool


@dataclass
class _Input:
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    file: bytes | None = None
    secret_key: str | None = None
    unreadable: bool = False


class _HttpFault(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class FakeZaloOA(OaUserSide):
    """In-process fake of one Zalo app and its Official Account. See the module docstring."""

    def __init__(
        self,
        *,
        app_id: str = DEFAULT_APP_ID,
        app_secret: str = DEFAULT_APP_SECRET,
        oa_id: str = DEFAULT_OA_ID,
        oa_secret_key: str = DEFAULT_OA_SECRET_KEY,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        refresh_token: str = DEFAULT_REFRESH_TOKEN,
        host: str = "127.0.0.1",
        webhook_url: str | None = None,
        echo: bool = True,
        receipts: bool = True,
        calls_per_minute: int | None = 4000,
        expires_in: int = 90000,
        expire_with_clock: bool = False,
        free_hours: float = 48,
        window_days: float = 7,
        free_replies: int = 8,
        require_https: bool = False,
        webhook_timeout: float = 5.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        # Epoch seconds the fake's clock runs on (None: real time); may be set at any moment.
        self.clock = clock
        self.oa_id, self.oa_secret_key = oa_id, oa_secret_key
        self.access_token, self.refresh_token = access_token, refresh_token
        self.host = host
        self.webhook_url = webhook_url
        self.echo, self.receipts = echo, receipts
        self.calls_per_minute = calls_per_minute
        self.expires_in, self.expire_with_clock = expires_in, expire_with_clock
        self.free_hours, self.window_days, self.free_replies = free_hours, window_days, free_replies
        self.require_https = require_https
        self.port: int | None = None
        self.factory = EventFactory(app_id=app_id, oa_id=oa_id)
        self._offset_ms = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._poster = WebhookPoster(timeout=webhook_timeout, on_change=self._notify)
        self.users: dict[str, OaUser] = {}
        self.calls: list[OaCall] = []
        self.sent: list[OaSentMessage] = []
        self.uploads: dict[str, bytes] = {}
        self.events: list[OaEvent] = []
        self.refresh_count = 0
        self._token_state = "live"  # "live" | "expired" | "revoked"
        self._issued_at = self.now_ms()
        self._refuse_refresh = False
        self._refresh_gate: asyncio.Event | None = None  # hold_refreshes
        self.refresh_waiting = asyncio.Event()
        self._admitted: deque[int] = deque()
        self._faults: list[_Fault] = []

    # --------------------------------------------------------------------------- lifecycle

    async def start(self, port: int = 0) -> str:
        """Listen on `host:port` (0 = any free port); returns `url`."""
        if self._runner is not None:
            raise RuntimeError("FakeZaloOA is already running")
        app = web.Application(client_max_size=4 * MAX_UPLOAD)
        app.router.add_post(MESSAGE_PATH, self._route("message", self._send))
        app.router.add_post(UPLOAD_PATH, self._route("upload", self._upload))
        app.router.add_route("*", QUOTA_PATH, self._route("quota", self._quota_route))
        app.router.add_post(OAUTH_PATH, self._route("refresh", self._refresh))
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, port).start()
        self.port = int(self._runner.addresses[0][1])
        await self._poster.open()
        return self.url

    async def stop(self) -> None:
        await self._poster.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloOA:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """What every Zalo base URL of the product should be: http://127.0.0.1:PORT."""
        if self.port is None:
            raise RuntimeError("FakeZaloOA is not started")
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------------------ clock

    def now_ms(self) -> int:
        base = self.clock() if self.clock is not None else time.time()
        return int(base * 1000) + self._offset_ms

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> None:
        """Move the fake clock forward (windows close, the per-minute count empties)."""
        step = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        if step < 0:
            raise ValueError("the fake clock only moves forward")
        self._offset_ms += int(step * 1000)
        self._notify()

    def set_now(self, instant: datetime | int) -> None:
        """Put the fake clock at `instant` (an aware datetime, or epoch ms), e.g. the
        product's clock in an e2e test."""
        target = instant if isinstance(instant, int) else int(instant.timestamp() * 1000)
        self._offset_ms += target - self.now_ms()
        self._admitted.clear()
        self._notify()

    # ------------------------------------------------------------------------------ users

    def add_user(self, user_id: str, followed: bool = True, *, interacted: bool = True) -> OaUser:
        """A user of the OA (a follower by default, who interacted just now unless
        `interacted=False`: then any CS message to them is -230)."""
        user = self.users.setdefault(user_id, OaUser(user_id))
        user.followed = followed
        if interacted:
            user.last_interaction = self.now_ms()
        return user

    def window(self, user_id: str) -> str:
        """The user's reply window now: "free", "billable" or "closed"."""
        user = self.users.get(user_id)
        if user is None or user.last_interaction is None:
            return "closed"
        age = self.now_ms() - user.last_interaction
        if age > self.window_days * 24 * HOUR_MS:
            return "closed"
        return "billable" if age > self.free_hours * HOUR_MS else "free"

    # ------------------------------------------------------------------------ inspection

    def messages_to(self, user_id: str) -> list[OaSentMessage]:
        return [m for m in self.sent if m.user_id == user_id]

    @property
    def billable_count(self) -> int:
        return sum(1 for m in self.sent if m.billable)

    @property
    def deliveries(self) -> list[OaDelivery]:
        """Every POST to the webhook so far, in order of their answers."""
        return self._poster.deliveries

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `condition()` is truthy (re-checked on every change); returns it."""
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return value

    async def wait_for_message(
        self, user_id: str, *, contains: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> OaSentMessage:
        """The `count`-th message to `user_id` that `contains` the text (in its text or a
        button title); waits up to `timeout` s for it."""

        def find() -> OaSentMessage | None:
            found = [
                m for m in self.messages_to(user_id) if contains is None or m.contains(contains)
            ]
            return found[count - 1] if len(found) >= count else None

        try:
            message: OaSentMessage = await self.wait_until(find, timeout)
        except TimeoutError:
            seen = [m.text or m.kind for m in self.messages_to(user_id)]
            raise TimeoutError(
                f"no message #{count} to {user_id} containing {contains!r} within {timeout} s;"
                f" messages so far: {seen}"
            ) from None
        return message

    async def drain(self) -> None:
        """Wait until every background echo and receipt has been answered."""
        await self._poster.drain()

    # ------------------------------------------------------------------------------ faults

    def fail_next(
        self,
        kind: str = "*",
        *,
        status: int | None = None,
        error: int | None = None,
        times: int = 1,
        execute: bool = False,
    ) -> None:
        """The next `times` calls of `kind` (or its path; "*" = any) answer HTTP `status`
        (default 503) or HTTP 200 with `error`; `execute=True` performs the call first (a
        message is sent, a refresh rotates the tokens) and loses the answer."""
        kind = next((k for k, path in PATHS.items() if path == kind), kind)
        if kind != "*" and kind not in PATHS:
            raise ValueError(f"unknown kind {kind!r}: one of {sorted(PATHS)} or '*'")
        if status is not None and error is not None:
            raise ValueError("give status or error, not both")
        if status is None and error is None:
            status = 503
        self._faults.append(_Fault(kind, times, status, error, execute))

    def fail_refresh_for_good(self) -> None:
        """Every later refresh is refused (-14014), as when the refresh token was revoked."""
        self._refuse_refresh = True

    def issue_new_pair(self) -> tuple[str, str]:
        """The operator authorises the app again in Zalo's console: a fresh (access, refresh)
        pair that works, whatever happened to the old one."""
        self._refuse_refresh = False
        self.access_token = f"oa-access-{secrets.token_urlsafe(32)}"
        self.refresh_token = f"oa-refresh-{secrets.token_urlsafe(32)}"
        self._token_state, self._issued_at = "live", self.now_ms()
        return self.access_token, self.refresh_token

    def expire_access_token(self) -> None:
        """The current access token answers -220 until the next refresh."""
        self._token_state = "expired"

    def revoke_access_token(self) -> None:
        """The current access token answers -216 until the next refresh."""
        self._token_state = "revoked"

    def _take_fault(self, kind: str) -> _Fault | None:
        for fault in self._faults:
            if fault.kind in ("*", kind):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ---------------------------------------------------------------------- HTTP plumbing

    def _route(
        self, kind: str, handler: Callable[[_Input], Awaitable[dict[str, Any]]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            data = await self._read(kind, request)
            token = request.headers.get("access_token")
            call = OaCall(kind, request.path, token, data.json, dict(data.form), self.now_ms())
            self.calls.append(call)
            try:
                result = await self._answer(kind, data, call, handler)
            except _HttpFault as fault:
                call.status, call.injected = fault.status, True
                return web.Response(status=fault.status, text=f"HTTP {fault.status}")
            except OaApiError as exc:
                call.error, call.detail = exc.code, exc.detail
                log.debug("zalo oa %s refused: %s", kind, exc)
                return self._json(exc.payload())
            finally:
                self._notify()
            call.error = 0
            if kind == "refresh":
                return self._json(result)
            return self._json({"error": 0, "message": "Success", "data": result})

        return serve

    async def _answer(
        self,
        kind: str,
        data: _Input,
        call: OaCall,
        handler: Callable[[_Input], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        fault = self._take_fault(kind)
        if fault is not None and not fault.execute:
            self._raise(fault, kind, call)
        if kind != "refresh":
            self._check_token(call.access_token)
            self._admit()
        if data.unreadable:
            oauth = kind == "refresh"
            code = OAUTH_INVALID_PARAM if oauth else INVALID_PARAMS
            raise OaApiError(code, "the body cannot be read", oauth=oauth)
        result = await handler(data)
        if fault is not None:
            self._raise(fault, kind, call)
        return result

    @staticmethod
    def _raise(fault: _Fault, kind: str, call: OaCall) -> None:
        call.injected = True
        if fault.status is not None:
            raise _HttpFault(fault.status)
        raise OaApiError(int(fault.error or 0), "injected", oauth=kind == "refresh")

    @staticmethod
    async def _read(kind: str, request: web.Request) -> _Input:
        data = _Input(secret_key=request.headers.get("secret_key"))
        try:
            if kind == "upload":
                posted = await request.post()
                file = posted.get("file")
                if isinstance(file, web.FileField):
                    data.file = file.file.read()
                    data.form = {"file": file.filename}
            elif kind == "refresh":
                data.form = {k: str(v) for k, v in (await request.post()).items()}
            elif kind == "quota" and request.method == "GET":
                data.json = dict(request.query)
            elif request.body_exists:
                data.json = await request.json()
        except (ValueError, UnicodeDecodeError):
            data.unreadable = True
        return data

    @staticmethod
    def _json(body: Mapping[str, Any]) -> web.Response:
        text = json.dumps(body, ensure_ascii=False)
        return web.Response(body=text.encode("utf-8"), content_type="application/json")

    def _check_token(self, token: str | None) -> None:
        if not token or token != self.access_token or self._token_state == "revoked":
            raise OaApiError(INVALID_TOKEN, oauth=False)
        aged = self.now_ms() - self._issued_at > self.expires_in * 1000
        if self._token_state == "expired" or (self.expire_with_clock and aged):
            raise OaApiError(EXPIRED_TOKEN, oauth=False)

    def _admit(self) -> None:
        if self.calls_per_minute is None:
            return
        now = self.now_ms()
        while self._admitted and self._admitted[0] <= now - MINUTE_MS:
            self._admitted.popleft()
        if len(self._admitted) >= self.calls_per_minute:
            raise OaApiError(
                RATE_LIMITED, f"over {self.calls_per_minute} calls a minute", oauth=False
            )
        self._admitted.append(now)

    # --------------------------------------------------------------------------- handlers

    async def _send(self, data: _Input) -> dict[str, Any]:
        body = data.json
        recipient = body.get("recipient") if isinstance(body, dict) else None
        user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
        if not isinstance(user_id, str) or not user_id:
            raise invalid("recipient.user_id is required")
        assert isinstance(body, dict)
        draft = parse_message(
            body.get("message"), uploads=self.uploads, require_https=self.require_https
        )
        user = self.users.get(user_id)
        if user is None or not user.followed:
            raise OaApiError(NOT_FOLLOWING, oauth=False)
        window = self.window(user_id)
        if window == "closed":
            raise OaApiError(WINDOW_CLOSED, oauth=False)
        record = OaSentMessage(
            user_id=user_id,
            message_id=new_id(),
            kind=draft.kind,
            at=self.now_ms(),
            billable=window == "billable",
            text=draft.text,
            buttons=draft.buttons,
            element=draft.element,
            attachment_id=draft.attachment_id,
            image_url=draft.image_url,
            raw=dict(body["message"]),
        )
        self.sent.append(record)
        if draft.kind == "request_user_info":
            user.info_requested = True
        self._echo(record)
        return {"message_id": record.message_id, "user_id": user_id, "quota": self._quota(user)}

    async def _upload(self, data: _Input) -> dict[str, Any]:
        if data.file is None:
            raise invalid("multipart field 'file' is required")
        if len(data.file) > MAX_UPLOAD:
            raise OaApiError(OVER_LIMIT, f"the image is over {MAX_UPLOAD} bytes", oauth=False)
        if not data.file.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise invalid("the file is not a PNG or JPEG image")
        attachment_id = secrets.token_urlsafe(24)
        self.uploads[attachment_id] = data.file
        return {"attachment_id": attachment_id}

    async def _quota_route(self, data: _Input) -> dict[str, Any]:
        user_id = data.json.get("user_id") if isinstance(data.json, dict) else None
        user = self.users.get(str(user_id)) if user_id else None
        if user is None:
            raise invalid("user_id of a known user is required")
        return self._quota(user)

    def _quota(self, user: OaUser) -> dict[str, Any]:
        since = user.last_interaction or 0
        used = sum(1 for m in self.messages_to(user.user_id) if m.at >= since)
        return {
            "quota_type": "reply",
            "remain": max(self.free_replies - used, 0),
            "total": self.free_replies,
            "expired_date": since + int(self.window_days * 24 * HOUR_MS),
        }

    def hold_refreshes(self) -> asyncio.Event:
        """Refreshes wait (their answer unsent) until the returned event is set;
        `refresh_waiting` is set once one waits."""
        self._refresh_gate = asyncio.Event()
        self.refresh_waiting = asyncio.Event()
        return self._refresh_gate

    async def _refresh(self, data: _Input) -> dict[str, Any]:
        if self._refresh_gate is not None:
            self.refresh_waiting.set()
            await self._refresh_gate.wait()
        form = data.form
        if data.secret_key != self.app_secret or form.get("app_id") != self.app_id:
            raise OaApiError(OAUTH_INVALID_APP, "wrong app_id or secret_key", oauth=True)
        if form.get("grant_type") != "refresh_token":
            raise OaApiError(OAUTH_INVALID_PARAM, "grant_type must be refresh_token", oauth=True)
        if self._refuse_refresh or form.get("refresh_token") != self.refresh_token:
            raise OaApiError(OAUTH_INVALID_REFRESH, "refresh token unknown or used", oauth=True)
        self.access_token = f"oa-access-{secrets.token_urlsafe(32)}"
        self.refresh_token = f"oa-refresh-{secrets.token_urlsafe(32)}"
        self._token_state, self._issued_at = "live", self.now_ms()
        self.refresh_count += 1
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": str(self.expires_in),
        }
