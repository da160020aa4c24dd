"""The outbox's sender for any channel: render a claimed row as a view, hand it to the adapter.

The view is worded for the channel (`buttons=False` where it has none) and, where the channel
cannot carry the choices as buttons, they become numbered lines in the text.
"""

from __future__ import annotations

from bot.channels.base import Channel, Failed, SendOutcome
from bot.channels.numbered import numbered
from bot.conversation.views import ViewRenderer
from storage.outbox import ClaimedMessage


class ChannelSender:
    """The dispatcher's `Sender` for one channel adapter."""

    def __init__(self, channel: Channel, renderer: ViewRenderer) -> None:
        self._channel = channel
        self._renderer = renderer
        self.channel = channel.name

    async def send(self, message: ClaimedMessage) -> SendOutcome:
        capabilities = self._channel.capabilities
        try:
            view = await self._renderer.render(
                message.kind, message.payload, message.language, buttons=capabilities.buttons
            )
        except (KeyError, LookupError, ValueError, TypeError) as exc:
            return Failed(f"cannot render {message.kind}: {exc}")
        if len(view.flat_choices()) > capabilities.max_buttons:
            view = numbered(view)
        return await self._channel.send(message.external_id, view)
