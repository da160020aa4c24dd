"""Small hubs the composition root creates first and hands to the services it builds.

- `Wake`: "messages were queued"; every channel's dispatcher listens, so a fresh row goes out
  at once (polling keeps the outbox correct without it).
- `Pacing`: the send slot of each channel's dispatcher, so a direct reply (a command's answer)
  spends the same per-chat and per-channel budget as the outbox's sends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from bot.outbox.dispatcher import Dispatcher


class Wake:
    """Tells every listener that messages were queued."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def __call__(self) -> None:
        for listener in self._listeners:
            listener()


class Pacing:
    """Send slots by channel; a channel without a dispatcher (yet) is not paced."""

    def __init__(self) -> None:
        self._dispatchers: dict[str, Dispatcher] = {}

    def add(self, channel: str, dispatcher: Dispatcher) -> None:
        self._dispatchers[channel] = dispatcher

    def remove(self, channel: str) -> None:
        self._dispatchers.pop(channel, None)

    def slot(self, channel: str, chat_id: int) -> AbstractAsyncContextManager[None]:
        dispatcher = self._dispatchers.get(channel)
        if dispatcher is None:
            return contextlib.nullcontext()
        return dispatcher.slot(channel, chat_id)
