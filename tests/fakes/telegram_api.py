"""A fake Telegram Bot API server that speaks the real wire format.

`FakeTelegram` is an aiohttp application serving `/bot<token>/<method>` exactly as
api.telegram.org does: POST (or GET) with query, form-encoded, JSON or multipart parameters,
answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": ...,
"parameters": {"retry_after": N}}` with the HTTP status equal to `error_code`. Point
python-telegram-bot at it with `Bot(token, base_url=fake.base_url)` (the product reads
`TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot`).

What it models:

* Bot API methods: getMe, getUpdates (real long polling, offset confirmation, allowed_updates,
  409 when a second poller or a webhook takes over), setWebhook / deleteWebhook /
  getWebhookInfo (updates are POSTed to the webhook with `X-Telegram-Bot-Api-Secret-Token` and
  retried on non-2xx), sendMessage, sendPhoto (multipart upload, file_id or URL), editMessageText,
  editMessageCaption, editMessageReplyMarkup, deleteMessage, answerCallbackQuery, sendChatAction,
  set/get/deleteMyCommands per scope and language, getFile (+ file download), set/get
  MyDescription / MyShortDescription / MyName / ChatMenuButton.
* Validation with Telegram's error texts: message length, parse_mode markup, inline keyboards
  (`BUTTON_DATA_INVALID`), "message is not modified", "message to edit not found", ...
* Simulated private-chat users producing updates (`user_sends_text`, `user_presses`, ...).
* Fault injection (`block`, `fail_next`, `fail_rate`, timeouts) and Telegram's flood limits,
  enforced with 429 + retry_after and recorded in `violations`.
* Recording of every call and message, with race-free waiting helpers for tests.
* A JSON control API under `/_fake/...` (see `tests/fakes/_control.py`) so another process
  (a benchmark) can drive it; run standalone with `python -m tests.fakes.run_telegram`.

All helpers must be called from the event loop that runs the server.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web

from ._formatting import FormatError, parse_formatted, sort_entities, utf16_len
from ._media import image_size, ladder, tiny_png

log = logging.getLogger("tests.fakes.telegram")

DEFAULT_TOKEN = "123456:TEST-TOKEN"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64

ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# What Telegram sends when allowed_updates was never set (or set to []).
DEFAULT_UPDATE_TYPES = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
DEACTIVATED = "Forbidden: user is deactivated"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
BAD_MARKUP = "Bad Request: can't parse reply keyboard markup JSON object"
KEEP: Any = object()  # set_limits(): leave this limit unchanged

_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "scope",
        "commands",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "menu_button",
    }
)


# ------------------------------------------------------------------------------ data records


class ApiError(Exception):
    """A Bot API error answer: HTTP status == error_code."""

    def __init__(
        self, code: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def error_for_status(
    status: int, *, retry_after: int | None = None, description: str | None = None
) -> ApiError:
    """The error Telegram answers with for an HTTP status (used by fault injection)."""
    if status == 429:
        seconds = max(1, int(retry_after or 1))
        return ApiError(
            429,
            description or f"Too Many Requests: retry after {seconds}",
            {"retry_after": seconds},
        )
    defaults = {
        400: "Bad Request: injected failure",
        401: "Unauthorized",
        403: BLOCKED,
        404: "Not Found",
        409: CONFLICT_POLL,
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    if description is None:
        try:
            description = defaults.get(status) or HTTPStatus(status).phrase
        except ValueError:
            description = f"Error {status}"
    return ApiError(status, description)


@dataclass
class Call:
    """One Bot API request as the fake saw it."""

    method: str
    params: dict[str, Any]
    chat_id: int | str | None
    t: float
    http_method: str = "POST"
    status: int | None = None
    description: str | None = None
    result: Any = None
    retry_after: int | None = None
    injected: str | None = None
    finished_at: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def outcome(self) -> str:
        if self.status is None:
            return "pending"
        if self.status == 200:
            return "ok"
        return f"{self.status} {self.description}"

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": self.params,
            "chat_id": self.chat_id,
            "t": self.t,
            "status": self.status,
            "outcome": self.outcome,
            "description": self.description,
            "retry_after": self.retry_after,
            "injected": self.injected,
            "finished_at": self.finished_at,
        }


@dataclass
class Violation:
    """A send that broke a flood limit (answered 429 unless enforcement is off)."""

    kind: str  # "global" | "chat_burst" | "chat_rate"
    method: str
    chat_id: int
    t: float
    count: int  # sends already in the window (or tokens left, for chat_rate)
    limit: float
    retry_after: int
    enforced: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class WebhookDelivery:
    """One POST of an update to the webhook."""

    update_id: int
    url: str
    t: float
    status: int | None
    error: str | None
    duration: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CallbackQueryRecord:
    """A simulated button press and the bot's answer to it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    answered_at: float | None = None
    answer: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class UserProfile:
    """A simulated Telegram user; their private chat with the bot has chat id == user id."""

    id: int
    first_name: str = "An"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "vi"

    def user_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["type"] = "private"
        return data


@dataclass
class SentMessage:
    """A message in a simulated private chat, kept current across edits.

    `data` is the Bot API Message object exactly as Telegram would return it now. For
    messages the bot sent, `reply_keyboard` holds a reply keyboard / remove_keyboard /
    force_reply markup (Telegram never echoes those in the Message), `raw_text` the text as
    sent before parse_mode was applied, and `history` the previous versions of `data`.
    """

    chat_id: int
    message_id: int
    method: str
    data: dict[str, Any]
    from_bot: bool
    sent_at: float
    version: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    reply_keyboard: dict[str, Any] | None = None
    raw_text: str | None = None
    parse_mode: str | None = None

    @property
    def text(self) -> str | None:
        """The message text, or the caption of a photo."""
        return self.data.get("text", self.data.get("caption"))

    @property
    def caption(self) -> str | None:
        return self.data.get("caption")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.data.get("entities", self.data.get("caption_entities", [])))

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The inline keyboard markup (the only kind a Message carries), or None."""
        return self.data.get("reply_markup")

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.reply_markup or {}
        return [list(row) for row in markup.get("inline_keyboard", [])]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, row by row, flattened."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_labels(self) -> list[str]:
        return [button.get("text", "") for button in self.buttons]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    @property
    def edited(self) -> bool:
        return self.version > 0

    @property
    def date(self) -> int:
        return int(self.data["date"])

    def find_button(self, label: str) -> dict[str, Any]:
        """The inline button whose label is `label` or (else) contains it, case-insensitively."""
        wanted = label.casefold()
        exact = [b for b in self.buttons if b.get("text", "").casefold() == wanted]
        if exact:
            return exact[0]
        partial = [b for b in self.buttons if wanted in b.get("text", "").casefold()]
        if partial:
            return partial[0]
        raise LookupError(
            f"no button matching {label!r} in message {self.message_id} to chat {self.chat_id}; "
            f"labels: {self.button_labels}"
        )

    def contains(self, needle: str) -> bool:
        return needle in (self.text or "")

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def to_json(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "method": self.method,
            "from_bot": self.from_bot,
            "sent_at": self.sent_at,
            "version": self.version,
            "deleted": self.deleted,
            "text": self.text,
            "button_labels": self.button_labels,
            "reply_keyboard": self.reply_keyboard,
            "message": self.data,
            "history": self.history,
        }


@dataclass
class _Fault:
    method: str  # canonical method name or "*"
    status: int | str  # HTTP status or "timeout"
    retry_after: int | None
    chat_id: int | None
    description: str | None
    delay: float
    execute: bool
    remaining: int | None = None  # fail_next: how many more; None for rate rules
    rate: float | None = None
    rng: random.Random | None = None
    kind: str = "fail_next"

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.method not in ("*", method):
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "status": self.status,
            "retry_after": self.retry_after,
            "chat_id": self.chat_id,
            "remaining": self.remaining,
            "rate": self.rate,
            "delay": self.delay,
            "execute": self.execute,
        }


@dataclass
class _PendingUpdate:
    update_id: int
    kind: str
    data: dict[str, Any]
    chat_id: int | None
    created_at: float
    attempts: int = 0
    next_attempt: float = 0.0


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _FileRecord:
    file_id: str
    file_unique_id: str
    file_size: int
    file_path: str
    data: bytes | None
    width: int | None = None
    height: int | None = None


@dataclass
class _Reply:
    """A successful result with Telegram's optional top-level `description`."""

    result: Any
    description: str | None = None


