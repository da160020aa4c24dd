"""Wire shapes of the fake Zalo Official Account (`tests/fakes/zalo_oa_api.py`).

* The customer-service message forms the fake accepts (`parse_message`: text, up to five
  buttons, `request_user_info`, image) and the records it keeps of them (`OaSentMessage`,
  `OaButton`); an invalid form is `OaApiError(-201)`.
* The OA v3 webhook events it sends (`EventFactory`; `timestamp` is a string of epoch ms) and
  their signature (`signature`: `mac=` + SHA-256 hex of app_id + raw body + timestamp + the
  OA secret key), serialised compactly and kept as raw bytes so a redelivery is byte-identical.
* `WebhookPoster`, which POSTs signed events to the product and records every delivery, and
  `OaUserSide`, the fake server's half that plays the users (follow, type, tap, submit_info…)
  and echoes what the OA sends them.

Written from Zalo's wire facts (domain.md §8), not from the product's adapter, so that it
catches the adapter's mistakes instead of sharing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiohttp

SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_TITLE = 100
MAX_QUERY_PAYLOAD = 1000
QUERY_TYPES = ("oa.query.hide", "oa.query.show")
OPEN_URL = "oa.open.url"
FORGED_MAC = "mac=" + "0" * 64

RATE_LIMITED = -32
INVALID_PARAMS = -201
OVER_LIMIT = -210
NOT_FOLLOWING = -213
INVALID_TOKEN = -216
EXPIRED_TOKEN = -220
WINDOW_CLOSED = -230
OAUTH_INVALID_PARAM = -14001
OAUTH_INVALID_APP = -14002
OAUTH_INVALID_REFRESH = -14014

ERROR_MESSAGES = {
    RATE_LIMITED: "Exceeded rate limit",
    INVALID_PARAMS: "Parameters are invalid",
    OVER_LIMIT: "Parameter exceeds the limit",
    NOT_FOLLOWING: "User has not followed the OA",
    INVALID_TOKEN: "Access token is invalid",
    EXPIRED_TOKEN: "Access token has expired",
    WINDOW_CLOSED: "User has not interacted with the OA in the past 7 days",
    OAUTH_INVALID_PARAM: "Invalid parameter",
    OAUTH_INVALID_APP: "Invalid app id or secret key",
    OAUTH_INVALID_REFRESH: "Invalid refresh token",
}

TEXT_EVENT = "user_send_text"
FOLLOW_EVENT = "follow"
UNFOLLOW_EVENT = "unfollow"
SUBMIT_INFO_EVENT = "user_submit_info"
ECHO_TEXT_EVENT = "oa_send_text"
ECHO_IMAGE_EVENT = "oa_send_image"
RECEIVED_EVENT = "user_received_message"
SEEN_EVENT = "user_seen_message"


class OaApiError(Exception):
    """An error answer: HTTP 200 with a negative `error` code in the body. `detail` says what
    was wrong for the test's benefit; the wire carries only Zalo's own message."""

    def __init__(
        self, code: int, detail: str | None = None, *, message: str | None = None, oauth: bool
    ) -> None:
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, f"Error {code}")
        self.detail = detail
        self.oauth = oauth
        super().__init__(f"{code} {self.message}" + (f" ({detail})" if detail else ""))

    def payload(self) -> dict[str, Any]:
        if self.oauth:
            return {
                "error": self.code,
                "error_name": self.message,
                "error_description": self.detail or self.message,
            }
        return {"error": self.code, "message": self.message}


def invalid(detail: str) -> OaApiError:
    return OaApiError(INVALID_PARAMS, detail, oauth=False)


# ------------------------------------------------------------------------ CS message forms


class OaButton(NamedTuple):
    """One button of a CS message: `(title, type, payload)`."""

    title: str
    type: str
    payload: Any


@dataclass
class ParsedMessage:
    """A CS message form that passed validation."""

    kind: str  # "text" | "buttons" | "request_user_info" | "image"
    text: str | None = None
    buttons: list[OaButton] = field(default_factory=list)
    element: dict[str, Any] | None = None  # the request_user_info element
    attachment_id: str | None = None
    image_url: str | None = None


@dataclass
class OaSentMessage:
    """A CS message the fake accepted, as the user's chat shows it."""

    user_id: str
    message_id: str
    kind: str
    at: int  # the fake clock, epoch ms
    billable: bool  # sent 48 h to 7 days after the user's last interaction
    text: str | None = None
    buttons: list[OaButton] = field(default_factory=list)
    element: dict[str, Any] | None = None
    attachment_id: str | None = None
    image_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def contains(self, needle: str) -> bool:
        """Whether the text, a button title or the request_user_info title has `needle`."""
        shown = [self.text or "", *(b.title for b in self.buttons)]
        if self.element:
            shown += [str(self.element.get("title", "")), str(self.element.get("subtitle", ""))]
        return any(needle in piece for piece in shown)

    def button(self, title: str) -> OaButton:
        """The button titled `title` exactly, else the only one whose title contains it."""
        exact = [b for b in self.buttons if b.title == title]
        found = exact or [b for b in self.buttons if title in b.title]
        if len(found) != 1:
            titles = [b.title for b in self.buttons]
            raise LookupError(f"{len(found)} buttons match {title!r} among {titles}")
        return found[0]


