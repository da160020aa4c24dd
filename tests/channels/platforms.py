"""What a chat platform is to the channel-contract suite.

A `Platform` is the users' side of one chat platform for one test: what each user's chat shows
(`messages`), what its users can do (`traits`), and `connect`, which puts the product's adapter
for it in front of one conversation (one product process) and yields a `Link`: the `Channel`
the outbox and the reply queue send through, and `act`, which carries a user's action through
the platform to the product and waits until the product has acted on it.

The reference channels (`tests.channels.reference`) hand events straight to the router; the
Zalo OA (`tests.channels.oa_platform`) and the Zalo Bot (`tests.channels.bot_platform`) drive
the real adapters against the fake platforms over real HTTP.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.channels.base import Capabilities, Channel, MessageView
from bot.channels.inbound import ChatRef, Command, Inbound, Start

if TYPE_CHECKING:
    from tests.channels.harness import Conversation


@dataclass(slots=True)
class Shown:
    """One message in a chat, as it reads now (edits applied)."""

    message_id: str
    view: MessageView
    edits: int = 0

    @property
    def text(self) -> str:
        return self.view.text

    def labels(self) -> list[str]:
        return [choice.label for choice in self.view.flat_choices()]


@dataclass(frozen=True, slots=True)
class Traits:
    """What a platform's users can do and notice beyond the channel's `Capabilities`."""

    # The user's app reports its language (else the user sets it with `/language`).
    app_language: bool = True
    # The adapter reads a typed receipt code itself and hands it over as a `LinkCode`.
    hands_over_codes: bool = True
    # The user can share a phone number: their own (`own`), and on some platforms anyone's.
    shares_phone: bool = True
    shares_others_phone: bool = True
    # The phone is asked with a reply keyboard, which a later message clears.
    phone_keyboard: bool = False
    # The first text of a user without a linked case is answered, then their phone is asked.
    asks_unlinked_for_phone: bool = False
    # A message's picture reaches the chat (else its text goes alone).
    pictures: bool = True


class Link(Protocol):
    """One conversation's connection to a platform."""

    @property
    def channel(self) -> Channel: ...

    async def act(self, event: Inbound) -> str | None:
        """The user's action through the platform, acted on by the product; a press's notice
        where the platform shows it on the button (else None: it comes as a message)."""
        ...

    async def type_quickly(self, chat: ChatRef, texts: tuple[str, ...]) -> None:
        """Several messages typed before anything the bot sends arrives."""
        ...

    async def block(self, user: str) -> None:
        """The user blocks (or leaves) the bot, as the platform lets them."""
        ...

    async def drain(self) -> None:
        """Wait until everything the platform delivered so far was acted on."""
        ...


class Platform(Protocol):
    """A chat platform's users for one test (see the module docstring)."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def traits(self) -> Traits: ...

    def settings(self) -> dict[str, object]:
        """What the product's settings need to reach the platform."""
        ...

    def connect(self, talk: Conversation) -> AbstractAsyncContextManager[Link]: ...

    def messages(self, external_id: str) -> list[Shown]:
        """The user's chat, oldest first (the same `Shown` objects each time)."""
        ...


def typed(event: Start | Command) -> str:
    """A start or a command as a user types it (where there are no deep links or menus)."""
    if isinstance(event, Start):
        return "/start" + (f" {event.payload}" if event.payload else "")
    return " ".join([f"/{event.name}", *event.args])
