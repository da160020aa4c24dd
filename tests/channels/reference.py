"""Two recording reference channels for the channel-contract suite.

`ButtonChannel` has buttons and edits messages in place (like Telegram); `PlainChannel` has
neither (like Zalo Bot): its choices arrive as numbered lines and are answered by typing. Both
implement `bot.channels.base.Channel` and record every message as the user would see it; as a
`tests.channels.platforms.Platform` their users' events go straight to the router, the
adapter's part done as an adapter does it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from bot.channels.base import Blocked, Capabilities, Limits, MessageView, SendOutcome, Sent
from bot.channels.inbound import ChatRef, Inbound, Press, Text
from tests.channels.platforms import Shown, Traits

if TYPE_CHECKING:
    from tests.channels.harness import Conversation

__all__ = ["RecordingChannel", "ReferenceLink", "Shown", "button_channel", "plain_channel"]


@dataclass
class RecordingChannel:
    """Keeps what it was asked to send, per chat; a chat in `blocked` answers "blocked"."""

    name: str
    capabilities: Capabilities
    limits: Limits = field(default_factory=lambda: Limits(per_second=30, per_chat_burst=3))
    traits: Traits = field(default_factory=Traits)
    chats: dict[str, list[Shown]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    _next_id: int = 0

    async def send(self, external_id: str, view: MessageView) -> SendOutcome:
        if external_id in self.blocked:
            return Blocked("403: blocked by the user")
        assert len(view.text) <= self.capabilities.text_limit, "text over the channel's limit"
        assert len(view.flat_choices()) <= self.capabilities.max_buttons, "too many buttons"
        self._next_id += 1
        message_id = str(self._next_id)
        self.chats.setdefault(external_id, []).append(Shown(message_id, view))
        return Sent(message_id)

    async def edit(
        self, external_id: str, message_id: str, view: MessageView, *, choices_only: bool = False
    ) -> bool:
        assert self.capabilities.edits_in_place, "asked to edit on a channel that cannot"
        for shown in self.chats.get(external_id, []):
            if shown.message_id == message_id:
                shown.view = replace(shown.view, choices=view.choices) if choices_only else view
                shown.edits += 1
                return True
        return False

    def messages(self, external_id: str) -> list[Shown]:
        return list(self.chats.get(external_id, []))

    def texts(self, external_id: str) -> list[str]:
        return [shown.text for shown in self.messages(external_id)]

    # -- as a platform ---------------------------------------------------------------------

    def settings(self) -> dict[str, object]:
        return {}

    @contextlib.asynccontextmanager
    async def connect(self, talk: Conversation) -> AsyncIterator[ReferenceLink]:
        yield ReferenceLink(self, talk)


class ReferenceLink:
    """A reference channel's users talking to one conversation: each event handed to the
    router, the press answered and the pressed message edited as an adapter does."""

    def __init__(self, channel: RecordingChannel, talk: Conversation) -> None:
        self.channel = channel
        self._talk = talk

    async def act(self, event: Inbound) -> str | None:
        router, channel = self._talk.router, self.channel
        reaction = await router.handle(event, channel)
        if isinstance(event, Press) and reaction.edit is not None and event.message_id:
            await channel.edit(
                event.chat.external_id,
                event.message_id,
                reaction.edit.view,
                choices_only=reaction.edit.choices_only,
            )
        if reaction.clear_choices_of is not None:
            await channel.edit(
                event.chat.external_id,
                reaction.clear_choices_of,
                MessageView(""),
                choices_only=True,
            )
        router.deliver(channel, reaction)
        return reaction.notice if isinstance(event, Press) else None

    async def type_quickly(self, chat: ChatRef, texts: tuple[str, ...]) -> None:
        router = self._talk.router
        for text in texts:
            router.deliver(self.channel, await router.handle(Text(chat, text), self.channel))

    async def block(self, user: str) -> None:
        self.channel.blocked.add(user)

    async def drain(self) -> None:
        """Nothing is received in the background here."""


def button_channel() -> RecordingChannel:
    return RecordingChannel(
        "ref_buttons",
        Capabilities(
            max_buttons=100,
            edits_in_place=True,
            command_menus=False,
            text_limit=4096,
            asks_phone=True,
        ),
        traits=Traits(phone_keyboard=True),
    )


def plain_channel() -> RecordingChannel:
    return RecordingChannel(
        "ref_plain",
        Capabilities(max_buttons=0, edits_in_place=False, command_menus=False, text_limit=2000),
    )