def _text(value: Any, *, required: bool, name: str = "text") -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT:
        raise invalid(f"{name} must be a string of 1 to {MAX_TEXT} characters")
    return value


def _url(value: Any, *, require_https: bool, name: str) -> str:
    schemes = ("https://",) if require_https else ("https://", "http://")
    if not isinstance(value, str) or not value.startswith(schemes) or len(value) <= 8:
        raise invalid(f"{name} must be an {'HTTPS' if require_https else 'HTTP(S)'} URL")
    return value


def _buttons(value: Any, *, require_https: bool) -> list[OaButton]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_BUTTONS:
        raise invalid(f"buttons must be a list of 1 to {MAX_BUTTONS}")
    buttons: list[OaButton] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid(f"buttons[{i}] must be an object")
        title, kind, payload = item.get("title"), item.get("type"), item.get("payload")
        if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
            raise invalid(f"buttons[{i}].title must be 1 to {MAX_TITLE} characters")
        if kind in QUERY_TYPES:
            if not isinstance(payload, str) or not 1 <= len(payload) <= MAX_QUERY_PAYLOAD:
                raise invalid(f"buttons[{i}].payload must be 1 to {MAX_QUERY_PAYLOAD} characters")
        elif kind == OPEN_URL:
            if not isinstance(payload, dict):
                raise invalid(f"buttons[{i}].payload must be {{'url': ...}}")
            _url(payload.get("url"), require_https=require_https, name=f"buttons[{i}].payload.url")
        else:
            raise invalid(f"buttons[{i}].type {kind!r} is not supported")
        buttons.append(OaButton(title, str(kind), payload))
    return buttons


def _single_element(payload: Mapping[str, Any]) -> dict[str, Any]:
    elements = payload.get("elements")
    if not isinstance(elements, list) or len(elements) != 1 or not isinstance(elements[0], dict):
        raise invalid("elements must hold exactly one object")
    element: dict[str, Any] = elements[0]
    return element


def parse_message(
    message: Any, *, uploads: Mapping[str, bytes], require_https: bool
) -> ParsedMessage:
    """Validate a CS `message` object; raises `OaApiError(-201)` on any violation."""
    if not isinstance(message, dict):
        raise invalid("message must be an object")
    attachment = message.get("attachment")
    if attachment is None:
        return ParsedMessage("text", _text(message.get("text"), required=True))
    if not isinstance(attachment, dict) or attachment.get("type") != "template":
        raise invalid("attachment.type must be 'template'")
    payload = attachment.get("payload")
    if not isinstance(payload, dict):
        raise invalid("attachment.payload must be an object")
    template = payload.get("template_type")
    if template is None and "buttons" in payload:
        text = _text(message.get("text"), required=True)
        return ParsedMessage(
            "buttons", text, _buttons(payload["buttons"], require_https=require_https)
        )
    if template == "request_user_info":
        if "text" in message:
            raise invalid("request_user_info carries no text (it would not be shown)")
        element = _single_element(payload)
        for name in ("title", "subtitle"):
            value = element.get(name)
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT:
                raise invalid(f"elements[0].{name} is required")
        _url(element.get("image_url"), require_https=require_https, name="elements[0].image_url")
        return ParsedMessage("request_user_info", element=dict(element))
    if template == "media":
        caption = _text(message.get("text"), required=False, name="caption")
        element = _single_element(payload)
        if element.get("media_type") != "image":
            raise invalid("elements[0].media_type must be 'image'")
        attachment_id, url = element.get("attachment_id"), element.get("url")
        if attachment_id is not None:
            if not isinstance(attachment_id, str) or attachment_id not in uploads:
                raise invalid("elements[0].attachment_id is unknown")
            return ParsedMessage("image", caption, attachment_id=attachment_id)
        image_url = _url(url, require_https=require_https, name="elements[0].url")
        return ParsedMessage("image", caption, image_url=image_url)
    raise invalid(f"template_type {template!r} is not supported")


