"""Direct replies (command answers, warnings) sent in the background, in order per chat.

Updates are handled one at a time, so waiting for one chat's send budget must not hold up the
others: each chat's replies go out in a task of their own, behind that chat's earlier ones.
Every message spends the same per-chat and per-channel budget as the outbox (`pace`, the
dispatcher's `slot`); a "retry later" with a delay (a 429) waits that long and tries again.
On a channel where numbers are typed, a delivered reply's numbered choices become the chat's
pending choices (`bot.channels.choices`), as the outbox's sends do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from bot.channels.base import Channel, MessageView, RetryLater, Sent
from bot.channels.choices import ChoiceMemory, remember_choices
from bot.channels.numbered import as_shown
from bot.channels.pieces import pieces
from storage.models import utcnow

log = logging.getLogger(__name__)
ATTEMPTS = 3
MAX_WAIT = 30.0
Pace = Callable[[str, int], AbstractAsyncContextManager[None]]


class ReplyQueue:
    """Sends replies per chat in order, within the channel's limits."""

    def __init__(
        self,
        *,
        pace: Pace | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        choices: ChoiceMemory | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._pace = pace
        self._sleep = sleep
        self._choices = choices
        self._now = now
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        self._queued: dict[tuple[str, int], int] = {}  # batches waiting or sending, per chat
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(
        self, channel: Channel, *, chat_id: int, external_id: str, views: Sequence[MessageView]
    ) -> None:
        """Queue the views behind the chat's earlier replies."""
        if not views:
            return
        key = (channel.name, chat_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        task = asyncio.create_task(
            self._in_order(lock, key, channel, chat_id, external_id, list(views)),
            name=f"replies:{channel.name}:{chat_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._done)

    async def drain(self) -> None:
        """Wait for every queued reply (at shutdown, before the channel closes)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("replies: sending failed", exc_info=task.exception())

    async def _in_order(
        self,
        lock: asyncio.Lock,
        key: tuple[str, int],
        channel: Channel,
        chat_id: int,
        external_id: str,
        views: list[MessageView],
    ) -> None:
        try:
            async with lock:
                for view in views:
                    shown, actions = as_shown(view, channel.capabilities)
                    delivered = True
                    for piece in pieces(shown, channel.capabilities):
                        delivered = await self._send(channel, chat_id, external_id, piece)
                    if delivered:
                        await remember_choices(self._choices, chat_id, actions, now=self._now)
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key]
                self._locks.pop(key, None)

    async def _send(
        self, channel: Channel, chat_id: int, external_id: str, view: MessageView
    ) -> bool:
        """Send one message; whether it was delivered."""
        for attempt in range(ATTEMPTS):
            if self._pace is not None:
                async with self._pace(channel.name, chat_id):
                    outcome = await channel.send(external_id, view)
            else:
                outcome = await channel.send(external_id, view)
            if isinstance(outcome, Sent):
                return True
            if isinstance(outcome, RetryLater) and outcome.after is not None:
                if attempt < ATTEMPTS - 1:
                    await self._sleep(min(outcome.after, MAX_WAIT))
                    continue
            log.warning(
                "replies: not delivered",
                extra={"channel": channel.name, "chat_id": chat_id, "outcome": repr(outcome)},
            )
            return False
        return False
