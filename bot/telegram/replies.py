"""Render the command modules' `Reply` values in Telegram: text (cut at 4096 characters),
inline buttons, a PNG photo with its caption.

Replies are sent in the background, in order per chat, each send within the per-chat and
per-bot limits the outbox keeps (`pace`, shared in-process): updates are processed one at a
time, so waiting for one chat's budget must not hold up the others. A 429 all the same waits
`retry_after` and tries again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any
from weakref import WeakValueDictionary

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter

from bot.commands.base import Caller, Reply
from bot.telegram.sender import retry_seconds

MAX_TEXT = 4096
MAX_CAPTION = 1024
ATTEMPTS = 3
Pace = Callable[[int], AbstractAsyncContextManager[None]]

# One lock per chat with replies in flight (gone with the last task holding it).
_LOCKS: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text at line breaks into pieces Telegram accepts."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current or "…")
    return pieces


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


async def _paced(pace: Pace | None, chat_id: int, send: Callable[[], Awaitable[object]]) -> None:
    for attempt in range(ATTEMPTS):
        try:
            if pace is not None:
                async with pace(chat_id):
                    await send()
            else:
                await send()
            return
        except RetryAfter as exc:
            if attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(min(retry_seconds(exc), 30.0))


async def send_now(bot: Bot, caller: Caller, replies: Sequence[Reply], pace: Pace | None) -> None:
    """Send the replies one after the other (each within the limits)."""
    target = int(caller.external_id)

    async def text(piece: str, buttons: InlineKeyboardMarkup | None = None) -> None:
        await _paced(
            pace, caller.chat_id, partial(bot.send_message, target, piece, reply_markup=buttons)
        )

    for reply in replies:
        buttons = markup(reply)
        if reply.photo is not None:
            send_photo = partial(
                bot.send_photo,
                target,
                photo=reply.photo,
                caption=reply.text[:MAX_CAPTION] or None,
                reply_markup=buttons,
            )
            await _paced(pace, caller.chat_id, send_photo)
            rest = reply.text[MAX_CAPTION:]
            for piece in split_text(rest, MAX_TEXT) if rest else []:
                await text(piece)
            continue
        pieces = split_text(reply.text, MAX_TEXT)
        for index, piece in enumerate(pieces):
            await text(piece, buttons if index == len(pieces) - 1 else None)


def send_in_background(
    application: Any, caller: Caller, replies: Sequence[Reply], *, pace: Pace | None
) -> None:
    """Queue the replies behind the chat's earlier ones (PTB tracks the task)."""
    if not replies:
        return
    lock = _LOCKS.get(caller.chat_id)
    if lock is None:
        lock = _LOCKS[caller.chat_id] = asyncio.Lock()

    async def in_order(lock: asyncio.Lock = lock) -> None:
        async with lock:
            await send_now(application.bot, caller, replies, pace)

    application.create_task(in_order(), name=f"replies:{caller.chat_id}")