# -------------------------------------------------------------------------------- events


def compact(body: Mapping[str, Any]) -> bytes:
    """The body as Zalo sends it: compact JSON, UTF-8, non-ASCII left as is."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(app_id: str, raw: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The `X-ZEvent-Signature` value of an event body."""
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode())
    return f"mac={digest.hexdigest()}"


@dataclass
class OaEvent:
    """One webhook event: its body and the exact bytes that are (re)sent."""

    body: dict[str, Any]
    raw: bytes
    mac: str | None = None  # the signature it was sent with

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> OaEvent:
        return cls(dict(body), compact(body))

    @property
    def name(self) -> str | None:
        name = self.body.get("event_name")
        return name if isinstance(name, str) else None

    @property
    def timestamp(self) -> str:
        return str(self.body.get("timestamp", ""))

    @property
    def msg_id(self) -> str | None:
        message = self.body.get("message")
        found = message.get("msg_id") if isinstance(message, dict) else None
        return found if isinstance(found, str) else None


class EventFactory:
    """Builds OA v3 webhook bodies for one app and OA."""

    def __init__(self, *, app_id: str, oa_id: str) -> None:
        self.app_id = app_id
        self.oa_id = oa_id

    def by_app(self, user_id: str) -> str:
        """The user's `user_id_by_app` (stable, numeric, different from the OA-scoped id)."""
        digest = hashlib.sha256(f"{self.app_id}:{user_id}".encode()).hexdigest()
        return str(int(digest[:15], 16))

    def _chat(
        self, name: str, user_id: str, ts: int, *, from_user: bool, **fields: Any
    ) -> dict[str, Any]:
        sender, recipient = (user_id, self.oa_id) if from_user else (self.oa_id, user_id)
        return {
            "app_id": self.app_id,
            "user_id_by_app": self.by_app(user_id),
            "event_name": name,
            "timestamp": str(ts),
            "sender": {"id": sender},
            "recipient": {"id": recipient},
            **fields,
        }

    def user_text(self, user_id: str, text: str, msg_id: str, ts: int) -> dict[str, Any]:
        message = {"text": text, "msg_id": msg_id}
        return self._chat(TEXT_EVENT, user_id, ts, from_user=True, message=message)

    def user_attachment(
        self,
        name: str,
        user_id: str,
        attachment: dict[str, Any],
        msg_id: str,
        ts: int,
        *,
        text: str | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"msg_id": msg_id}
        if text is not None:
            message["text"] = text
        message["attachments"] = [attachment]
        return self._chat(name, user_id, ts, from_user=True, message=message)

    def follow(self, user_id: str, ts: int, *, follow: bool) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "oa_id": self.oa_id,
            "user_id_by_app": self.by_app(user_id),
            "event_name": FOLLOW_EVENT if follow else UNFOLLOW_EVENT,
            "timestamp": str(ts),
            "source": "oa_profile",
            "follower": {"id": user_id},
        }

    def submit_info(self, user_id: str, info: dict[str, str], ts: int) -> dict[str, Any]:
        return self._chat(SUBMIT_INFO_EVENT, user_id, ts, from_user=True, info=info)

    def oa_echo(self, name: str, user_id: str, message: dict[str, Any], ts: int) -> dict[str, Any]:
        return self._chat(name, user_id, ts, from_user=False, message=message)

    def received(self, user_id: str, msg_id: str, ts: int) -> dict[str, Any]:
        message = {"msg_id": msg_id}
        return self._chat(RECEIVED_EVENT, user_id, ts, from_user=False, message=message)

    def seen(self, user_id: str, msg_ids: list[str], ts: int) -> dict[str, Any]:
        message = {"msg_ids": msg_ids}
        return self._chat(SEEN_EVENT, user_id, ts, from_user=False, message=message)