@dataclass
class _ChatState:
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None


@dataclass
class _Bucket:
    tokens: float
    last: float


Handler = Callable[[dict[str, Any], dict[str, "UploadedFile"]], Any]


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    def describe(self) -> dict[str, Any]:
        return {
            "upload": self.field,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.data),
        }


# ------------------------------------------------------------------------------- the server


class FakeTelegram:
    """In-process fake of api.telegram.org for one bot token. See the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "sipas_test_bot",
        bot_first_name: str = "SIPAS Test Bot",
        host: str = "127.0.0.1",
        global_rate: int | None = 30,
        per_chat_burst: int | None = 3,
        per_chat_rate: float | None = 1.0,
        rate_window: float = 1.0,
        enforce_limits: bool = True,
        rate_limited_methods: Iterable[str] = ("sendMessage", "sendPhoto"),
        strict_chats: bool = True,
        callback_query_ttl: float | None = 15.0,
        webhook_timeout: float = 10.0,
        webhook_retry_delay: float = 0.2,
        webhook_retry_max: float = 5.0,
        timeout_delay: float = 15.0,
        first_update_id: int = 100_000_001,
        require_https: bool = False,
        seed: int | None = 0,
    ) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(f"token {token!r} is not in Telegram's <digits>:<secret> form")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.host = host
        self.global_rate = global_rate
        self.per_chat_burst = per_chat_burst
        self.per_chat_rate = per_chat_rate
        self.rate_window = rate_window
        self.enforce_limits = enforce_limits
        self.rate_limited_methods = set(rate_limited_methods)
        self.strict_chats = strict_chats
        self.callback_query_ttl = callback_query_ttl
        self.webhook_timeout = webhook_timeout
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_retry_max = webhook_retry_max
        self.timeout_delay = timeout_delay
        self.require_https = require_https
        self._seed = seed
        self._first_update_id = first_update_id

        self._methods: dict[str, tuple[str, Handler]] = {}
        for name, handler in self._handlers().items():
            self._methods[name.lower()] = (name, handler)

        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._delivery_tasks: dict[int, asyncio.Task[None]] = {}
        self.app = self._build_app()
        self._reset_state()

    # --------------------------------------------------------------------------- lifecycle

    def _reset_state(self) -> None:
        self._rng = random.Random(self._seed)
        self._update_seq = self._first_update_id - 1
        self._updates: dict[int, _PendingUpdate] = {}
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._webhook: _Webhook | None = None
        self.users: dict[int, UserProfile] = {}
        self._chats: dict[int, _ChatState] = {}
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._forbidden: dict[int, str] = {}
        self._files: dict[str, _FileRecord] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._bot_settings: dict[tuple[str, str], Any] = {}
        self._callbacks: dict[str, CallbackQueryRecord] = {}
        self._faults: list[_Fault] = []
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        self._buckets: dict[int, _Bucket] = {}
        self._consumed: set[tuple[int, int, int]] = set()
        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.chat_actions: list[tuple[int, str, float]] = []
        self.dropped_updates: list[dict[str, Any]] = []
        self.delivered_update_ids: set[int] = set()

    def reset(self) -> None:
        """Forget users, messages, updates, calls, faults, webhook and commands (keeps config)."""
        self._cancel_webhook()
        self._reset_state()
        self._notify()

    async def start(self, port: int = 0) -> str:
        """Listen on `host:port` (0 = any free port); returns `base_url`."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        if self.app.frozen:  # restarted after stop(): aiohttp apps run once
            self.app = self._build_app()
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        log.info("fake Telegram listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        """Wake every long poll and held request, stop webhook delivery, close the server."""
        self._closing.set()
        self._notify()
        self._cancel_webhook()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Server root, e.g. http://127.0.0.1:PORT."""
        if self.port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as PTB `base_url` / TELEGRAM_API_BASE_URL: http://127.0.0.1:PORT/bot."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB `base_file_url` for file downloads: http://127.0.0.1:PORT/file/bot."""
        return f"{self.url}/file/bot"

    @property
    def control_url(self) -> str:
        return f"{self.url}/_fake"

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot as a User object (the `from` of bot messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _build_app(self) -> web.Application:
        from ._control import add_control_routes

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        add_control_routes(app, self)
        return app

    # ------------------------------------------------------------------------ notifications

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, timeout: float) -> None:
        if timeout <= 0:
            return
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def wait_until(
        self, condition: Callable[[], Any], timeout: float = 10.0, message: str = ""
    ) -> Any:
        """Wait until `condition()` is truthy (re-checked on every change); returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(message or f"condition not met within {timeout} s")
            await self._wait_change(min(remaining, 0.5))

    async def _hold(self, seconds: float) -> None:
        """Sleep without blocking other requests; returns early when the server stops."""
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

    def _error_response(self, error: ApiError) -> web.Response:
        return self._json_response(error.payload(), error.code)

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise ApiError(400, "Bad Request: can't parse JSON request body") from exc
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: request body must be a JSON object")
                params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        params[key] = value
        for key in _JSON_PARAMS & params.keys():
            value = params[key]
            if isinstance(value, str) and value.strip()[:1] in ("{", "["):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params, files

    @staticmethod
    def _peek_chat_id(params: Mapping[str, Any]) -> int | str | None:
        value = params.get("chat_id")
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return str(value)

    def _canonical(self, method: str) -> str:
        """Canonical Bot API name for "sendMessage", "sendmessage" or "send_message"."""
        if method == "*":
            return method
        entry = self._methods.get(method.replace("_", "").lower())
        if entry is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        return entry[0]

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        name = request.match_info["method"]
        if token != self.token:
            if _TOKEN_RE.fullmatch(token):
                return self._error_response(ApiError(401, "Unauthorized"))
            return self._error_response(ApiError(404, "Not Found"))
        entry = self._methods.get(name.lower())
        if entry is None:
            return self._error_response(ApiError(404, "Not Found"))
        method, handler = entry
        try:
            params, files = await self._read_params(request)
        except ApiError as exc:
            return self._error_response(exc)
        recorded = dict(params)
        for key, upload in files.items():
            recorded[key] = upload.describe()
        call = Call(
            method=method,
            params=recorded,
            chat_id=self._peek_chat_id(params),
            t=time.monotonic(),
            http_method=request.method,
        )
        self.calls.append(call)
        try:
            fault = self._take_fault(method, call.chat_id)
            if fault is not None:
                call.injected = fault.kind
                if fault.status == "timeout":
                    outcome: Any = None
                    if fault.execute:
                        outcome = await self._run(handler, params, files)
                    await self._hold(fault.delay)
                    if not fault.execute:
                        raise ApiError(502, "Bad Gateway")
                else:
                    raise error_for_status(
                        int(fault.status),
                        retry_after=fault.retry_after,
                        description=fault.description,
                    )
            else:
                outcome = await self._run(handler, params, files)
        except ApiError as exc:
            self._finish(call, exc.code, exc.description, None, exc.parameters)
            return self._error_response(exc)
        except asyncio.CancelledError:
            self._finish(call, 499, "client gone / server stopping", None, None)
            raise
        except Exception as exc:  # a bug in the fake: answer like Telegram's 500 and log it
            log.exception("fake Telegram failed on %s", method)
            self._finish(call, 500, f"Internal Server Error ({exc!r})", None, None)
            return self._error_response(ApiError(500, "Internal Server Error"))
        reply = outcome if isinstance(outcome, _Reply) else _Reply(outcome)
        self._finish(call, 200, reply.description, reply.result, None)
        body: dict[str, Any] = {"ok": True, "result": reply.result}
        if reply.description:
            body["description"] = reply.description
        return self._json_response(body)

    @staticmethod
    async def _run(handler: Handler, params: dict[str, Any], files: dict[str, Any]) -> Any:
        outcome = handler(params, files)
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        return outcome

    def _finish(
        self,
        call: Call,
        status: int,
        description: str | None,
        result: Any,
        parameters: Mapping[str, Any] | None,
    ) -> None:
        call.status = status
        call.description = description
        call.result = result
        call.finished_at = time.monotonic()
        if parameters and "retry_after" in parameters:
            call.retry_after = int(parameters["retry_after"])
        self._notify()

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        for record in self._files.values():
            if record.file_path == path:
                data = record.data
                if data is None:
                    data = tiny_png(record.width or 4, record.height or 3)
                return web.Response(body=data, content_type="application/octet-stream")
        return self._error_response(ApiError(404, "Not Found"))

    # ---------------------------------------------------------------------- param helpers

    @staticmethod
    def _int(params: Mapping[str, Any], name: str, *, required: str | None = None) -> int | None:
        value = params.get(name)
        if value is None or value == "":
            if required:
                raise ApiError(400, required)
            return None
        if isinstance(value, bool):
            raise ApiError(400, f"Bad Request: invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    @staticmethod
    def _float(params: Mapping[str, Any], name: str) -> float | None:
        value = params.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    @staticmethod
    def _bool(params: Mapping[str, Any], name: str) -> bool:
        value = params.get(name)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return str(value).strip().lower() in ("true", "1", "yes")

    @staticmethod
    def _str(params: Mapping[str, Any], name: str) -> str | None:
        value = params.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    @staticmethod
    def _json(params: Mapping[str, Any], name: str, error: str) -> Any:
        value = params.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, error) from None
        return value

    def _chat_id(self, params: Mapping[str, Any]) -> int:
        """A chat the bot may talk to: a known private chat (any chat if not strict)."""
        value = params.get("chat_id")
        if value is None or value == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id <= 0 or (self.strict_chats and chat_id not in self.users):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _check_forbidden(self, chat_id: int) -> None:
        reason = self._forbidden.get(chat_id)
        if reason:
            raise ApiError(403, reason)

    # ------------------------------------------------------------------------ flood limits

    def set_limits(
        self,
        *,
        global_rate: Any = KEEP,
        per_chat_burst: Any = KEEP,
        per_chat_rate: Any = KEEP,
        rate_window: float | None = None,
        enforce: bool | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Change flood limits at runtime (None disables a limit; KEEP leaves it as it is)."""
        if global_rate is not KEEP:
            self.global_rate = global_rate
        if per_chat_burst is not KEEP:
            self.per_chat_burst = per_chat_burst
        if per_chat_rate is not KEEP:
            self.per_chat_rate = per_chat_rate
        if rate_window is not None:
            self.rate_window = rate_window
        if enforce is not None:
            self.enforce_limits = enforce
        if methods is not None:
            self.rate_limited_methods = {self._canonical(m) for m in methods}
        self._buckets.clear()

    def _check_flood(self, method: str, chat_id: int) -> None:
        """Telegram's limits: ≤ global_rate sends per window overall, ≤ per_chat_burst per
        window per chat and per_chat_rate/s sustained (a token bucket). Records violations and
        answers 429 when enforcing; only accepted sends count towards the windows."""
        if method not in self.rate_limited_methods:
            return
        now = time.monotonic()
        window = self.rate_window
        global_window = self._global_window
        while global_window and global_window[0] <= now - window:
            global_window.popleft()
        chat_window = self._chat_windows.setdefault(chat_id, deque())
        while chat_window and chat_window[0] <= now - window:
            chat_window.popleft()
        bucket = self._buckets.get(chat_id)
        if self.per_chat_rate:
            capacity = float(self.per_chat_burst or 1)
            if bucket is None:
                bucket = self._buckets[chat_id] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.last) * self.per_chat_rate)
            bucket.last = now

        found: list[tuple[str, int, float, float]] = []
        if self.global_rate is not None and len(global_window) >= self.global_rate:
            wait = global_window[len(global_window) - self.global_rate] + window - now
            found.append(("global", len(global_window), self.global_rate, wait))
        if self.per_chat_burst is not None and len(chat_window) >= self.per_chat_burst:
            wait = chat_window[len(chat_window) - self.per_chat_burst] + window - now
            found.append(("chat_burst", len(chat_window), self.per_chat_burst, wait))
        if self.per_chat_rate and bucket is not None and bucket.tokens < 1.0:
            wait = (1.0 - bucket.tokens) / self.per_chat_rate
            found.append(("chat_rate", len(chat_window), self.per_chat_rate, wait))
        if found:
            retry_after = max(1, math.ceil(max(item[3] for item in found)))
            for kind, count, limit, _ in found:
                self.violations.append(
                    Violation(
                        kind=kind,
                        method=method,
                        chat_id=chat_id,
                        t=now,
                        count=count,
                        limit=limit,
                        retry_after=retry_after,
                        enforced=self.enforce_limits,
                    )
                )
            if self.enforce_limits:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
        global_window.append(now)
        chat_window.append(now)
        if bucket is not None:
            bucket.tokens -= 1.0

    # ---------------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int | str = 429,
        retry_after: int = 3,
        chat_id: int | None = None,
        *,
        description: str | None = None,
        delay: float | None = None,
        execute: bool = False,
    ) -> None:
        """Answer the next `count` calls of `method` ("*" = any; optionally only for `chat_id`)
        with `status` (429 carries `retry_after`; 500 "Internal Server Error"; any other code
        with Telegram's text or `description`). status="timeout" holds the request `delay`
        seconds (default `timeout_delay`, 15 s) so the client times out; with execute=True the
        call takes effect before the hold (the message IS sent), otherwise it never does and
        the late answer is 502."""
        self._faults.append(
            _Fault(
                method=self._canonical(method),
                status=status,
                retry_after=retry_after,
                chat_id=chat_id,
                description=description,
                delay=self.timeout_delay if delay is None else delay,
                execute=execute,
                remaining=count,
            )
        )

    def fail_rate(
        self,
        method: str,
        rate: float = 0.05,
        status: int | str = 429,
        retry_after: int = 1,
        seed: int | None = None,
        *,
        chat_id: int | None = None,
        description: str | None = None,
        delay: float | None = None,
        execute: bool = False,
    ) -> None:
        """Fail a random `rate` fraction of `method` calls (seeded, reproducible)."""
        self._faults.append(
            _Fault(
                method=self._canonical(method),
                status=status,
                retry_after=retry_after,
                chat_id=chat_id,
                description=description,
                delay=self.timeout_delay if delay is None else delay,
                execute=execute,
                rate=rate,
                rng=random.Random(seed),
                kind="fail_rate",
            )
        )

    def clear_faults(self, method: str | None = None) -> None:
        """Drop pending fail_next / fail_rate rules (all, or those for `method`)."""
        if method is None:
            self._faults.clear()
        else:
            name = self._canonical(method)
            self._faults = [f for f in self._faults if f.method != name]

    @property
    def faults(self) -> list[dict[str, Any]]:
        return [fault.to_json() for fault in self._faults]

    def _take_fault(self, method: str, chat_id: int | str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining is not None and fault.matches(method, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        for fault in self._faults:
            if fault.rate is not None and fault.rng is not None and fault.matches(method, chat_id):
                if fault.rng.random() < fault.rate:
                    return fault
        return None

    def block(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends to them answer 403 "Forbidden: bot was blocked by the
        user". With notify, a my_chat_member update (member → kicked) is queued, as Telegram
        does."""
        self._set_forbidden(user_id, BLOCKED, notify)

    def deactivate(self, user_id: int) -> None:
        """The user deletes their account: 403 "Forbidden: user is deactivated"."""
        self._set_forbidden(user_id, DEACTIVATED, notify=False)

    def unblock(self, user_id: int, *, notify: bool = True) -> None:
        """Undo `block` (a my_chat_member kicked → member update when notify)."""
        if self._forbidden.pop(user_id, None) == BLOCKED and notify and user_id in self.users:
            self._push_member_change(user_id, "kicked", "member")

    def is_blocked(self, user_id: int) -> bool:
        return user_id in self._forbidden

    def _set_forbidden(self, user_id: int, reason: str, notify: bool) -> None:
        already = user_id in self._forbidden
        self._forbidden[user_id] = reason
        if notify and not already and user_id in self.users:
            self._push_member_change(user_id, "member", "kicked")

    def _push_member_change(self, user_id: int, old: str, new: str) -> None:
        profile = self.users[user_id]
        new_member: dict[str, Any] = {"user": self.bot_user, "status": new}
        if new == "kicked":
            new_member["until_date"] = 0
        self._push_update(
            "my_chat_member",
            {
                "chat": profile.chat_json(),
                "from": profile.user_json(),
                "date": int(time.time()),
                "old_chat_member": {"user": self.bot_user, "status": old},
                "new_chat_member": new_member,
            },
            user_id,
        )

    # ------------------------------------------------------------------------------ updates

    @property
    def allowed_updates(self) -> set[str]:
        return set(self._allowed_updates or DEFAULT_UPDATE_TYPES)

    def _set_allowed_updates(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            raise ApiError(400, "Bad Request: can't parse allowed updates")
        self._allowed_updates = {str(v) for v in value} or None

    def _push_update(
        self, kind: str, payload: dict[str, Any], chat_id: int | None
    ) -> dict[str, Any]:
        self._update_seq += 1
        update = {"update_id": self._update_seq, kind: payload}
        if kind not in self.allowed_updates:
            self.dropped_updates.append(update)
            return update
        self._updates[self._update_seq] = _PendingUpdate(
            update_id=self._update_seq,
            kind=kind,
            data=update,
            chat_id=chat_id,
            created_at=time.monotonic(),
        )
        self._notify()
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed (getUpdates offset) or delivered (webhook 2xx)."""
        return [pending.data for pending in self._updates.values()]

    def is_delivered(self, update_id: int) -> bool:
        return update_id in self.delivered_update_ids

    async def wait_delivered(self, update: int | Mapping[str, Any], timeout: float = 10.0) -> None:
        """Wait until the update was confirmed by a later getUpdates offset or got a 2xx from
        the webhook, i.e. the bot has certainly received it."""
        update_id = update if isinstance(update, int) else int(update["update_id"])
        await self.wait_until(
            lambda: self.is_delivered(update_id),
            timeout,
            f"update {update_id} not delivered within {timeout} s",
        )

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            keep = list(self._updates)[offset:]
            drop = [uid for uid in self._updates if uid not in keep]
        else:
            drop = [uid for uid in self._updates if uid < offset]
        for uid in drop:
            del self._updates[uid]
            self.delivered_update_ids.add(uid)
        if drop:
            self._notify()

    # ----------------------------------------------------------------------- simulated users

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> UserProfile:
        """Register a user who has a private chat with the bot (no update is produced)."""
        if user_id <= 0:
            raise ValueError("private chats have positive ids")
        profile = self.users.get(user_id)
        if profile is None:
            profile = self.users[user_id] = UserProfile(id=user_id)
            self._chats[user_id] = _ChatState()
            self._messages[user_id] = {}
        if first_name is not None:
            profile.first_name = first_name
        if last_name is not None:
            profile.last_name = last_name
        if username is not None:
            profile.username = username
        if language_code is not None:
            profile.language_code = language_code
        return profile

    def _incoming(
        self,
        user_id: int,
        content: dict[str, Any],
        first_name: str | None,
        language_code: str | None,
    ) -> dict[str, Any]:
        profile = self.add_user(user_id, first_name, language_code=language_code)
        if self._forbidden.get(user_id) == BLOCKED:
            self.unblock(user_id)  # writing to the bot means unblocking it first
        chat = self._chats[user_id]
        message_id = chat.next_message_id
        chat.next_message_id += 1
        data: dict[str, Any] = {
            "message_id": message_id,
            "from": profile.user_json(),
            "chat": profile.chat_json(),
            "date": int(time.time()),
            **content,
        }
        self._messages[user_id][message_id] = SentMessage(
            chat_id=user_id,
            message_id=message_id,
            method="user",
            data=data,
            from_bot=False,
            sent_at=time.monotonic(),
        )
        if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = dict(chat.reply_keyboard, hidden=True)
        return self._push_update("message", data, user_id)

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """The user writes `text` (a leading /command gets a bot_command entity); returns the
        Update. first_name / language_code default to the user's profile ("An", "vi")."""
        content: dict[str, Any] = {"text": text}
        match = _BOT_COMMAND_RE.match(text)
        if match:
            content["entities"] = [
                {"offset": 0, "length": utf16_len(match.group(0)), "type": "bot_command"}
            ]
        return self._incoming(user_id, content, first_name, language_code)

    def user_sends_command(
        self,
        user_id: int,
        command: str,
        payload: str | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """`/command payload`, e.g. a deep link `/start <payload>`."""
        text = command if command.startswith("/") else f"/{command}"
        if payload:
            text = f"{text} {payload}"
        return self.user_sends_text(user_id, text, first_name, language_code)

    def user_shares_contact(
        self,
        user_id: int,
        phone_number: str,
        contact_user_id: int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        omit_user_id: bool = False,
    ) -> dict[str, Any]:
        """A contact message, as produced by a request_contact button (contact.user_id defaults
        to the sender: their own number)."""
        profile = self.add_user(user_id)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or profile.first_name,
        }
        if last_name or (first_name is None and profile.last_name):
            contact["last_name"] = last_name or profile.last_name
        if not omit_user_id:
            contact["user_id"] = contact_user_id if contact_user_id is not None else user_id
        return self._incoming(user_id, {"contact": contact}, None, None)

    def user_sends_sticker(self, user_id: int, emoji: str = "👍") -> dict[str, Any]:
        """A regular static sticker from a sticker set."""
        file_id, unique = self._new_file_id("CAACAgIAAxkBAAI"), self._new_unique_id()
        thumb_id, thumb_unique = self._new_file_id("AAMCAgADGQEAAI"), self._new_unique_id()
        sticker = {
            "width": 512,
            "height": 512,
            "emoji": emoji,
            "set_name": "FakeStickerSet",
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "thumbnail": {
                "file_id": thumb_id,
                "file_unique_id": thumb_unique,
                "file_size": 5416,
                "width": 128,
                "height": 128,
            },
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": 27320,
        }
        self._register_file(file_id, unique, 27320, "stickers/file", None, 512, 512)
        return self._incoming(user_id, {"sticker": sticker}, None, None)

    def user_sends_photo(
        self, user_id: int, caption: str | None = None, width: int = 1280, height: int = 960
    ) -> dict[str, Any]:
        """A photo (list of PhotoSize, smallest first), optionally with a caption."""
        content: dict[str, Any] = {"photo": self._photo_sizes(width, height, None)}
        if caption:
            content["caption"] = caption
        return self._incoming(user_id, content, None, None)

    def user_presses(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        strict: bool = True,
    ) -> dict[str, Any]:
        """The user taps an inline button of bot message `message_id` in their chat; returns
        the callback_query Update. With strict, the data must belong to a button the message
        shows now (as with a real client)."""
        message = self._messages.get(user_id, {}).get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {user_id}")
        if strict and callback_data not in message.callback_data:
            raise ValueError(
                f"message {message_id} has no button with callback_data {callback_data!r}; "
                f"it shows {message.callback_data}"
            )
        profile = self.users[user_id]
        query_id = str(self._rng.getrandbits(62) | (1 << 62))
        while query_id in self._callbacks:
            query_id = str(self._rng.getrandbits(62) | (1 << 62))
        self._callbacks[query_id] = CallbackQueryRecord(
            id=query_id,
            user_id=user_id,
            chat_id=user_id,
            message_id=message_id,
            data=callback_data,
            created_at=time.monotonic(),
        )
        query = {
            "id": query_id,
            "from": profile.user_json(),
            "message": json.loads(json.dumps(message.data)),
            "chat_instance": self.chat_instance(user_id),
            "data": callback_data,
        }
        return self._push_update("callback_query", query, user_id)

    def press_button(
        self, user_id: int, message: SentMessage | Mapping[str, Any] | int | Any, label: str
    ) -> dict[str, Any]:
        """Press the inline button labelled `label` (exact, else substring, case-insensitive)
        on `message` (a SentMessage, a Message dict, a telegram.Message or a message_id) as it
        looks now."""
        if isinstance(message, Mapping):
            message_id = int(message["message_id"])
        elif isinstance(message, int):
            message_id = message
        else:  # SentMessage, or PTB's telegram.Message
            message_id = int(message.message_id)
        current = self._messages.get(user_id, {}).get(message_id)
        if current is None:
            raise LookupError(f"no message {message_id} in chat {user_id}")
        button = current.find_button(label)
        if "callback_data" not in button:
            raise ValueError(f"button {button.get('text')!r} is not a callback button: {button}")
        return self.user_presses(user_id, message_id, button["callback_data"])

    def chat_instance(self, chat_id: int) -> str:
        """Telegram's stable opaque id for the chat a callback button was pressed in."""
        digest = hashlib.sha256(f"{self.bot_id}:{chat_id}".encode()).digest()
        return str(int.from_bytes(digest[:8], "big", signed=True))

    # ---------------------------------------------------------------------------- recording

    def messages_to(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent to the chat, in order, as they look now (after edits)."""
        return [
            m
            for m in self._messages.get(chat_id, {}).values()
            if m.from_bot and (include_deleted or not m.deleted)
        ]

    def messages_from(self, user_id: int) -> list[SentMessage]:
        """Messages the simulated user sent to the bot, in order."""
        return [m for m in self._messages.get(user_id, {}).values() if not m.from_bot]

    def history(self, chat_id: int) -> list[SentMessage]:
        """The whole private chat, both directions, in order."""
        return list(self._messages.get(chat_id, {}).values())

    def last_message_to(self, chat_id: int) -> SentMessage | None:
        messages = self.messages_to(chat_id)
        return messages[-1] if messages else None

    def all_sent_messages(self, *, include_deleted: bool = False) -> list[SentMessage]:
        """Every bot message to every chat, in send order."""
        messages = [
            m
            for chat in self._messages.values()
            for m in chat.values()
            if m.from_bot and (include_deleted or not m.deleted)
        ]
        return sorted(messages, key=lambda m: m.sent_at)

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard the chat currently shows (None after remove_keyboard)."""
        chat = self._chats.get(chat_id)
        return chat.reply_keyboard if chat else None

    def sent_times(self, chat_id: int | None = None) -> list[float]:
        """time.monotonic() of every accepted bot send (sendMessage/sendPhoto), in order."""
        if chat_id is None:
            return [m.sent_at for m in self.all_sent_messages(include_deleted=True)]
        return [m.sent_at for m in self.messages_to(chat_id, include_deleted=True)]

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        name = self._canonical(method)
        return [
            c for c in self.calls if c.method == name and (chat_id is None or c.chat_id == chat_id)
        ]

    @property
    def callback_queries(self) -> list[CallbackQueryRecord]:
        return list(self._callbacks.values())

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        record = self._callbacks.get(query_id)
        return record.answer if record else None

    async def wait_for_answer(
        self, query: str | Mapping[str, Any], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Wait until the bot answers the callback query (id or callback_query Update)."""
        if isinstance(query, Mapping):
            query_id = str(
                query["callback_query"]["id"] if "callback_query" in query else query["id"]
            )
        else:
            query_id = query
        return await self.wait_until(
            lambda: self.callback_answer(query_id),
            timeout,
            f"callback query {query_id} not answered within {timeout} s",
        )

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 10.0,
        *,
        contains: str | None = None,
        button: str | None = None,
        consume: bool = True,
    ) -> SentMessage:
        """The earliest bot message to `chat_id` (in its current version) matching `predicate`,
        `contains` (substring of text/caption) and `button` (a label substring) that no earlier
        wait_for_message returned; waits for one up to `timeout` s. A message returned once can
        be returned again after it is edited. Scanning everything already sent means a reply
        that raced ahead of this call is still found."""

        def matches(message: SentMessage) -> bool:
            if contains is not None and not message.contains(contains):
                return False
            if button is not None and not any(
                button.casefold() in label.casefold() for label in message.button_labels
            ):
                return False
            return predicate is None or bool(predicate(message))

        def find() -> SentMessage | None:
            for message in self.messages_to(chat_id):
                key = (chat_id, message.message_id, message.version)
                if key not in self._consumed and matches(message):
                    return message
            return None

        try:
            found: SentMessage = await self.wait_until(find, timeout)
        except TimeoutError:
            seen = [(m.message_id, m.text, m.button_labels) for m in self.messages_to(chat_id)]
            raise TimeoutError(
                f"no matching message to chat {chat_id} within {timeout} s "
                f"(contains={contains!r}, button={button!r}); messages so far: {seen}"
            ) from None
        if consume:
            self._consumed.add((chat_id, found.message_id, found.version))
        return found

    def commands(
        self, scope: str | Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """Commands set for a scope: "default", "all_private_chats", "chat:<id>", or a
        BotCommandScope dict."""
        if isinstance(scope, Mapping):
            key = self._scope_key(scope)
        else:
            key = scope or "default"
        return list(self._commands.get((key, language_code), []))

    # ------------------------------------------------------------------------ file helpers

    def _new_file_id(self, prefix: str) -> str:
        tail = base64.urlsafe_b64encode(self._rng.randbytes(36)).decode().rstrip("=")
        return prefix + tail

    def _new_unique_id(self) -> str:
        return "AQAD" + base64.urlsafe_b64encode(self._rng.randbytes(9)).decode().rstrip("=")

    def _register_file(
        self,
        file_id: str,
        unique: str,
        size: int,
        folder: str,
        data: bytes | None,
        width: int | None,
        height: int | None,
    ) -> None:
        extension = "webp" if folder.startswith("stickers") else "jpg"
        path = f"{folder.split('/')[0]}/file_{len(self._files)}.{extension}"
        self._files[file_id] = _FileRecord(file_id, unique, size, path, data, width, height)

    def _photo_sizes(self, width: int, height: int, data: bytes | None) -> list[dict[str, Any]]:
        sizes = []
        steps = ladder(width, height)
        for index, (w, h) in enumerate(steps):
            file_id, unique = self._new_file_id("AgACAgIAAxkBAAI"), self._new_unique_id()
            last = index == len(steps) - 1
            size = len(data) if (data is not None and last) else max(600, int(w * h * 0.12))
            self._register_file(file_id, unique, size, "photos", data if last else None, w, h)
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_size": size,
                    "width": w,
                    "height": h,
                }
            )
        for photo_size in sizes:
            self._photo_sets[str(photo_size["file_id"])] = sizes
        return sizes

    # -------------------------------------------------------------------- message plumbing

    def _format(
        self, text: str, parse_mode: Any, explicit: Any, field_name: str
    ) -> tuple[str, list[dict[str, Any]]]:
        if explicit not in (None, "", []):
            if not isinstance(explicit, list):
                raise ApiError(400, f"Bad Request: can't parse {field_name} JSON object")
            return text, sort_entities([dict(e) for e in explicit])
        try:
            return parse_formatted(text, str(parse_mode) if parse_mode else None)
        except FormatError as exc:
            raise ApiError(400, exc.description) from None

    def _parse_markup(
        self, raw: Any, *, inline_only: bool = False
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(inline markup for the Message, other reply markup) from a reply_markup param."""
        if raw is None or raw == "":
            return None, None
        markup = raw
        if isinstance(raw, str):
            try:
                markup = json.loads(raw)
            except ValueError:
                raise ApiError(400, BAD_MARKUP) from None
        if not isinstance(markup, dict):
            raise ApiError(400, BAD_MARKUP)
        if "inline_keyboard" in markup:
            return {"inline_keyboard": self._check_inline_keyboard(markup["inline_keyboard"])}, None
        if inline_only:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(400, BAD_MARKUP)
            normalized = []
            for row in rows:
                buttons = []
                for button in row:
                    if isinstance(button, str):
                        button = {"text": button}
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise ApiError(400, "Bad Request: can't parse keyboard button")
                    buttons.append(dict(button))
                normalized.append(buttons)
            placeholder = markup.get("input_field_placeholder")
            if placeholder is not None and len(str(placeholder)) > 64:
                raise ApiError(400, "Bad Request: input field placeholder is too long")
            return None, dict(markup, keyboard=normalized)
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return None, dict(markup)
        raise ApiError(400, BAD_MARKUP)

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> list[list[dict[str, Any]]]:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(400, BAD_MARKUP)
        normalized = []
        total = 0
        for row in rows:
            buttons = []
            for button in row:
                if not isinstance(button, dict):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "InlineKeyboardButton must be an Object",
                    )
                if not isinstance(button.get("text"), str):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        'Field "text" must be of type String',
                    )
                actions = [key for key in INLINE_BUTTON_ACTIONS if key in button]
                if not actions:
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if (
                        not isinstance(data, str)
                        or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
                    ):
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if "url" in button:
                    url = str(button["url"])
                    if not re.match(r"(https?|tg)://\S+$", url):
                        raise ApiError(
                            400,
                            f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                            "Wrong HTTP URL",
                        )
                buttons.append(dict(button))
                total += 1
            if buttons:
                normalized.append(buttons)
        if total > 100:
            raise ApiError(400, "Bad Request: reply markup is too long")
        return normalized

    def _reply_target(self, chat_id: int, params: Mapping[str, Any]) -> dict[str, Any] | None:
        reply = self._json(params, "reply_parameters", "Bad Request: can't parse reply parameters")
        if reply is None and params.get("reply_to_message_id") not in (None, ""):
            reply = {
                "message_id": params.get("reply_to_message_id"),
                "allow_sending_without_reply": self._bool(params, "allow_sending_without_reply"),
            }
        if not reply:
            return None
        try:
            message_id = int(reply.get("message_id"))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: message to be replied not found") from None
        target = self._messages.get(chat_id, {}).get(message_id)
        if target is None or target.deleted:
            if reply.get("allow_sending_without_reply") in (True, "true"):
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        replied = dict(target.data)
        replied.pop("reply_to_message", None)
        return replied

    def _store_bot_message(
        self,
        chat_id: int,
        method: str,
        content: dict[str, Any],
        inline_markup: dict[str, Any] | None,
        other_markup: dict[str, Any] | None,
        reply_to: dict[str, Any] | None,
        params: Mapping[str, Any],
        raw_text: str | None,
    ) -> SentMessage:
        profile = self.users.get(chat_id) or UserProfile(id=chat_id, first_name=f"User{chat_id}")
        if chat_id not in self._chats:
            self._chats[chat_id] = _ChatState()
            self._messages[chat_id] = {}
        chat = self._chats[chat_id]
        message_id = chat.next_message_id
        chat.next_message_id += 1
        data: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": profile.chat_json(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            data["reply_to_message"] = reply_to
        data.update(content)
        preview = self._json(
            params, "link_preview_options", "Bad Request: can't parse link preview options"
        )
        if isinstance(preview, dict) and preview.get("is_disabled"):
            data["link_preview_options"] = {"is_disabled": True}
        if self._bool(params, "has_protected_content") or self._bool(params, "protect_content"):
            data["has_protected_content"] = True
        if inline_markup is not None:
            data["reply_markup"] = inline_markup
        if other_markup is not None:
            if "keyboard" in other_markup:
                chat.reply_keyboard = other_markup
            elif other_markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        message = SentMessage(
            chat_id=chat_id,
            message_id=message_id,
            method=method,
            data=data,
            from_bot=True,
            sent_at=time.monotonic(),
            reply_keyboard=other_markup,
            raw_text=raw_text,
            parse_mode=self._str(params, "parse_mode"),
        )
        self._messages[chat_id][message_id] = message
        return message

    def _target_message(self, params: Mapping[str, Any], missing: str) -> SentMessage:
        if params.get("inline_message_id") not in (None, ""):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat_id = self._chat_id(params)
        message_id = self._int(
            params, "message_id", required="Bad Request: message identifier is not specified"
        )
        assert message_id is not None
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            raise ApiError(400, missing)
        return message

    @staticmethod
    def _apply_edit(message: SentMessage, changes: Mapping[str, Any], drop: Iterable[str]) -> None:
        message.history.append(json.loads(json.dumps(message.data)))
        for key in drop:
            message.data.pop(key, None)
        message.data.update(changes)
        # keep Telegram's key order: reply_markup last, edit_date before content
        markup = message.data.pop("reply_markup", None)
        message.data["edit_date"] = int(time.time())
        if markup is not None:
            message.data["reply_markup"] = markup
        message.version += 1

    # -------------------------------------------------------------------------- handlers

    def _handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "logOut": lambda p, f: True,
            "close": lambda p, f: True,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
            "setMyDescription": self._setting_setter("description", "description", 512),
            "getMyDescription": self._setting_getter("description", "description"),
            "setMyShortDescription": self._setting_setter(
                "short_description", "short_description", 120
            ),
            "getMyShortDescription": self._setting_getter("short_description", "short_description"),
            "setMyName": self._setting_setter("name", "name", 64),
            "getMyName": self._setting_getter("name", "name"),
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
        }

    def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = self._int(params, "offset")
        limit = self._int(params, "limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = max(0.0, self._float(params, "timeout") or 0.0)
        allowed = self._json(params, "allowed_updates", "Bad Request: can't parse allowed updates")
        self._set_allowed_updates(allowed)
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes (and so terminates) an older long poll
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_POLL)
            if self._webhook is not None:
                raise ApiError(409, CONFLICT_POLL)
            batch = [pending.data for pending in list(self._updates.values())[:limit]]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing.is_set():
                return batch
            await self._wait_change(remaining)

    def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> _Reply:
        url = self._str(params, "url") or ""
        if not url:
            return self._delete_webhook(params, files)
        if self.require_https and not url.startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if not re.match(r"https?://[^/\s:]+(:\d+)?(/\S*)?$", url):
            raise ApiError(
                400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
            )
        secret = self._str(params, "secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = self._int(params, "max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise ApiError(
                400, "Bad Request: bad webhook: max_connections must be between 1 and 100"
            )
        allowed = self._json(params, "allowed_updates", "Bad Request: can't parse allowed updates")
        self._set_allowed_updates(allowed)
        if self._bool(params, "drop_pending_updates"):
            self._drop_pending()
        previous = self._webhook
        same = (
            previous is not None
            and previous.url == url
            and previous.secret_token == secret
            and previous.max_connections == max_connections
        )
        self._cancel_webhook()
        self._webhook = _Webhook(
            url=url,
            secret_token=secret,
            max_connections=max_connections,
            allowed_updates=allowed if isinstance(allowed, list) else None,
            ip_address=self._str(params, "ip_address"),
        )
        self._webhook_task = asyncio.get_running_loop().create_task(
            self._webhook_loop(self._webhook)
        )
        self._notify()
        return _Reply(True, "Webhook is already set" if same else "Webhook was set")

    def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> _Reply:
        if self._bool(params, "drop_pending_updates"):
            self._drop_pending()
        had = self._webhook is not None
        self._cancel_webhook()
        self._webhook = None
        self._notify()
        return _Reply(True, "Webhook was deleted" if had else "Webhook is already deleted")

    def _drop_pending(self) -> None:
        self.dropped_updates.extend(p.data for p in self._updates.values())
        self._updates.clear()

    def _get_webhook_info(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if hook is not None:
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
            info["max_connections"] = hook.max_connections
            if self._allowed_updates:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _send_message(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        self._check_forbidden(chat_id)
        text = self._str(params, "text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        plain, entities = self._format(
            text, params.get("parse_mode"), params.get("entities"), "entities"
        )
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        inline, other = self._parse_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        self._check_flood("sendMessage", chat_id)
        content: dict[str, Any] = {"text": plain}
        if entities:
            content["entities"] = entities
        message = self._store_bot_message(
            chat_id, "sendMessage", content, inline, other, reply_to, params, text
        )
        return message.data

    async def _send_photo(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        self._check_forbidden(chat_id)
        photo = self._photo_param(params, files)
        caption = self._str(params, "caption") or ""
        plain, entities = self._format(
            caption, params.get("parse_mode"), params.get("caption_entities"), "caption entities"
        )
        if len(plain) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        inline, other = self._parse_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        self._check_flood("sendPhoto", chat_id)
        content: dict[str, Any] = {"photo": photo}
        if plain:
            content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        if self._bool(params, "has_spoiler"):
            content["has_media_spoiler"] = True
        if self._bool(params, "show_caption_above_media"):
            content["show_caption_above_media"] = True
        message = self._store_bot_message(
            chat_id, "sendPhoto", content, inline, other, reply_to, params, caption or None
        )
        return message.data

    def _photo_param(
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> list[dict[str, Any]]:
        upload = files.get("photo")
        value = params.get("photo")
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if upload is not None:
            if not upload.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if len(upload.data) > 10 * 1024 * 1024:
                raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
            dimensions = image_size(upload.data)
            if dimensions is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            return self._photo_sizes(dimensions[0], dimensions[1], upload.data)
        if value is None or value == "":
            raise ApiError(400, "Bad Request: there is no photo in the request")
        reference = str(value)
        if reference in self._photo_sets:  # resending by file_id reuses the stored sizes
            return [dict(size) for size in self._photo_sets[reference]]
        if re.match(r"https?://\S+$", reference):
            return self._photo_sizes(1280, 960, None)
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    async def _edit_message_text(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        message = self._target_message(params, "Bad Request: message to edit not found")
        self._check_forbidden(message.chat_id)
        text = self._str(params, "text")
        if not text:
            raise ApiError(400, "Bad Request: text must be non-empty")
        plain, entities = self._format(
            text, params.get("parse_mode"), params.get("entities"), "entities"
        )
        if not plain.strip():
            raise ApiError(400, "Bad Request: text must be non-empty")
        if len(plain) > MAX_TEXT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        if "text" not in message.data:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        inline, _ = self._parse_markup(params.get("reply_markup"), inline_only=True)
        if (
            plain == message.data.get("text")
            and entities == message.data.get("entities", [])
            and inline == message.reply_markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        changes: dict[str, Any] = {"text": plain}
        if entities:
            changes["entities"] = entities
        if inline is not None:
            changes["reply_markup"] = inline
        # Omitting reply_markup in an edit removes the inline keyboard, as on Telegram.
        self._apply_edit(message, changes, drop=("entities", "reply_markup"))
        message.raw_text = text
        message.parse_mode = self._str(params, "parse_mode")
        self._notify()
        return message.data

    async def _edit_message_caption(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        message = self._target_message(params, "Bad Request: message to edit not found")
        self._check_forbidden(message.chat_id)
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        if "photo" not in message.data:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._str(params, "caption") or ""
        plain, entities = self._format(
            caption, params.get("parse_mode"), params.get("caption_entities"), "caption entities"
        )
        if len(plain) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        inline, _ = self._parse_markup(params.get("reply_markup"), inline_only=True)
        if (
            plain == message.data.get("caption", "")
            and entities == message.data.get("caption_entities", [])
            and inline == message.reply_markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        changes: dict[str, Any] = {}
        if plain:
            changes["caption"] = plain
        if entities:
            changes["caption_entities"] = entities
        if inline is not None:
            changes["reply_markup"] = inline
        self._apply_edit(message, changes, drop=("caption", "caption_entities", "reply_markup"))
        self._notify()
        return message.data

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        message = self._target_message(params, "Bad Request: message to edit not found")
        self._check_forbidden(message.chat_id)
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        inline, _ = self._parse_markup(params.get("reply_markup"), inline_only=True)
        if inline == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        changes = {"reply_markup": inline} if inline is not None else {}
        self._apply_edit(message, changes, drop=("reply_markup",))
        self._notify()
        return message.data

    def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        message = self._target_message(params, "Bad Request: message to delete not found")
        message.deleted = True
        self._notify()
        return True

    def _answer_callback_query(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> bool:
        query_id = self._str(params, "callback_query_id") or ""
        record = self._callbacks.get(query_id)
        now = time.monotonic()
        if (
            record is None
            or record.answered_at is not None
            or (
                self.callback_query_ttl is not None
                and now - record.created_at > self.callback_query_ttl
            )
        ):
            raise ApiError(400, QUERY_TOO_OLD)
        text = self._str(params, "text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        answer: dict[str, Any] = {"show_alert": self._bool(params, "show_alert")}
        if text:
            answer["text"] = text
        for key in ("url", "cache_time"):
            if params.get(key) not in (None, ""):
                answer[key] = params[key]
        record.answered_at = now
        record.answer = answer
        self._notify()
        return True

    def _send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat_id = self._chat_id(params)
        action = self._str(params, "action") or ""
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._check_forbidden(chat_id)
        self.chat_actions.append((chat_id, action, time.monotonic()))
        return True

    def _scope_key(self, scope: Any) -> str:
        if scope is None or scope == "":
            return "default"
        if not isinstance(scope, Mapping):
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return str(kind)
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = self._chat_id(scope)
            if kind == "chat_member":
                user_id = self._int(scope, "user_id", required="Bad Request: user not found")
                return f"chat_member:{chat_id}:{user_id}"
            return f"{kind}:{chat_id}"
        raise ApiError(400, "Bad Request: wrong bot command scope type specified")

    def _scope_and_language(self, params: Mapping[str, Any]) -> tuple[str, str]:
        scope = self._json(params, "scope", "Bad Request: can't parse BotCommandScope JSON object")
        language = self._str(params, "language_code") or ""
        if language and not _LANGUAGE_RE.fullmatch(language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return self._scope_key(scope), language

    def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        commands = self._json(params, "commands", "Bad Request: can't parse commands JSON object")
        if commands is None:
            commands = []
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands specified")
        stored = []
        for entry in commands:
            if not isinstance(entry, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            command = entry.get("command")
            if not isinstance(command, str) or not _COMMAND_RE.fullmatch(command):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = entry.get("description")
            if not isinstance(description, str) or not description.strip():
                raise ApiError(400, "Bad Request: command description must be non-empty")
            if len(description) > 256:
                raise ApiError(400, "Bad Request: command description is too long")
            stored.append({"command": command, "description": description})
        key = self._scope_and_language(params)
        if stored:
            self._commands[key] = stored
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, str]]:
        return list(self._commands.get(self._scope_and_language(params), []))

    def _delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._scope_and_language(params), None)
        return True

    def _get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        file_id = self._str(params, "file_id") or ""
        record = self._files.get(file_id)
        if record is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
            "file_path": record.file_path,
        }

    def _setting_setter(self, key: str, param: str, limit: int) -> Handler:
        def handler(params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
            value = self._str(params, param) or ""
            if len(value) > limit:
                raise ApiError(400, f"Bad Request: {param} is too long")
            language = self._str(params, "language_code") or ""
            if language and not _LANGUAGE_RE.fullmatch(language):
                raise ApiError(400, "Bad Request: invalid language code specified")
            if value:
                self._bot_settings[(key, language)] = value
            else:
                self._bot_settings.pop((key, language), None)
            return True

        return handler

    def _setting_getter(self, key: str, field_name: str) -> Handler:
        def handler(params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, str]:
            language = self._str(params, "language_code") or ""
            value = self._bot_settings.get((key, language), self._bot_settings.get((key, ""), ""))
            if key == "name" and not value:
                value = self.bot_first_name
            return {field_name: value}

        return handler

    def _set_chat_menu_button(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = "default" if params.get("chat_id") in (None, "") else str(self._chat_id(params))
        button = self._json(params, "menu_button", "Bad Request: can't parse menu button")
        self._bot_settings[("menu_button", chat)] = button or {"type": "default"}
        return True

    def _get_chat_menu_button(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        chat = "default" if params.get("chat_id") in (None, "") else str(self._chat_id(params))
        return dict(
            self._bot_settings.get(
                ("menu_button", chat),
                self._bot_settings.get(("menu_button", "default"), {"type": "commands"}),
            )
        )

    # ------------------------------------------------------------------------------ webhook

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    def _cancel_webhook(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        for task in self._delivery_tasks.values():
            task.cancel()
        self._delivery_tasks.clear()

    async def _webhook_loop(self, hook: _Webhook) -> None:
        """Deliver pending updates: up to max_connections POSTs at once, one at a time per
        chat (so a chat's updates arrive in order), retrying failures with backoff."""
        try:
            while self._webhook is hook and not self._closing.is_set():
                now = time.monotonic()
                busy_chats = {
                    self._updates[uid].chat_id
                    for uid in self._delivery_tasks
                    if uid in self._updates
                }
                blocked_chats: set[int | None] = set()
                next_wake = 1.0
                for pending in list(self._updates.values()):
                    if len(self._delivery_tasks) >= hook.max_connections:
                        break
                    chat = pending.chat_id
                    if pending.update_id in self._delivery_tasks:
                        continue
                    if chat is not None and (chat in busy_chats or chat in blocked_chats):
                        continue
                    if pending.next_attempt > now:
                        next_wake = min(next_wake, pending.next_attempt - now)
                        if chat is not None:
                            blocked_chats.add(chat)
                        continue
                    if chat is not None:
                        busy_chats.add(chat)
                    task = asyncio.get_running_loop().create_task(self._deliver(hook, pending))
                    self._delivery_tasks[pending.update_id] = task
                await self._wait_change(max(next_wake, 0.01))
        except asyncio.CancelledError:
            pass

    async def _deliver(self, hook: _Webhook, pending: _PendingUpdate) -> None:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            if self._session is None:
                raise RuntimeError("fake Telegram is not running")
            async with self._session.post(
                hook.url,
                data=json.dumps(pending.data, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                status = response.status
                await response.read()
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except asyncio.CancelledError:
            self._delivery_tasks.pop(pending.update_id, None)
            raise
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except (aiohttp.ClientError, OSError, RuntimeError) as exc:
            error = f"Connection failed: {exc}"
        self.webhook_deliveries.append(
            WebhookDelivery(
                update_id=pending.update_id,
                url=hook.url,
                t=started,
                status=status,
                error=error,
                duration=time.monotonic() - started,
            )
        )
        self._delivery_tasks.pop(pending.update_id, None)
        if error is None:
            if self._updates.pop(pending.update_id, None) is not None:
                self.delivered_update_ids.add(pending.update_id)
        else:
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            pending.attempts += 1
            delay = self.webhook_retry_delay * (2 ** (pending.attempts - 1))
            pending.next_attempt = time.monotonic() + min(delay, self.webhook_retry_max)
        self._notify()

    # ------------------------------------------------------------------------------ summary

    def state(self) -> dict[str, Any]:
        """A JSON-friendly summary, for the control API and debugging."""
        return {
            "base_url": self.base_url if self.port else None,
            "bot": self.bot_user,
            "users": len(self.users),
            "blocked": sorted(self._forbidden),
            "pending_updates": len(self._updates),
            "last_update_id": self._update_seq,
            "webhook": self._webhook.url if self._webhook else None,
            "calls": len(self.calls),
            "messages_sent": sum(
                1 for chat in self._messages.values() for m in chat.values() if m.from_bot
            ),
            "violations": len(self.violations),
            "faults": self.faults,
            "limits": {
                "global_rate": self.global_rate,
                "per_chat_burst": self.per_chat_burst,
                "per_chat_rate": self.per_chat_rate,
                "rate_window": self.rate_window,
                "enforce": self.enforce_limits,
                "methods": sorted(self.rate_limited_methods),
            },
        }
