"""Zalo OA webhook events read without I/O: what an event is, what of it may be stored, and
the neutral inbound event it stands for.

- `read_event`: the kind, the dedupe key (the kind and `message.msg_id`; for a ZNS rating
  `msg_id` and `submit_time`; else a SHA-256 of the body), whose event it is (`sender.id` for
  the user's own events, `follower.id` for follow/unfollow, `recipient.id` for echoes and
  receipts), its time, whether it is an interaction (it reopens the reply window) and whether
  it is acted on as user input (echoes of what the OA sent, receipts and unknown kinds are only
  recorded).
- `safe_body`: the event as it may be kept: the fields the product reads and nothing more; the
  phone of `user_submit_info` sealed, the name and address dropped, a phone that stands in for
  a user id (a ZNS delivery receipt's `recipient.id`) dropped.
- `to_inbound`: a stored body as a neutral event: a tap (`TAP_PREFIX` + action) is a `Press`,
  `/start x` a `Start`, `/name args` a `Command`, a bare role-invitation code a `Start`, other
  text a `Text`; stickers, images and the like `Media`; follow `Start`, unfollow
  `Unsubscribed`; a shared phone `SharedPhone`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.channels.inbound import (
    ChatRef,
    Command,
    Inbound,
    Media,
    Press,
    SharedPhone,
    Start,
    Text,
    Unsubscribed,
)
from bot.heads.invites import is_invite_payload
from bot.sealing import Sealer
from bot.survey.linking import START_PAYLOAD
from bot.zalo_oa import CHANNEL, TAP_PREFIX

PHONE_PURPOSE = "zalo-oa-phone"  # the `Sealer` purpose of a phone kept in a stored body
SEALED_PHONE = "phone_sealed"  # where the sealed phone sits in the stored `info`

TEXT = "user_send_text"
FOLLOW = "follow"
UNFOLLOW = "unfollow"
SUBMIT_INFO = "user_submit_info"
RECEIVED = "user_received_message"
SEEN = "user_seen_message"
FEEDBACK = "user_feedback"  # a ZNS service rating
USER_SENDS = "user_send_"  # user_send_text, _image, _sticker, _gif, _file, _location, …
OA_SENDS = "oa_send_"  # echoes of what the OA itself sent
RECEIPTS = frozenset({RECEIVED, SEEN})
KNOWN = frozenset({FOLLOW, UNFOLLOW, SUBMIT_INFO, RECEIVED, SEEN, FEEDBACK})

# What of an event's envelope and `message` is kept: the fields the product reads.
_ENVELOPE = ("event_name", "timestamp", "app_id", "oa_id", "user_id_by_app", "source")
_PARTIES = ("sender", "recipient", "follower")
_MESSAGE = ("msg_id", "msg_ids", "tracking_id", "rate", "note", "feedbacks", "submit_time")
# A Vietnamese phone number standing where a user id would (ZNS receipts are sent by phone).
_PHONE_ID = re.compile(r"\+?84\d{9}|0\d{9}")
_MAX_KEY = 128


class EventError(ValueError):
    """Not a Zalo OA event: no `event_name`, or no usable `timestamp`."""


@dataclass(frozen=True, slots=True)
class OAEvent:
    """What one webhook event is, before anything acts on it."""

    kind: str
    dedupe_key: str
    user: str  # the Zalo user id the event belongs to ("" when it names none)
    at: datetime  # the event's own time, naive UTC
    interaction: bool  # the user wrote, tapped, followed or shared: the reply window reopens
    acted: bool  # acted on as the user's input (else only recorded)
    followed: bool | None = None  # True for a follow, False for an unfollow
    known: bool = True  # a kind this module knows


def event_time(body: Mapping[str, Any]) -> datetime:
    """The event's `timestamp` (epoch milliseconds, a string or a number) as naive UTC."""
    stamp = body.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, str | int):
        raise EventError("the event has no timestamp")
    try:
        millis = int(stamp)
        return datetime.fromtimestamp(millis / 1000, UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError) as exc:
        raise EventError("the event's timestamp is not epoch milliseconds") from exc


def _party(body: Mapping[str, Any], role: str) -> str:
    """`body[role]["id"]` as a string, or ""."""
    found = body.get(role)
    value = found.get("id") if isinstance(found, Mapping) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _message(body: Mapping[str, Any]) -> Mapping[str, Any]:
    found = body.get("message")
    return found if isinstance(found, Mapping) else {}


def _is_phone(value: str) -> bool:
    return bool(_PHONE_ID.fullmatch(value))


def _is_echo(kind: str, body: Mapping[str, Any], oa_id: str) -> bool:
    """What the OA itself sent (its echo), whatever the kind says."""
    return kind.startswith(OA_SENDS) or bool(oa_id and _party(body, "sender") == oa_id)


def _user(kind: str, body: Mapping[str, Any], *, echo: bool) -> str:
    if kind in (FOLLOW, UNFOLLOW):
        found = _party(body, "follower")
    elif echo or kind in RECEIPTS:
        found = _party(body, "recipient")
    else:
        found = _party(body, "sender")
    if found and not _is_phone(found):
        return found
    # A ZNS event names the citizen by phone or not at all: its invitation stands in.
    tracking = _message(body).get("tracking_id")
    return f"zns:{tracking}"[:64] if isinstance(tracking, str) and tracking else ""


