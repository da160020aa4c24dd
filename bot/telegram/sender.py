"""The Telegram adapter's outbound side: send and edit neutral views through the Bot API and
classify what Telegram answered (429 → retry after, 403 → blocked, 400 → failed)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.base import (
    Blocked,
    Capabilities,
    Failed,
    Limits,
    MessageView,
    RetryLater,
    SendOutcome,
    Sent,
)
from bot.channels.pieces import split_text
from bot.telegram.render import inline_markup, markup

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
CAPABILITIES = Capabilities(
    max_buttons=100,
    edits_in_place=True,
    command_menus=True,
    text_limit=MAX_TEXT,
    asks_phone=True,
    caption_limit=MAX_CAPTION,
)


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramMessenger:
    """The Telegram `Channel`; `bot()` is None until the bot is initialised."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(self, bot: Callable[[], Bot | None], *, limits: Limits) -> None:
        self._bot = bot
        self.limits = limits

    async def send(self, external_id: str, view: MessageView) -> SendOutcome:
        bot = self._bot()
        if bot is None:
            return RetryLater("telegram bot not initialised yet", after=5.0)
        try:
            if view.picture is not None:
                sent: Message = await bot.send_photo(
                    chat_id=int(external_id),
                    photo=view.picture,
                    caption=view.text[:MAX_CAPTION] or None,
                    reply_markup=markup(view),
                )
            else:
                sent = await bot.send_message(
                    chat_id=int(external_id), text=view.text[:MAX_TEXT], reply_markup=markup(view)
                )
        except RetryAfter as exc:
            return RetryLater(f"429: {exc}", after=retry_seconds(exc))
        except Forbidden as exc:
            return Blocked(f"403: {exc}")
        except BadRequest as exc:
            return Failed(f"400: {exc}")
        except NetworkError as exc:  # timeouts and 5xx
            return RetryLater(f"network: {exc}")
        except TelegramError as exc:
            return RetryLater(f"telegram: {exc}")
        return Sent(str(sent.message_id))

    async def edit(
        self,
        external_id: str,
        message_id: str,
        view: MessageView,
        *,
        choices_only: bool = False,
        caption: bool = False,
    ) -> bool:
        """Change a sent message: its buttons only, its caption (a picture) or its text."""
        bot = self._bot()
        if bot is None:
            return False
        chat_id, message = int(external_id), int(message_id)
        buttons = inline_markup(view)
        try:
            if choices_only:
                await bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message, reply_markup=buttons
                )
            elif caption:
                await bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=message,
                    caption=view.text[:MAX_CAPTION],
                    reply_markup=buttons,
                )
            else:
                await bot.edit_message_text(
                    split_text(view.text, MAX_TEXT)[0],
                    chat_id=chat_id,
                    message_id=message,
                    reply_markup=buttons,
                )
        except TelegramError as exc:
            log.info("could not edit a message", extra={"error": str(exc)})
            return False
        return True
