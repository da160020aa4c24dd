"""Learn the bot's username with `getMe`, retrying in the background until Telegram answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

log = logging.getLogger(__name__)


async def fetch_username(token: str, base_url: str) -> str:
    bot = Bot(token=token, base_url=base_url)
    async with bot:
        return bot.username


async def learn_username(
    token: str, base_url: str, on_known: Callable[[str], None], *, first_delay: float = 1.0
) -> None:
    """Call `on_known(username)` once `getMe` succeeds; back off up to a minute between tries."""
    delay = first_delay
    while True:
        try:
            username = await fetch_username(token, base_url)
        except InvalidToken:
            log.error("TELEGRAM_BOT_TOKEN was refused by Telegram; the Telegram channel is off")
            return
        except (TelegramError, OSError) as exc:
            log.warning("getMe failed, retrying", extra={"error": str(exc), "retry_in": delay})
        else:
            log.info("telegram bot identified", extra={"username": username})
            on_known(username)
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 60.0)
