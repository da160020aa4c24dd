"""The outbox's sender for any channel: render a claimed row as a view, hand it to the adapter.

The view is worded for the channel (`buttons=False` where it has none) and, where the channel
cannot carry the choices as buttons, they become numbered lines in the text. On a channel
where numbers are typed, a delivered message's numbers are recorded as the chat's pending
choices in the same step, so the router knows what the chat's next "2" means.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from bot.channels.base import OUTCOMES, Channel, Failed, SendOutcome, Sent, Transmit
from bot.channels.choices import ChoiceMemory, remember_choices
from bot.channels.numbered import as_shown
from bot.conversation.views import ViewRenderer
from storage.models import utcnow
from storage.outbox import ClaimedMessage


class ChannelSender:
    """The dispatcher's `Sender` for one channel adapter."""

    def __init__(
        self,
        channel: Channel,
        renderer: ViewRenderer,
        *,
        choices: ChoiceMemory | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._channel = channel
        self._renderer = renderer
        self._choices = choices
        self._now = now
        self.channel = channel.name

    async def send(self, message: ClaimedMessage) -> SendOutcome:
        ready = await self.prepare(message)
        return ready if isinstance(ready, OUTCOMES) else await ready()

    async def prepare(self, message: ClaimedMessage) -> SendOutcome | Transmit:
        """Render the row and let the adapter prepare its send (the dispatcher's `prepare`):
        the outcome if it is already known, else the platform call left to make."""
        capabilities = self._channel.capabilities
        try:
            view = await self._renderer.render(
                message.kind,
                message.payload,
                message.language,
                buttons=capabilities.buttons,
                edits=capabilities.edits_in_place,
                max_buttons=capabilities.max_buttons,
            )
        except (KeyError, LookupError, ValueError, TypeError) as exc:
            return Failed(f"cannot render {message.kind}: {exc}")
        shown, actions = as_shown(view, capabilities)
        prepare = getattr(self._channel, "prepare", None)
        if prepare is None:
            transmit: Transmit = partial(self._channel.send, message.external_id, shown)
        else:
            ready = await prepare(message.external_id, shown)
            if isinstance(ready, OUTCOMES):
                return ready
            transmit = ready

        async def send() -> SendOutcome:
            outcome = await transmit()
            if isinstance(outcome, Sent):
                await remember_choices(self._choices, message.chat_id, actions, now=self._now)
            return outcome

        return send
