"""Deep links into the channels that have them: the port neutral code builds links through.

A channel whose platform can open a chat from a URL (Telegram's `t.me/<bot>?start=…`, later a
Zalo OA link) offers a `LinkBuilder` under its name; the composition root gathers them into one
`ChannelLinks`. Intake prints the ready ones on the citizen's receipt; an admin's invite shows a
draft even while the channel does not know its own address yet (a placeholder stands in).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

# How people call the channels (the same in Vietnamese and English).
CHANNEL_TITLES = {"telegram": "Telegram", "zalo_oa": "Zalo OA", "zalo_bot": "Zalo Bot"}


@dataclass(frozen=True, slots=True)
class Link:
    """A link carrying `payload` into a channel; not `ready` while a placeholder stands in for
    an address the channel has not learnt yet (the bot's username before Telegram told it)."""

    url: str
    ready: bool = True


class LinkBuilder(Protocol):
    def __call__(self, payload: str) -> Link: ...


class ChannelLinks:
    """Link builders by channel name, in the order they were given."""

    def __init__(
        self, builders: Mapping[str, LinkBuilder] | None = None, *, typed: Sequence[str] = ()
    ) -> None:
        self._builders: dict[str, LinkBuilder] = dict(builders or {})
        # Channels without deep links where the bare code is sent instead (Zalo OA, Zalo Bot).
        self.typed: tuple[str, ...] = tuple(typed)

    def add(self, channel: str, builder: LinkBuilder) -> None:
        """Offer `channel`'s links (a channel driven from outside the composition root)."""
        self._builders[channel] = builder

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def url(self, channel: str, payload: str) -> str | None:
        """The ready link into `channel` carrying `payload`, or None (no links, or not yet)."""
        found = self.draft(channel, payload)
        return found.url if found is not None and found.ready else None

    def draft(self, channel: str, payload: str) -> Link | None:
        """The link into `channel`, ready or with its placeholder; None if it has no links."""
        builder = self._builders.get(channel)
        return builder(payload) if builder is not None else None

    def drafts(self, payload: str) -> list[Link]:
        """A link carrying `payload` into every channel that has links."""
        return [builder(payload) for builder in self._builders.values()]