# ------------------------------------------------------------------------------ delivery


class WebhookAnswer(tuple[int, str]):
    """The product's answer to one POST: unpacks as `(status, body)`; `.event` is what was
    sent. Status 0 means no answer (no webhook set, connection refused, or timeout: `body`
    says which)."""

    event: OaEvent

    def __new__(cls, status: int, body: str, event: OaEvent) -> WebhookAnswer:
        answer = super().__new__(cls, (status, body))
        answer.event = event
        return answer

    @property
    def status(self) -> int:
        return self[0]

    @property
    def body(self) -> str:
        return self[1]


@dataclass
class OaDelivery:
    """One POST of an event to the product's webhook."""

    event_name: str | None
    msg_id: str | None
    url: str
    status: int  # 0: no answer
    body: str
    elapsed: float  # seconds until the answer
    forged: bool = False
    error: str | None = None


class WebhookPoster:
    """POSTs events to the product; background posts (echoes, receipts) run in order."""

    def __init__(self, *, timeout: float, on_change: Callable[[], None]) -> None:
        self.timeout = timeout
        self.deliveries: list[OaDelivery] = []
        self._on_change = on_change
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(
        self, url: str, event: OaEvent, mac: str | None, *, forged: bool = False
    ) -> WebhookAnswer:
        """POST `event.raw` with `mac` as the signature header (none when `mac` is None)."""
        headers = {"Content-Type": "application/json"}
        if mac is not None:
            headers[SIGNATURE_HEADER] = mac
        started = time.monotonic()
        status, body, error = 0, "", None
        try:
            if self._session is None:
                raise RuntimeError("the fake Zalo OA is not running")
            async with self._session.post(
                url,
                data=event.raw,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                status, body = response.status, await response.text()
        except TimeoutError:
            error = body = "timeout"
        except (aiohttp.ClientError, OSError, RuntimeError) as exc:
            error = body = f"connection failed: {exc}"
        elapsed = time.monotonic() - started
        self.deliveries.append(
            OaDelivery(event.name, event.msg_id, url, status, body, elapsed, forged, error)
        )
        self._on_change()
        return WebhookAnswer(status, body, event)

    def post_later(self, url: str, items: list[tuple[OaEvent, str]]) -> None:
        """POST `items` one after another in the background (see `drain`)."""

        async def run() -> None:
            for event, mac in items:
                await self.post(url, event, mac)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every background post has been answered."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


# ---------------------------------------------------------------------------- the users


@dataclass
class OaUser:
    """A simulated Zalo user as the OA knows them."""

    user_id: str
    followed: bool = True
    last_interaction: int | None = None  # fake-clock ms
    info_requested: bool = False  # the OA sent them a request_user_info form


def new_id() -> str:
    """A Zalo-like message id (32 hex digits)."""
    return secrets.token_hex(16)


def _zalo_phone(phone: str) -> str:
    """A phone as Zalo reports it: digits, `84…` instead of a leading 0 or +84."""
    digits = "".join(c for c in phone if c.isdigit())
    return "84" + digits[1:] if digits.startswith("0") else digits


class OaUserSide:
    """What the simulated users do, and the echoes and receipts of what the OA sends them:
    each becomes a signed event POSTed to `webhook_url` (the fake server mixes this in)."""

    app_id: str
    oa_secret_key: str
    webhook_url: str | None
    echo: bool
    receipts: bool
    factory: EventFactory
    users: dict[str, OaUser]
    events: list[OaEvent]
    _poster: WebhookPoster

    def now_ms(self) -> int:
        raise NotImplementedError

    def add_user(self, user_id: str, followed: bool = True, *, interacted: bool = True) -> OaUser:
        raise NotImplementedError

    def messages_to(self, user_id: str) -> list[OaSentMessage]:
        raise NotImplementedError

    def _notify(self) -> None:
        raise NotImplementedError

    def _interact(self, user_id: str) -> OaUser:
        user = self.users.get(user_id) or self.add_user(user_id)
        user.last_interaction = self.now_ms()
        return user

    def _sign(self, event: OaEvent) -> str:
        return signature(self.app_id, event.raw, event.timestamp, self.oa_secret_key)

    def _echo(self, record: OaSentMessage) -> None:
        if self.webhook_url is None:
            return
        now, bodies = self.now_ms(), []
        message: dict[str, Any]
        if self.echo and record.kind in ("text", "buttons"):
            message = {"text": record.text, "msg_id": record.message_id}
            bodies.append(self.factory.oa_echo(ECHO_TEXT_EVENT, record.user_id, message, now))
        elif self.echo and record.kind == "image":
            attachment = {"type": "image", "payload": {"url": self._image_url(record)}}
            message = {"msg_id": record.message_id, "attachments": [attachment]}
            bodies.append(self.factory.oa_echo(ECHO_IMAGE_EVENT, record.user_id, message, now))
        if self.receipts:
            bodies.append(self.factory.received(record.user_id, record.message_id, now))
        events = [OaEvent.of(body) for body in bodies]
        for event in events:
            event.mac = self._sign(event)
        self.events.extend(events)
        self._poster.post_later(self.webhook_url, [(e, e.mac or "") for e in events])

    def _image_url(self, record: OaSentMessage) -> str:
        return record.image_url or f"https://photo.zdn.vn/fake/{record.attachment_id}.jpg"

    async def _emit(self, body: Mapping[str, Any]) -> WebhookAnswer:
        event = OaEvent.of(body)
        event.mac = self._sign(event)
        self.events.append(event)
        self._notify()
        return await self._post(event, event.mac)

    async def _post(
        self, event: OaEvent, mac: str | None, *, forged: bool = False
    ) -> WebhookAnswer:
        if self.webhook_url is None:
            return WebhookAnswer(0, "no webhook set", event)
        return await self._poster.post(self.webhook_url, event, mac, forged=forged)

    # --------------------------------------------------------------------- the users' side

    async def follow(self, user_id: str) -> WebhookAnswer:
        self._interact(user_id).followed = True
        return await self._emit(self.factory.follow(user_id, self.now_ms(), follow=True))

    async def unfollow(self, user_id: str) -> WebhookAnswer:
        self.users.setdefault(user_id, OaUser(user_id)).followed = False
        return await self._emit(self.factory.follow(user_id, self.now_ms(), follow=False))

    def text_event(self, user_id: str, text: str) -> OaEvent:
        """A `user_send_text` event, built but neither sent nor recorded (for `send_forged`)."""
        return OaEvent.of(self.factory.user_text(user_id, text, new_id(), self.now_ms()))

    async def send_text(self, user_id: str, text: str) -> WebhookAnswer:
        """The user types `text` (a user unknown so far becomes a follower)."""
        self._interact(user_id)
        return await self._emit(self.factory.user_text(user_id, text, new_id(), self.now_ms()))

    async def tap(self, user_id: str, message: OaSentMessage, title: str) -> WebhookAnswer:
        """The user taps the button titled `title` (exactly, else the only one containing it)
        of `message`: a `user_send_text` carrying the button's payload, as on Zalo."""
        if message.user_id != user_id:
            raise ValueError(f"that message went to {message.user_id}, not {user_id}")
        button = message.button(title)
        if button.type == OPEN_URL:
            raise ValueError(f"{title!r} opens {button.payload['url']}; nothing reaches the OA")
        return await self.send_text(user_id, str(button.payload))

    async def _attachment(
        self, name: str, user_id: str, attachment: dict[str, Any], text: str | None = None
    ) -> WebhookAnswer:
        self._interact(user_id)
        body = self.factory.user_attachment(
            name, user_id, attachment, new_id(), self.now_ms(), text=text
        )
        return await self._emit(body)

    async def send_sticker(
        self, user_id: str, sticker_id: str = "bfe458bf64fa8da4d4eb"
    ) -> WebhookAnswer:
        url = f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker_id}"
        payload = {"id": sticker_id, "url": url}
        return await self._attachment(
            "user_send_sticker", user_id, {"type": "sticker", "payload": payload}
        )

    async def send_image(self, user_id: str, caption: str | None = None) -> WebhookAnswer:
        url = f"https://photo.zdn.vn/fake/{new_id()}.jpg"
        attachment = {"type": "image", "payload": {"thumbnail": url, "url": url}}
        return await self._attachment("user_send_image", user_id, attachment, caption)

    async def send_file(self, user_id: str, name: str = "giay-hen.pdf") -> WebhookAnswer:
        payload = {
            "url": f"https://f.zdn.vn/fake/{new_id()}/{name}",
            "size": "24576",
            "name": name,
            "checksum": new_id(),
            "type": name.rsplit(".", 1)[-1],
        }
        return await self._attachment(
            "user_send_file", user_id, {"type": "file", "payload": payload}
        )

    async def send_location(
        self, user_id: str, latitude: float = 16.4637, longitude: float = 107.5909
    ) -> WebhookAnswer:
        coordinates = {"latitude": str(latitude), "longitude": str(longitude)}
        attachment = {"type": "location", "payload": {"coordinates": coordinates}}
        return await self._attachment("user_send_location", user_id, attachment)

    async def submit_info(
        self, user_id: str, phone: str, *, name: str = "Nguyễn Văn A", new_format: bool = False
    ) -> WebhookAnswer:
        """The user fills in the OA's request_user_info form (raises unless the OA sent one)."""
        user = self.users.get(user_id)
        if user is None or not user.info_requested:
            raise RuntimeError(f"the OA never sent {user_id} a request_user_info form")
        info: dict[str, str] = {"name": name, "phone": _zalo_phone(phone)}
        if new_format:
            info["full_address"] = "12 Lê Lợi, Phường Phú Hội, Thành phố Huế"
        else:
            info |= {
                "address": "12 Lê Lợi",
                "city": "Thừa Thiên Huế",
                "district": "Thành phố Huế",
                "ward": "Phường Phú Hội",
            }
        self._interact(user_id)
        return await self._emit(self.factory.submit_info(user_id, info, self.now_ms()))

    async def seen(
        self, user_id: str, messages: list[OaSentMessage] | None = None
    ) -> WebhookAnswer:
        """A `user_seen_message` for `messages` (default: every message to the user)."""
        ids = [
            m.message_id for m in (messages if messages is not None else self.messages_to(user_id))
        ]
        return await self._emit(self.factory.seen(user_id, ids, self.now_ms()))

    async def redeliver(self, event: OaEvent) -> WebhookAnswer:
        """POST the very same bytes and signature again, as Zalo may."""
        return await self._post(event, event.mac if event.mac is not None else self._sign(event))

    async def send_forged(
        self, event: OaEvent | Mapping[str, Any], *, mac: str | None = FORGED_MAC
    ) -> WebhookAnswer:
        """POST `event` with a wrong signature (`mac=None`: no signature header at all)."""
        found = event if isinstance(event, OaEvent) else OaEvent.of(event)
        return await self._post(found, mac, forged=True)

    async def send_raw_event(
        self, body: Mapping[str, Any] | bytes, *, sign: bool = True, timestamp: str | None = None
    ) -> WebhookAnswer:
        """POST any body (a dict is serialised compactly), signed with `timestamp` (default:
        the body's own `timestamp`, else "") unless `sign=False`."""
        if isinstance(body, bytes):
            parsed: Any = None
            with contextlib.suppress(ValueError):
                parsed = json.loads(body)
            event = OaEvent(parsed if isinstance(parsed, dict) else {}, body)
        else:
            event = OaEvent.of(body)
        stamp = event.timestamp if timestamp is None else timestamp
        if sign:
            event.mac = signature(self.app_id, event.raw, stamp, self.oa_secret_key)
        self.events.append(event)
        return await self._post(event, event.mac)
