"""What a channel adapter is: its name, what it can do, its send limits, how it sends a view.

Neutral code (the router, the survey, commands, the outbox) produces `MessageView`s; each
adapter (`bot/telegram/`, later Zalo OA, Zalo Bot, ZNS and the web survey) renders them in its
platform's terms and reports a `SendOutcome`:

    SendOutcome
    ├── Sent          delivered (the channel's message id when it gives one)
    ├── RetryLater    not this time: 429, 5xx, timeout (after `after` seconds, or backoff)
    ├── Blocked       the recipient blocked us: never write to this chat again
    └── Failed        can never be delivered (bad request, cannot render); `fallback` when
                      another channel may carry it (Zalo OA window closed)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias

ChannelName = Literal["telegram", "zalo_oa", "zalo_bot", "zns", "web"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can show and do."""

    max_buttons: int  # buttons one message may carry; 0 = none (Zalo Bot, ZNS)
    edits_in_place: bool  # a sent message can be changed (an answered question loses buttons)
    command_menus: bool  # the platform lists commands per chat (Telegram's setMyCommands)
    text_limit: int  # characters in one message (4096 Telegram, 2000 Zalo Bot)
    receives: bool = True  # False for send-only channels (ZNS)
    asks_phone: bool = False  # a button that shares the user's own phone number
    caption_limit: int | None = None  # characters under a picture (None: the text limit)
    # A press can be answered with a short notice on the button (Telegram's callback answer);
    # where it cannot (Zalo OA: a tap is just a message), the notice goes as a reply.
    press_notices: bool = True

    @property
    def buttons(self) -> bool:
        return self.max_buttons > 0


@dataclass(frozen=True, slots=True)
class Limits:
    """A channel's send budget: per second overall, a burst per chat, per day (None: none)."""

    per_second: int
    per_chat_burst: int
    per_day: int | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One option under a message: what it says and the encoded action it carries."""

    label: str
    action: str


@dataclass(slots=True)
class MessageView:
    """One message, channel-neutral: text, rows of choices, optionally a PNG picture (the
    text is then its caption), and whether to ask for the phone or clear a reply keyboard."""

    text: str
    choices: list[list[Choice]] = field(default_factory=list)
    picture: bytes | None = None
    ask_phone: str = ""
    ask_phone_note: str = ""  # why the phone is asked (where the request has a subtitle)
    clear_keyboard: bool = False

    def flat_choices(self) -> list[Choice]:
        return [choice for row in self.choices for choice in row]


# What a sent message cost the agency (`outbox.cost_class`, per message; the channel report
# counts the paid ones per agency and month).
COST_FREE = "free"  # a chat message: Telegram, the Zalo Bot, a Zalo OA reply within 48 h
COST_OA_BILLABLE = "oa_billable"  # a Zalo OA reply 48 h–7 d after the user's last interaction
COST_ZNS = "zns"  # a ZNS template message, billed per message
COST_CLASSES = (COST_FREE, COST_OA_BILLABLE, COST_ZNS)


@dataclass(frozen=True)
class Sent:
    """Delivered; the channel's id of the message, when it gives one, and its cost class."""

    external_message_id: str | None = None
    cost: str = COST_FREE


@dataclass(frozen=True)
class RetryLater:
    """Not delivered this time: retry after `after` seconds (None: exponential backoff)."""

    error: str
    after: float | None = None


@dataclass(frozen=True)
class Blocked:
    """The recipient blocked the bot: never write to this chat again."""

    error: str


@dataclass(frozen=True)
class Failed:
    """This message can never be delivered on this channel (bad request, unknown channel).

    `fallback`: the recipient cannot be reached here now (a closed reply window, an
    unfollowed account) and another way may carry it (ZNS by phone, else the web link)."""

    error: str
    fallback: bool = False


SendOutcome: TypeAlias = Sent | RetryLater | Blocked | Failed
# What is left of a send once everything but the platform call is done (see `Channel`).
Transmit: TypeAlias = Callable[[], Awaitable[SendOutcome]]
OUTCOMES = (Sent, RetryLater, Blocked, Failed)


class Channel(Protocol):
    """A chat platform behind one adapter."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def limits(self) -> Limits: ...

    async def send(self, external_id: str, view: MessageView) -> SendOutcome:
        """Send one view to a chat; report what the platform answered.

        An adapter whose send starts with work of its own (reading the database) may also
        offer `prepare(external_id, view) -> SendOutcome | Transmit`: that work done, either
        the outcome already known or the platform call still to make. The outbox prepares
        before it takes a slot of the channel's rate budget, so the slot is held only for the
        call."""
        ...

    async def edit(
        self, external_id: str, message_id: str, view: MessageView, *, choices_only: bool = False
    ) -> bool:
        """Change a sent message in place (only where `edits_in_place`); False if it failed.
        `choices_only` keeps the text and replaces the choices."""
        ...
