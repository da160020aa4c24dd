"""Ask Telegram for the bot's username (`getMe`) outside the running service: `sipas invite`."""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError


async def fetch_username(token: str, *, base_url: str) -> str | None:
    """The bot's username, or None when there is no token or Telegram cannot be reached."""
    if not token:
        return None
    try:
        async with Bot(token, base_url=base_url) as bot:
            return bot.username
    except (TelegramError, OSError):
        return None
