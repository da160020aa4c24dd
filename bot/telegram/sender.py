"""Send claimed outbox rows through the Bot API and classify what Telegram answered."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.charts import sipas_chart
from bot.outbox.dispatcher import Blocked, Failed, RetryLater, SendOutcome, Sent
from bot.telegram.render import TelegramRenderer, digest_text
from bot.texts import head_text
from storage.outbox import ClaimedMessage

log = logging.getLogger(__name__)
CHANNEL = "telegram"


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """The dispatcher's Telegram channel; `bot()` is None until the bot is initialised."""

    channel = CHANNEL

    def __init__(self, bot: Callable[[], Bot | None], renderer: TelegramRenderer) -> None:
        self._bot = bot
        self._renderer = renderer

    async def send(self, message: ClaimedMessage) -> SendOutcome:
        bot = self._bot()
        if bot is None:
            return RetryLater("telegram bot not initialised yet", after=5.0)
        try:
            if message.kind == "digest":
                caption = digest_text(message.payload, message.language)
                chart = await asyncio.to_thread(
                    sipas_chart,
                    [tuple(point) for point in message.payload.get("series", [])],
                    title=head_text(
                        message.language, "digest_chart", agency=message.payload.get("agency", "")
                    ),
                )
            else:
                text, markup = await self._renderer.render(
                    message.kind, message.payload, message.language
                )
        except (KeyError, LookupError, ValueError, TypeError) as exc:
            return Failed(f"cannot render {message.kind}: {exc}")
        try:
            if message.kind == "digest":
                sent = await bot.send_photo(
                    chat_id=int(message.external_id), photo=chart, caption=caption
                )
            else:
                sent = await bot.send_message(
                    chat_id=int(message.external_id), text=text[:4096], reply_markup=markup
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
