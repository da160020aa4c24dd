"""Two recording reference channels for the channel-contract suite.

`ButtonChannel` has buttons and edits messages in place (like Telegram); `PlainChannel` has
neither (like Zalo Bot): its choices arrive as numbered lines and are answered by typing. Both
implement `bot.channels.base.Channel` and record every message as the user would see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.channels.base import Blocked, Capabilities, Limits, MessageView, SendOutcome, Sent


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


@dataclass
class RecordingChannel:
    """Keeps what it was asked to send, per chat; a chat in `blocked` answers "blocked"."""

    name: str
    capabilities: Capabilities
    limits: Limits = field(default_factory=lambda: Limits(per_second=30, per_chat_burst=3))
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
    )


def plain_channel() -> RecordingChannel:
    return RecordingChannel(
        "ref_plain",
        Capabilities(max_buttons=0, edits_in_place=False, command_menus=False, text_limit=2000),
    )
