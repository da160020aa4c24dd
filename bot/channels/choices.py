"""A chat's pending choices, seen from the channel layer: where they are kept, how a sender
records them.

On a channel without buttons the choices of a message are numbered lines; whoever delivers
such a message (the outbox's channel sender, the reply queue) records what its numbers stand
for, and the router reads them back when the chat types a number. `storage.pending_choices`
keeps them in the database, so a restart or another replica understands the number too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)


class ChoiceMemory(Protocol):
    """Where pending choices are kept (`storage.pending_choices.PendingChoiceStore`)."""

    async def remember(self, chat_id: int, actions: Sequence[str], *, now: datetime) -> None: ...


async def remember_choices(
    memory: ChoiceMemory | None,
    chat_id: int,
    actions: Sequence[str] | None,
    *,
    now: Callable[[], datetime],
) -> None:
    """Record what a delivered message's numbers stand for (nothing, for `()`; None leaves
    them as they were). A failure is logged, not raised: the message is out, and sending it
    again would only repeat it."""
    if memory is None or actions is None:
        return
    try:
        await memory.remember(chat_id, actions, now=now())
    except Exception:
        log.exception("pending choices: recording failed", extra={"chat_id": chat_id})