def _digest(body: Mapping[str, Any], raw: bytes | None) -> str:
    if raw is None:
        raw = json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def dedupe_key(kind: str, body: Mapping[str, Any], raw: bytes | None = None) -> str:
    """The key a redelivery of this event has too."""
    message = _message(body)
    msg_id = message.get("msg_id")
    if isinstance(msg_id, str | int) and not isinstance(msg_id, bool) and str(msg_id):
        key = f"{kind}:{msg_id}"
        if kind == FEEDBACK:
            # One ZNS message may be rated more than once: each rating is its own event.
            key += f":{message.get('submit_time', '')}"
        if len(key) <= _MAX_KEY:
            return key
        return f"{kind[:40]}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"
    return f"sha256:{_digest(body, raw)}"


def read_event(body: Mapping[str, Any], raw: bytes | None = None, *, oa_id: str = "") -> OAEvent:
    """What the event is (`raw`: the body as received, for the dedupe key of an event without
    a message id; the stored body gives the same answer but that key)."""
    kind = body.get("event_name")
    if not isinstance(kind, str) or not kind.strip():
        raise EventError("the event has no event_name")
    at = event_time(body)
    echo = _is_echo(kind, body, oa_id)
    user = _user(kind, body, echo=echo)
    user_sends = kind.startswith(USER_SENDS) and not echo
    interaction = user_sends or (not echo and kind in (FOLLOW, SUBMIT_INFO))
    acted = bool(user) and (interaction or kind == UNFOLLOW)
    return OAEvent(
        kind=kind,
        dedupe_key=dedupe_key(kind, body, raw),
        user=user,
        at=at,
        interaction=interaction,
        acted=acted,
        followed={FOLLOW: True, UNFOLLOW: False}.get(kind),
        known=kind in KNOWN or kind.startswith((USER_SENDS, OA_SENDS)),
    )


def safe_body(body: Mapping[str, Any], sealer: Sealer) -> dict[str, Any]:
    """The event as it may be stored: the fields the product reads, the shared phone sealed,
    nothing else personal (names, addresses, attachments, phones standing in for ids)."""
    kept: dict[str, Any] = {key: body[key] for key in _ENVELOPE if key in body}
    for role in _PARTIES:
        found = _party(body, role)
        if found and not _is_phone(found):
            kept[role] = {"id": found}
    message = _message(body)
    if message:
        safe = {key: message[key] for key in _MESSAGE if key in message}
        text = message.get("text")
        if body.get("event_name") == TEXT and isinstance(text, str):
            safe["text"] = text
        attachments = message.get("attachments")
        if isinstance(attachments, list):
            safe["attachment_types"] = [
                str(item.get("type", ""))[:32] for item in attachments if isinstance(item, Mapping)
            ]
        kept["message"] = safe
    info = body.get("info")
    if isinstance(info, Mapping):
        phone = info.get("phone")
        kept["info"] = (
            {SEALED_PHONE: sealer.seal(str(phone))}
            if isinstance(phone, str | int) and not isinstance(phone, bool) and str(phone)
            else {}
        )
    return kept


def chat_of(user: str) -> ChatRef:
    """The Zalo user as the router knows them."""
    return ChatRef(channel=CHANNEL, external_id=user, language="vi", private=True)


def text_event(chat: ChatRef, text: str) -> Inbound:
    """Typed text (or a tap) as the event it stands for."""
    if text.startswith(TAP_PREFIX):
        return Press(chat, text[len(TAP_PREFIX) :].strip())
    stripped = text.strip()
    if stripped.startswith("/"):
        head, *args = stripped.split()
        name = head[1:].split("@", 1)[0].lower()
        if name == "start":
            return Start(chat, args[0] if args else None)
        return Command(chat, name, tuple(args))
    if START_PAYLOAD.fullmatch(stripped) and is_invite_payload(stripped):
        # No deep links on Zalo: a role invitation's code is typed (or pasted) as it is.
        return Start(chat, stripped)
    return Text(chat, text)


def to_inbound(body: Mapping[str, Any], *, sealer: Sealer, oa_id: str = "") -> Inbound | None:
    """A stored body as the neutral event it stands for; None when it is only recorded.
    Raises `SealError` when a sealed phone cannot be opened."""
    event = read_event(body, oa_id=oa_id)
    if not event.acted:
        return None
    chat = chat_of(event.user)
    if event.kind == FOLLOW:
        return Start(chat)
    if event.kind == UNFOLLOW:
        return Unsubscribed(chat)
    if event.kind == SUBMIT_INFO:
        info = body.get("info")
        sealed = info.get(SEALED_PHONE) if isinstance(info, Mapping) else None
        if not isinstance(sealed, str):
            return None
        return SharedPhone(chat, sealer.open(sealed), own=True)
    if event.kind == TEXT:
        text = _message(body).get("text")
        return text_event(chat, text if isinstance(text, str) else "")
    return Media(chat)
