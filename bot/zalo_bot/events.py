"""Reading a Zalo Bot Platform update into a neutral inbound event (pure: no I/O).

An update is `{event_name, message}`, delivered wrapped (`{"ok": true, "result": update}`, as
documented) or flat (as seen); both are read the same. `read_update` gives what the inbox
needs to store it once — the dedupe key (the message id, else a SHA-256 of the update), the
kind (the event name) and the sender — and the neutral event it stands for:

- "/start x" → `Start(chat, "x")`; "/name args" → `Command(chat, name, args)` (everyone's
  commands start/help/stop/language/status and the modules' alike, as the router expects);
- a bare role-invite code (the platform has no deep links, so an invitee types it) →
  `Start(chat, code)`;
- any other text → `Text` (typed numbers, labels and link codes are the router's to read);
- a sticker, an image or any other message → `Media`;
- the bot's own messages, and updates naming no chat, → no event (stored, never acted on).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.inbound import ChatRef, Command, Inbound, Media, Start, Text
from bot.heads.invites import is_invite_payload
from bot.zalo_bot import CHANNEL

# "/name" or "/name@bot" followed by arguments; "/hài lòng" or "/ 4" is just text.
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@\S*)?(?:\s+(.*))?", re.DOTALL)
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what a start payload may be
PRIVATE = "PRIVATE"


@dataclass(frozen=True, slots=True)
class ZaloBotUpdate:
    """One update as the inbox stores it and the router hears it."""

    dedupe_key: str
    kind: str
    user: str
    body: dict[str, Any]  # the update itself, unwrapped
    event: Inbound | None


def unwrap(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The update inside a wrapped or flat body; None when the body is no update."""
    inner = body.get("result")
    if isinstance(inner, dict) and "event_name" not in body:
        body = inner
    if not isinstance(body.get("event_name"), str) or not isinstance(body.get("message"), dict):
        return None
    return dict(body)


def dedupe_key(update: Mapping[str, Any]) -> str:
    """The message id (the platform redelivers with the same one), else the update's hash."""
    message = update.get("message")
    found = message.get("message_id") if isinstance(message, dict) else None
    if isinstance(found, str | int) and not isinstance(found, bool) and str(found).strip():
        return str(found).strip()[:128]
    canonical = json.dumps(update, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: Any) -> str:
    """An id or a name as text ("" when absent or not a scalar)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _part(message: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """One object of the message ("chat", "from"), empty when absent or not an object."""
    found = message.get(name)
    return found if isinstance(found, dict) else {}


def _chat(message: Mapping[str, Any]) -> ChatRef | None:
    """Who wrote, as the router names them; None when the update names no chat."""
    chat, sender = _part(message, "chat"), _part(message, "from")
    # A private chat's id is the user's id: either names the chat.
    chat_id = _text(chat.get("id")) or _text(sender.get("id"))
    if not chat_id:
        return None
    kind = chat.get("chat_type")
    return ChatRef(
        channel=CHANNEL,
        external_id=chat_id[:64],
        language="vi",
        private=kind is None or (isinstance(kind, str) and kind.upper() == PRIVATE),
        name=_text(sender.get("display_name"))[:128],
    )


def read_text(chat: ChatRef, text: str) -> Inbound:
    """A typed message: a command, a bare invite code, or text for the router."""
    stripped = text.strip()
    command = _COMMAND.fullmatch(stripped)
    if command is not None:
        name = command.group(1).lower()
        args = tuple((command.group(2) or "").split())
        if name == "start":
            return Start(chat, args[0] if args else None)
        return Command(chat, name, args)
    if _PAYLOAD.fullmatch(stripped) and is_invite_payload(stripped):
        return Start(chat, stripped)
    return Text(chat, text)


def _event(update: Mapping[str, Any]) -> Inbound | None:
    message = update["message"]
    if _part(message, "from").get("is_bot") is True:
        return None
    chat = _chat(message)
    if chat is None:
        return None
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        return read_text(chat, text)
    return Media(chat)


def read_update(body: Mapping[str, Any]) -> ZaloBotUpdate | None:
    """What a received body is; None when it is no Zalo Bot update at all."""
    update = unwrap(body)
    if update is None:
        return None
    message = update["message"]
    sender, chat = _part(message, "from"), _part(message, "chat")
    return ZaloBotUpdate(
        dedupe_key=dedupe_key(update),
        kind=update["event_name"][:64] or "unknown",
        user=(_text(sender.get("id")) or _text(chat.get("id")))[:64],
        body=update,
        event=_event(update),
    )
