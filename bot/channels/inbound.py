"""Neutral inbound events: what an adapter makes of whatever its platform sends.

Each event names its sender (`ChatRef`); the router (`bot.conversation.router`) decides what
it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Who wrote: a chat on a channel, with the language their app reports."""

    channel: str
    external_id: str
    language: str = "vi"
    private: bool = True  # a one-to-one chat (not a group)
    name: str = ""  # the display name the platform gives (only staff are ever named)


@dataclass(frozen=True, slots=True)
class Start:
    """The user started the bot, perhaps with a deep-link token."""

    chat: ChatRef
    payload: str | None = None


@dataclass(frozen=True, slots=True)
class LinkCode:
    """A typed receipt code (channels without deep links)."""

    chat: ChatRef
    code: str


@dataclass(frozen=True, slots=True)
class Text:
    chat: ChatRef
    text: str


@dataclass(frozen=True, slots=True)
class Press:
    """A button press: the encoded action (`bot.channels.actions`) and the pressed message."""

    chat: ChatRef
    action: str
    message_id: str | None = None
    has_picture: bool = False  # the pressed message is a picture with a caption


@dataclass(frozen=True, slots=True)
class SharedPhone:
    """A phone number shared through the platform; `own` when it is the sender's own."""

    chat: ChatRef
    phone: str
    own: bool


@dataclass(frozen=True, slots=True)
class Command:
    """`/name args` (name lowercased, without the bot's @username)."""

    chat: ChatRef
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Media:
    """A sticker, photo, voice or anything else that is not text."""

    chat: ChatRef


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    """The user unfollowed or blocked the bot."""

    chat: ChatRef


Inbound: TypeAlias = Start | LinkCode | Text | Press | SharedPhone | Command | Media | Unsubscribed
