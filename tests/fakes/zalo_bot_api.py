"""A fake Zalo Bot Platform server (bot-api.zaloplatforms.com) that speaks its wire format.

`FakeZaloBot` is an aiohttp application serving `POST /bot<token>/<method>` with JSON bodies,
answering `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": ...}`
with the HTTP status equal to `error_code`. The product reads
`ZALO_BOT_API_BASE_URL=fake.base_url` (`http://127.0.0.1:PORT/bot`, the token and `/<method>`
follow).

What it models (domain.md §8 "Zalo Bot Platform", field names from the platform's docs):

* getMe, getUpdates, setWebhook (url + `secret_token`, 8–256 chars), deleteWebhook,
  getWebhookInfo, sendMessage (text 1–2000 chars, `parse_mode` markdown/html), sendPhoto
  (photo URL, caption ≤ 2000; with `fetch_photos=True` the fake fetches the URL as the
  platform does and refuses the send with 400 unless it answers a PNG or JPEG), sendSticker,
  sendChatAction.
* getUpdates hands out **one** update per call (`result` is the update object, not a list) and
  answers 408 "Request timeout" when nothing arrived within its long-poll `timeout`; an update
  is gone once handed out (there is no offset to confirm it). With a webhook set, getUpdates is
  refused with 409.
* Updates are `{event_name, message}`; a message has `message_id`, `date` (ms), `chat {id,
  chat_type}`, `from {id, display_name, is_bot}` and `text` (or the sticker / photo fields).
* A webhook gets each update POSTed with `X-Bot-Api-Secret-Token`; the body is wrapped
  (`{"ok": true, "result": update}`) or flat, chosen per call (`wrapped=`) or per fake.
  `redeliver(update)` sends an update again, as the platform may.
* A bot cannot write first: sending to a chat whose user never wrote is 403.
* There are no keyboards or buttons: a `reply_markup` is **refused** with 400, so a product
  that tries to attach buttons fails loudly in tests instead of silently losing them.
* Fault injection with `fail_next` (429 "Quota exceeded", 5xx, or a timeout that holds the
  request, optionally after performing it).
* Timing: `hold_messages` keeps the bot's messages on their way (sendMessage, sendPhoto and
  sendSticker are performed and answered only after `release_messages`), so a user can type
  several messages before anything the bot sends arrives.

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
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger("tests.fakes.zalo_bot")

DEFAULT_ZALO_BOT_TOKEN = "1459232241454765289:TEST-ZALO-BOT-KEY"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TEXT = 2000
SECRET_MIN, SECRET_MAX = 8, 256
PARSE_MODES = {"markdown", "html"}
CHAT_ACTIONS = {"typing", "upload_photo"}
DEFAULT_POLL_TIMEOUT = 30.0

TEXT_EVENT = "message.text.received"
STICKER_EVENT = "message.sticker.received"
IMAGE_EVENT = "message.image.received"
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendSticker"})

QUOTA_EXCEEDED = "Quota exceeded"
NOT_STARTED = "Forbidden: the user has not sent a message to the bot"
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: NOT_STARTED,
    404: "Not Found",
    408: "Request timeout",
    429: QUOTA_EXCEEDED,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ZaloBotApiError(Exception):
    """An error answer of the platform: HTTP status == error_code."""

    def __init__(self, code: int, description: str | None = None) -> None:
        self.code = code
        self.description = description or _DEFAULT_DESCRIPTIONS.get(code, f"Error {code}")
        super().__init__(f"{code} {self.description}")

    def payload(self) -> dict[str, Any]:
        return {"ok": False, "error_code": self.code, "description": self.description}


@dataclass
class ZaloBotCall:
    """One API request as the fake saw it."""

    method: str
    params: dict[str, Any]
    t: float
    status: int | None = None
    description: str | None = None
    result: Any = None
    injected: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class ZaloBotSentMessage:
    """Something the bot sent into a chat (sendMessage, sendPhoto or sendSticker)."""

    chat_id: str
    message_id: str
    date: int
    method: str
    text: str | None = None
    caption: str | None = None
    photo: str | None = None
    sticker: str | None = None
    parse_mode: str | None = None
    photo_bytes: bytes | None = None  # what the photo URL gave (with `fetch_photos`)

    def contains(self, needle: str) -> bool:
        return needle in (self.text or self.caption or "")


@dataclass
class ZaloBotWebhookDelivery:
    """One POST of an update to the webhook."""

    message_id: str
    url: str
    wrapped: bool
    status: int | None
    error: str | None
    body: dict[str, Any]


@dataclass
class _Fault:
    method: str
    remaining: int
    status: int | str  # an HTTP status, or "timeout"
    description: str | None
    delay: float
    execute: bool


@dataclass
class _Webhook:
    url: str
    secret_token: str
    updated_at: int


@dataclass
class ZaloBotUser:
    """A simulated Zalo user; the private chat id equals the user id."""

    user_id: str
    display_name: str
    has_written: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_id() -> str:
    return secrets.token_hex(10)


class FakeZaloBot:
    """In-process fake of the Zalo Bot Platform for one bot token. See the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_ZALO_BOT_TOKEN,
        *,
        host: str = "127.0.0.1",
        account_name: str = "bot.SipasTest",
        strict_chats: bool = True,
        webhook_wrapped: bool = True,
        webhook_timeout: float = 5.0,
        webhook_retries: int = 2,
        webhook_retry_delay: float = 0.05,
        timeout_delay: float = 15.0,
        require_https: bool = False,
        fetch_photos: bool = False,
    ) -> None:
        bot_id, _, key = token.partition(":")
        if not bot_id.isdigit() or not key:
            raise ValueError(f"token {token!r} is not in the <bot id>:<key> form")
        self.token = token
        self.bot_id = bot_id
        self.account_name = account_name
        self.host = host
        self.strict_chats = strict_chats
        self.webhook_wrapped = webhook_wrapped
        self.webhook_timeout = webhook_timeout
        self.webhook_retries = webhook_retries
        self.webhook_retry_delay = webhook_retry_delay
        self.timeout_delay = timeout_delay
        self.require_https = require_https
        self.fetch_photos = fetch_photos
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()
        self._flowing = asyncio.Event()  # cleared while the bot's messages are held
        self._flowing.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }
        self._reset_state()

    def _reset_state(self) -> None:
        self.users: dict[str, ZaloBotUser] = {}
        self._queue: deque[dict[str, Any]] = deque()
        self._webhook: _Webhook | None = None
        self._faults: list[_Fault] = []
        self._consumed: set[str] = set()
        self.calls: list[ZaloBotCall] = []
        self.sent: list[ZaloBotSentMessage] = []
        self.chat_actions: list[tuple[str, str]] = []
        self.delivered: list[dict[str, Any]] = []  # updates handed out by getUpdates
        self.webhook_deliveries: list[ZaloBotWebhookDelivery] = []

    def reset(self) -> None:
        """Forget users, updates, calls, messages, faults and the webhook (keeps config)."""
        self._cancel_tasks()
        self._reset_state()
        self._notify()

    # --------------------------------------------------------------------------- lifecycle

    async def start(self, port: int = 0) -> str:
        """Listen on `host:port` (0 = any free port); returns `base_url`."""
        if self._runner is not None:
            raise RuntimeError("FakeZaloBot is already running")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        return self.base_url

    async def stop(self) -> None:
        """Wake long polls and held requests, stop webhook pushes, close the server."""
        self._closing.set()
        self._flowing.set()
        self._notify()
        self._cancel_tasks()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloBot:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _cancel_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeZaloBot is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What ZALO_BOT_API_BASE_URL should be: http://127.0.0.1:PORT/bot."""
        return f"{self.url}/bot"

    def api_url(self, method: str) -> str:
        return f"{self.base_url}{self.token}/{method}"

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    # ------------------------------------------------------------------------ notifications

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, timeout: float) -> None:
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `condition()` is truthy (re-checked on every change); returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self._wait_change(min(remaining, 0.5))

    def hold_messages(self) -> None:
        """Keep the bot's messages on their way: each sendMessage, sendPhoto or sendSticker
        waits, unperformed and unanswered, until `release_messages` (or `stop`)."""
        self._flowing.clear()

    def release_messages(self) -> None:
        """Let the held messages (and later ones) through, in the order they came."""
        self._flowing.set()

    async def _hold(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # ----------------------------------------------------------------------- HTTP plumbing

    @staticmethod
    def _json_response(body: Mapping[str, Any], status: int = 200) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            content_type="application/json",
        )

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._json_response(ZaloBotApiError(401).payload(), 401)
        method = request.match_info["method"]
        handler = self._handlers.get(method)
        if handler is None:
            return self._json_response(ZaloBotApiError(404).payload(), 404)
        params: dict[str, Any] = {}
        if request.body_exists:
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                error = ZaloBotApiError(400, "Bad Request: body must be a JSON object")
                return self._json_response(error.payload(), 400)
            params = body
        call = ZaloBotCall(method=method, params=dict(params), t=time.monotonic())
        self.calls.append(call)
        self._notify()
        if method in SEND_METHODS:
            await self._flowing.wait()
        try:
            result = await self._run(method, handler, params, call)
        except ZaloBotApiError as exc:
            call.status, call.description = exc.code, exc.description
            self._notify()
            return self._json_response(exc.payload(), exc.code)
        call.status, call.result = 200, result
        self._notify()
        return self._json_response({"ok": True, "result": result})

    async def _run(
        self,
        method: str,
        handler: Callable[[dict[str, Any]], Awaitable[Any]],
        params: dict[str, Any],
        call: ZaloBotCall,
    ) -> Any:
        fault = self._take_fault(method)
        if fault is None:
            return await handler(params)
        call.injected = str(fault.status)
        if fault.status != "timeout":
            raise ZaloBotApiError(int(fault.status), fault.description)
        if fault.execute:
            await handler(params)
        await self._hold(fault.delay)
        raise ZaloBotApiError(504, fault.description)

    # ------------------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str = "*",
        count: int = 1,
        status: int | str = 429,
        *,
        description: str | None = None,
        delay: float | None = None,
        execute: bool = False,
    ) -> None:
        """The next `count` calls of `method` ("*" = any) fail with `status` (429 is "Quota
        exceeded"), or with "timeout": held `delay` s (default `timeout_delay`) and then 504;
        `execute=True` performs the call first, so a message is sent but its answer is lost."""
        if method != "*" and method not in self._handlers:
            raise ValueError(f"unknown Zalo Bot method {method!r}")
        self._faults.append(
            _Fault(
                method,
                count,
                status,
                description,
                self.timeout_delay if delay is None else delay,
                execute,
            )
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method in ("*", method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------------------- users

    def add_user(self, user_id: str, display_name: str = "Nguyễn Văn A") -> ZaloBotUser:
        """A user who has not written yet (the bot cannot send to them)."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = ZaloBotUser(user_id, display_name)
        return user

    def _incoming(
        self,
        user_id: str,
        event_name: str,
        fields: Mapping[str, Any],
        *,
        display_name: str | None,
        wrapped: bool | None,
    ) -> dict[str, Any]:
        user = self.add_user(user_id, display_name or "Nguyễn Văn A")
        if display_name:
            user.display_name = display_name
        user.has_written = True
        message: dict[str, Any] = {
            "message_id": _new_id(),
            "date": _now_ms(),
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "from": {"id": user_id, "display_name": user.display_name, "is_bot": False},
            **fields,
        }
        update = {"event_name": event_name, "message": message}
        user.sent.append(update)
        self._dispatch(update, wrapped)
        return update

    def user_sends_text(
        self,
        user_id: str,
        text: str,
        *,
        display_name: str | None = None,
        wrapped: bool | None = None,
    ) -> dict[str, Any]:
        """The user types `text`: queued for getUpdates, or pushed to the webhook (body
        wrapped or flat per `wrapped`, default the fake's `webhook_wrapped`). Returns the
        update."""
        return self._incoming(
            user_id, TEXT_EVENT, {"text": text}, display_name=display_name, wrapped=wrapped
        )

    def user_sends_sticker(
        self, user_id: str, sticker: str = "bfe458bf64fa8da4d4eb", *, wrapped: bool | None = None
    ) -> dict[str, Any]:
        fields = {"sticker": sticker, "url": f"https://zalo-api.zadn.vn/api/emoticon/{sticker}"}
        return self._incoming(user_id, STICKER_EVENT, fields, display_name=None, wrapped=wrapped)

    def user_sends_image(
        self, user_id: str, caption: str | None = None, *, wrapped: bool | None = None
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"photo_url": f"https://photo.zdn.vn/fake/{_new_id()}.jpg"}
        if caption:
            fields["caption"] = caption
        return self._incoming(user_id, IMAGE_EVENT, fields, display_name=None, wrapped=wrapped)

    def redeliver(self, update: Mapping[str, Any], *, wrapped: bool | None = None) -> None:
        """Deliver `update` again, unchanged (same message_id), as the platform may."""
        self._dispatch(dict(update), wrapped)

    def _dispatch(self, update: dict[str, Any], wrapped: bool | None) -> None:
        hook = self._webhook
        if hook is None:
            self._queue.append(update)
            self._notify()
            return
        body_wrapped = self.webhook_wrapped if wrapped is None else wrapped
        task = asyncio.get_running_loop().create_task(self._push(hook, update, body_wrapped))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued for getUpdates."""
        return list(self._queue)

    # -------------------------------------------------------------------------- inspection

    def messages_to(self, chat_id: str) -> list[ZaloBotSentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    async def wait_for_message(
        self,
        chat_id: str,
        timeout: float = 10.0,
        *,
        contains: str | None = None,
        consume: bool = True,
    ) -> ZaloBotSentMessage:
        """The earliest bot message to `chat_id` containing `contains` (in text or caption)
        that no earlier wait_for_message returned; waits up to `timeout` s for one."""

        def find() -> ZaloBotSentMessage | None:
            for message in self.messages_to(chat_id):
                if message.message_id in self._consumed:
                    continue
                if contains is None or message.contains(contains):
                    return message
            return None

        try:
            found: ZaloBotSentMessage = await self.wait_until(find, timeout)
        except TimeoutError:
            seen = [m.text or m.caption for m in self.messages_to(chat_id)]
            raise TimeoutError(
                f"no message to chat {chat_id} containing {contains!r} within {timeout} s; "
                f"messages so far: {seen}"
            ) from None
        if consume:
            self._consumed.add(found.message_id)
        return found

    async def wait_for_deliveries(
        self, count: int, timeout: float = 10.0
    ) -> list[ZaloBotWebhookDelivery]:
        """Wait until at least `count` webhook POSTs finished (successful or not)."""
        await self.wait_until(lambda: len(self.webhook_deliveries) >= count, timeout)
        return list(self.webhook_deliveries)

    # ----------------------------------------------------------------------------- methods

    @staticmethod
    def _text_param(params: Mapping[str, Any], name: str, *, required: bool) -> str | None:
        value = params.get(name)
        if value is None or value == "":
            if required:
                raise ZaloBotApiError(400, f"Bad Request: {name} is required")
            return None
        if not isinstance(value, str):
            raise ZaloBotApiError(400, f"Bad Request: {name} must be a string")
        if len(value) > MAX_TEXT:
            raise ZaloBotApiError(
                400, f"Bad Request: {name} must be 1 to {MAX_TEXT} characters long"
            )
        return value

    def _open_chat(self, params: Mapping[str, Any]) -> str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ZaloBotApiError(400, "Bad Request: chat_id is required")
        chat = str(chat_id)
        user = self.users.get(chat)
        if self.strict_chats and (user is None or not user.has_written):
            raise ZaloBotApiError(403, NOT_STARTED)
        if "reply_markup" in params:
            raise ZaloBotApiError(400, "Bad Request: reply_markup is not supported")
        return chat

    def _record(self, chat_id: str, method: str, **fields: Any) -> dict[str, Any]:
        message = ZaloBotSentMessage(chat_id, _new_id(), _now_ms(), method, **fields)
        self.sent.append(message)
        return {"message_id": message.message_id, "date": message.date}

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "account_name": self.account_name,
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._webhook is not None:
            raise ZaloBotApiError(409, "Conflict: getUpdates is not available with a webhook")
        raw = params.get("timeout", DEFAULT_POLL_TIMEOUT)
        try:
            timeout = max(0.0, float(raw))
        except (TypeError, ValueError):
            raise ZaloBotApiError(400, "Bad Request: timeout must be a number") from None
        deadline = time.monotonic() + timeout
        while not self._queue:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing.is_set():
                raise ZaloBotApiError(408)
            await self._wait_change(remaining)
        update = self._queue.popleft()
        self.delivered.append(update)
        return update

    async def _set_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            raise ZaloBotApiError(400, "Bad Request: url is required")
        if self.require_https and not url.startswith("https://"):
            raise ZaloBotApiError(400, "Bad Request: url must be HTTPS")
        secret = params.get("secret_token")
        if not isinstance(secret, str) or not SECRET_MIN <= len(secret) <= SECRET_MAX:
            raise ZaloBotApiError(
                400, f"Bad Request: secret_token must be {SECRET_MIN} to {SECRET_MAX} characters"
            )
        self._webhook = _Webhook(url, secret, _now_ms())
        queued, self._queue = list(self._queue), deque()
        for update in queued:
            self._dispatch(update, None)
        return {"url": url, "updated_at": self._webhook.updated_at}

    async def _delete_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self._webhook = None
        return {"url": "", "updated_at": _now_ms()}

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._webhook is None:
            return {"url": "", "updated_at": _now_ms()}
        return {"url": self._webhook.url, "updated_at": self._webhook.updated_at}

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._open_chat(params)
        text = self._text_param(params, "text", required=True)
        parse_mode = params.get("parse_mode")
        if parse_mode is not None and str(parse_mode).lower() not in PARSE_MODES:
            raise ZaloBotApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")
        return self._record(chat, "sendMessage", text=text, parse_mode=parse_mode)

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._open_chat(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise ZaloBotApiError(400, "Bad Request: photo must be an image URL")
        caption = self._text_param(params, "caption", required=False)
        fetched = await self._fetch_photo(photo) if self.fetch_photos else None
        return self._record(chat, "sendPhoto", photo=photo, caption=caption, photo_bytes=fetched)

    async def _fetch_photo(self, url: str) -> bytes:
        """Fetch the photo as the platform does before it accepts the message."""
        assert self._session is not None
        try:
            async with self._session.get(url) as resp:
                body = await resp.read()
                if resp.status != 200 or resp.content_type not in ("image/png", "image/jpeg"):
                    raise ZaloBotApiError(400, f"Bad Request: photo URL answered {resp.status}")
        except aiohttp.ClientError:
            raise ZaloBotApiError(400, "Bad Request: photo URL cannot be fetched") from None
        return body

    async def _send_sticker(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._open_chat(params)
        sticker = self._text_param(params, "sticker", required=True)
        return self._record(chat, "sendSticker", sticker=sticker)

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._open_chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise ZaloBotApiError(400, f"Bad Request: unsupported action {action!r}")
        self.chat_actions.append((chat, str(action)))
        return True

    # ------------------------------------------------------------------------------ webhook

    async def _push(self, hook: _Webhook, update: dict[str, Any], wrapped: bool) -> None:
        """POST `update` to the webhook, retrying non-2xx answers `webhook_retries` times."""
        body = {"ok": True, "result": update} if wrapped else update
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", ZALO_SECRET_HEADER: hook.secret_token}
        for attempt in range(self.webhook_retries + 1):
            status: int | None = None
            error: str | None = None
            try:
                if self._session is None:
                    raise RuntimeError("fake Zalo Bot is not running")
                async with self._session.post(
                    hook.url,
                    data=data,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                ) as response:
                    status = response.status
                    await response.read()
                    if not 200 <= status < 300:
                        error = f"webhook answered {status}"
            except TimeoutError:
                error = "timeout"
            except (aiohttp.ClientError, OSError, RuntimeError) as exc:
                error = f"connection failed: {exc}"
            self.webhook_deliveries.append(
                ZaloBotWebhookDelivery(
                    update["message"]["message_id"], hook.url, wrapped, status, error, body
                )
            )
            self._notify()
            if error is None or attempt == self.webhook_retries:
                return
            await asyncio.sleep(self.webhook_retry_delay * 2**attempt)
