"""A fake ZNS (Zalo Notification Service): template messages by phone and service ratings.

`FakeZaloZNS` is one aiohttp app; point `ZALO_ZNS_API_BASE_URL` at `fake.url` and
`ZALO_ZNS_TEMPLATES` at `templates_setting()` (the default registry). Its events go to the
same product webhook as the OA's (`POST /zalo/webhook`), signed the same way
(`tests.fakes.zalo_oa_events.signature`). Given a `FakeZaloOA` it shares that OA's app, OA,
secret key, webhook URL, access token (rotation, expiry, revocation: a token the OA refuses is
-124 here) and clock; `add_routes(app)` mounts the two routes on another aiohttp app.

What it models (domain.md §8, interfaces.md "Zalo channels"; shapes in `zalo_zns_events.py`):

* `POST /message/template` (header `access_token`, JSON `{phone, template_id, template_data,
  tracking_id}`): HTTP 200 `{"error": 0, "message": "Success", "data": {"msg_id",
  "sent_time", "quota": {"dailyQuota", "remainingQuota"}}}` (strings), or HTTP 200 with a
  negative `error`, checked in this order: -124 bad token, -121 empty / -122 unreadable body,
  -109 unknown template, -108 a phone not `84` + 9 digits, -111 empty `template_data`, -132 a
  missing or extra key, a non-string, empty, over-long or ill-formed value, or a `tracking_id`
  over 48 characters, -118 a phone with no Zalo account (`no_account`), -144 the day's quota is
  used up. The quota (`daily_quota`, default 500) counts accepted sends, `set_quota(n)` sets
  what is left today, and it is whole again once the fake clock passes midnight in
  Asia/Ho_Chi_Minh.
* The citizen's side: `rate(message, stars, note, feedbacks)` POSTs a signed `user_feedback`
  event (`lose_webhook=True` records the rating without POSTing it: the poll must find it;
  `redeliver(event)` POSTs the very same bytes later). A message may be rated again: the last
  rating counts, each with a later `submit_time`. With `receipts=True` each accepted send is
  followed (in the background: `await fake.drain()`) by a `user_received_message` whose
  `recipient.id` is the citizen's phone.
* `GET /rating/get?template_id&from_time&to_time&offset&limit` (header `access_token`):
  `{"error": 0, "data": {"total", "data": [{"msgId", "trackingId", "rate", "note", "feedbacks",
  "submitDate"}]}}`, the latest rating of each message of that template whose submit time is
  in `[from_time, to_time]` (ms), oldest first, `limit` 1–100; anything else is -132.
* Its own clock (`now_ms`, `advance`, `set_now`: real time, a `clock` hook in epoch seconds, or
  the OA's), `wait_until` / `wait_for_message` on events (no sleeps), and faults:
  `fail_next(kind, status=503 | error=-144, times=1, execute=False)` for kinds `message`,
  `rating` (or their paths) or `*`.

All helpers must be called from the event loop that runs the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aiohttp import web

from . import zalo_zns_events as wire
from .zalo_oa_api import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_APP_ID,
    DEFAULT_OA_ID,
    DEFAULT_OA_SECRET_KEY,
    FakeZaloOA,
)
from .zalo_oa_events import (
    OaApiError,
    OaDelivery,
    OaEvent,
    WebhookAnswer,
    WebhookPoster,
    new_id,
    signature,
)
from .zalo_zns_events import (
    DEFAULT_TEMPLATE_IDS,
    DEFAULT_TEMPLATES,
    ZnsMessage,
    ZnsRating,
    ZnsTemplate,
    templates_setting,
)

__all__ = [
    "DEFAULT_TEMPLATES",
    "DEFAULT_TEMPLATE_IDS",
    "FakeZaloZNS",
    "ZnsCall",
    "ZnsMessage",
    "ZnsRating",
    "ZnsTemplate",
    "templates_setting",
]

log = logging.getLogger("tests.fakes.zalo_zns")

PATHS = {"message": wire.SEND_PATH, "rating": wire.RATING_PATH}


@dataclass
class ZnsCall:
    """One API request as the fake saw it."""

    kind: str  # "message" | "rating"
    access_token: str | None
    body: Any  # the JSON of a send, the query of a rating read
    at: int
    status: int = 200
    error: int | None = None  # 0 on success
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


class _HttpFault(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class FakeZaloZNS:
    """In-process fake of ZNS for one OA. See the module docstring."""

    def __init__(
        self,
        oa: FakeZaloOA | None = None,
        *,
        tokens: Callable[[], str] | None = None,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        templates: Mapping[str, ZnsTemplate | Mapping[str, Any]] | None = None,
        no_account: Iterable[str] = (),
        daily_quota: int = wire.DEFAULT_DAILY_QUOTA,
        app_id: str | None = None,
        oa_id: str | None = None,
        oa_secret_key: str | None = None,
        webhook_url: str | None = None,
        receipts: bool = False,
        host: str = "127.0.0.1",
        webhook_timeout: float = 5.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.oa = oa
        # Without an OA: `tokens()` is the valid access token, else `access_token`.
        self.tokens, self.access_token = tokens, access_token
        self.app_id = app_id or (oa.app_id if oa else DEFAULT_APP_ID)
        self.oa_id = oa_id or (oa.oa_id if oa else DEFAULT_OA_ID)
        self.oa_secret_key = oa_secret_key or (oa.oa_secret_key if oa else DEFAULT_OA_SECRET_KEY)
        self._webhook_url = webhook_url
        self.receipts = receipts
        self.host = host
        self.clock = clock  # epoch seconds (None: the OA's clock, else real time)
        specs = DEFAULT_TEMPLATES if templates is None else templates
        self.templates = {str(k): ZnsTemplate.of(str(k), v) for k, v in specs.items()}
        self.no_account = {wire.zalo_phone(p) for p in no_account}
        self.daily_quota = daily_quota
        self.port: int | None = None
        self.calls: list[ZnsCall] = []
        self.sent: list[ZnsMessage] = []
        self.events: list[OaEvent] = []
        self.lost: list[OaEvent] = []  # ratings whose webhook was never POSTed
        self._offset_ms = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._poster = WebhookPoster(timeout=webhook_timeout, on_change=self._notify)
        self._faults: list[_Fault] = []
        self.remaining_quota = daily_quota
        self._quota_day = self._day()

    # --------------------------------------------------------------------------- lifecycle

    def add_routes(self, app: web.Application) -> None:
        """Serve `/message/template` and `/rating/get` from `app` (e.g. another fake's)."""
        app.router.add_post(wire.SEND_PATH, self._route("message", self._send))
        app.router.add_get(wire.RATING_PATH, self._route("rating", self._ratings))

    async def start(self, port: int = 0) -> str:
        """Listen on `host:port` (0 = any free port); returns `url`."""
        if self._runner is not None:
            raise RuntimeError("FakeZaloZNS is already running")
        app = web.Application()
        self.add_routes(app)
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

    async def __aenter__(self) -> FakeZaloZNS:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """What `ZALO_ZNS_API_BASE_URL` should be: http://127.0.0.1:PORT."""
        if self.port is None:
            raise RuntimeError("FakeZaloZNS is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def webhook_url(self) -> str | None:
        """Where events go: set here, else the OA's webhook URL."""
        if self._webhook_url is None and self.oa is not None:
            return self.oa.webhook_url
        return self._webhook_url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self._webhook_url = url

    # ------------------------------------------------------------------------------ clock

    def now_ms(self) -> int:
        if self.clock is not None:
            base = int(self.clock() * 1000)
        elif self.oa is not None:
            base = self.oa.now_ms()
        else:
            base = int(time.time() * 1000)
        return base + self._offset_ms

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> None:
        """Move the fake clock forward (past local midnight the quota is whole again)."""
        step = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        if step < 0:
            raise ValueError("the fake clock only moves forward")
        self._offset_ms += int(step * 1000)
        self._notify()

    def set_now(self, instant: datetime | int) -> None:
        """Put the fake clock at `instant` (an aware datetime, or epoch ms)."""
        target = instant if isinstance(instant, int) else int(instant.timestamp() * 1000)
        self._offset_ms += target - self.now_ms()
        self._notify()

    def _day(self) -> date:
        return datetime.fromtimestamp(self.now_ms() / 1000, wire.ZALO_TZ).date()

    # ------------------------------------------------------------------------------ quota

    def set_quota(self, remaining: int, *, daily: int | None = None) -> None:
        """Leave `remaining` sends for today (0: the next one is -144); `daily` changes the
        allowance a new day starts with."""
        self._roll_quota()
        if daily is not None:
            self.daily_quota = daily
        self.remaining_quota = remaining

    def _roll_quota(self) -> None:
        today = self._day()
        if today != self._quota_day:
            self._quota_day, self.remaining_quota = today, self.daily_quota

    @property
    def quota(self) -> tuple[int, int]:
        """(daily, remaining) as the next answer would report them."""
        self._roll_quota()
        return self.daily_quota, self.remaining_quota

    # ------------------------------------------------------------------------ inspection

    def messages_to(self, phone: str) -> list[ZnsMessage]:
        """Every accepted message to `phone` (any common form: 09…, +84…, 84…)."""
        wanted = wire.zalo_phone(phone)
        return [m for m in self.sent if m.phone == wanted]

    def message(self, msg_id: str) -> ZnsMessage:
        return next(m for m in self.sent if m.msg_id == msg_id)

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
        self,
        phone: str,
        *,
        template_id: str | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> ZnsMessage:
        """The `count`-th message to `phone` (of `template_id`, if given)."""

        def find() -> ZnsMessage | None:
            found = [
                m
                for m in self.messages_to(phone)
                if template_id is None or m.template_id == template_id
            ]
            return found[count - 1] if len(found) >= count else None

        try:
            found: ZnsMessage = await self.wait_until(find, timeout)
        except TimeoutError:
            seen = [m.template_id for m in self.messages_to(phone)]
            raise TimeoutError(
                f"no message #{count} of template {template_id} within {timeout} s;"
                f" templates sent to that phone so far: {seen}"
            ) from None
        return found

    async def drain(self) -> None:
        """Wait until every background receipt has been answered."""
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
        """The next `times` calls of `kind` (`message`, `rating`, their path, or "*") answer
        HTTP `status` (default 503) or HTTP 200 with `error` (e.g. -144); `execute=True`
        performs the call first (the message is sent, the quota spent) and loses the answer."""
        kind = next((k for k, path in PATHS.items() if path == kind), kind)
        if kind != "*" and kind not in PATHS:
            raise ValueError(f"unknown kind {kind!r}: one of {sorted(PATHS)} or '*'")
        if status is not None and error is not None:
            raise ValueError("give status or error, not both")
        if status is None and error is None:
            status = 503
        self._faults.append(_Fault(kind, times, status, error, execute))

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
        self, kind: str, handler: Callable[[Any], Awaitable[dict[str, Any]]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            body, unreadable = await self._read(kind, request)
            call = ZnsCall(kind, request.headers.get("access_token"), body, self.now_ms())
            self.calls.append(call)
            try:
                fault = self._take_fault(kind)
                if fault is not None and not fault.execute:
                    self._raise(fault, call)
                self._check_token(call.access_token)
                if unreadable:
                    raise wire.ZnsApiError(wire.INVALID_BODY, "the body is not JSON")
                result = await handler(body)
                if fault is not None:
                    self._raise(fault, call)
            except _HttpFault as failure:
                call.status, call.injected = failure.status, True
                return web.Response(status=failure.status, text=f"HTTP {failure.status}")
            except OaApiError as exc:
                call.error, call.detail = exc.code, exc.detail
                log.debug("zns %s refused: %s", kind, exc)
                return self._json(exc.payload())
            finally:
                self._notify()
            call.error = 0
            return self._json({"error": 0, "message": "Success", "data": result})

        return serve

    @staticmethod
    def _raise(fault: _Fault, call: ZnsCall) -> None:
        call.injected = True
        if fault.status is not None:
            raise _HttpFault(fault.status)
        raise wire.ZnsApiError(int(fault.error or 0), "injected")

    @staticmethod
    async def _read(kind: str, request: web.Request) -> tuple[Any, bool]:
        if kind == "rating":
            return dict(request.query), False
        raw = await request.read()
        if not raw.strip():
            return None, False
        try:
            return json.loads(raw), False
        except (ValueError, UnicodeDecodeError):
            return None, True

    @staticmethod
    def _json(body: Mapping[str, Any]) -> web.Response:
        text = json.dumps(body, ensure_ascii=False)
        return web.Response(body=text.encode("utf-8"), content_type="application/json")

    def _check_token(self, token: str | None) -> None:
        if self.oa is not None:
            try:
                # The OA's own rules (rotation, expiry, revocation); ZNS says -124 for all.
                self.oa._check_token(token)
            except OaApiError:
                raise wire.ZnsApiError(wire.INVALID_TOKEN, "the OA refuses this token") from None
            return
        valid = self.tokens() if self.tokens is not None else self.access_token
        if not token or token != valid:
            raise wire.ZnsApiError(wire.INVALID_TOKEN, "a missing, unknown or replaced token")

    # --------------------------------------------------------------------------- handlers

    async def _send(self, body: Any) -> dict[str, Any]:
        request = wire.read_send(body, self.templates)
        if request.phone in self.no_account:
            raise wire.ZnsApiError(wire.NO_ZALO_ACCOUNT, "the phone has no Zalo account")
        self._roll_quota()
        if self.remaining_quota <= 0:
            raise wire.ZnsApiError(wire.DAILY_QUOTA_EXCEEDED, "no quota left today (set_quota)")
        self.remaining_quota -= 1
        message = ZnsMessage(
            phone=request.phone,
            template_id=request.template.template_id,
            template_type=request.template.type,
            template_data=request.data,
            tracking_id=request.tracking_id,
            msg_id=new_id(),
            sent_time=self.now_ms(),
            button=request.template.button_link(request.data),
        )
        self.sent.append(message)
        self._receipt(message)
        return {
            "msg_id": message.msg_id,
            "sent_time": str(message.sent_time),
            "quota": {
                "dailyQuota": str(self.daily_quota),
                "remainingQuota": str(self.remaining_quota),
            },
        }

    async def _ratings(self, query: dict[str, str]) -> dict[str, Any]:
        return wire.rating_page(query, self.templates, self.sent)

    # ------------------------------------------------------------------------- the citizen

    async def rate(
        self,
        message: ZnsMessage,
        stars: int,
        note: str = "",
        feedbacks: Sequence[str] | None = None,
        *,
        lose_webhook: bool = False,
    ) -> WebhookAnswer:
        """The citizen rates `message` (a service-rating template) with 1–5 `stars`, a `note`
        and the option texts `feedbacks` they picked (None: none). Raises ValueError for what
        Zalo's rating form would not let them do."""
        if not any(m is message for m in self.sent):
            raise ValueError("that message was never sent by this fake")
        template = self.templates[message.template_id]
        if template.type != "rating":
            raise ValueError(f"template {template.template_id} is a {template.type}, not a rating")
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise ValueError("stars must be 1 to 5")
        picked = template.check_feedbacks(stars, feedbacks)
        submit_time = self.now_ms()
        if message.rating is not None:  # each rating of a message is its own, later one
            submit_time = max(submit_time, message.rating.submit_time + 1)
        rating = ZnsRating(stars, note, picked, submit_time)
        message.ratings.append(rating)
        body = wire.feedback_body(
            app_id=self.app_id, oa_id=self.oa_id, message=message, rating=rating
        )
        event = self._signed(body)
        self.events.append(event)
        self._notify()
        if lose_webhook:
            self.lost.append(event)
            return WebhookAnswer(0, "webhook lost", event)
        return await self._post(event)

    async def redeliver(self, event: OaEvent) -> WebhookAnswer:
        """POST the very same bytes and signature again (or at last, for a lost one)."""
        return await self._post(event)

    def _signed(self, body: Mapping[str, Any]) -> OaEvent:
        event = OaEvent.of(body)
        event.mac = signature(self.app_id, event.raw, event.timestamp, self.oa_secret_key)
        return event

    async def _post(self, event: OaEvent) -> WebhookAnswer:
        url = self.webhook_url
        if url is None:
            return WebhookAnswer(0, "no webhook set", event)
        return await self._poster.post(url, event, event.mac)

    def _receipt(self, message: ZnsMessage) -> None:
        url = self.webhook_url
        if not self.receipts or url is None:
            return
        body = wire.received_body(
            app_id=self.app_id, oa_id=self.oa_id, message=message, ts=self.now_ms()
        )
        event = self._signed(body)
        self.events.append(event)
        self._poster.post_later(url, [(event, event.mac or "")])
