"""The Telegram side of command menus: `setMyCommands` / `deleteMyCommands` per scope.

Vietnamese is the default language (no language code), English is set with "en"; a chat's own
menu uses `BotCommandScopeChat`. Telegram errors are logged, never raised: a menu is a comfort.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.telegram.sender import CHANNEL

log = logging.getLogger(__name__)
MAX_DESCRIPTION = 256


def _commands(menu: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(name, description[:MAX_DESCRIPTION]) for name, description in menu]


def _code(language: str) -> str | None:
    return None if language == "vi" else language


class TelegramMenus:
    """A `MenuPort` for the Telegram bot (`bot()` is None until it is initialised)."""

    channel = CHANNEL

    def __init__(self, bot: Callable[[], Bot | None]) -> None:
        self._bot = bot

    def ready(self) -> bool:
        return self._bot() is not None

    async def set_default(self, language: str, menu: list[tuple[str, str]]) -> None:
        bot = self._bot()
        if bot is None:
            return
        try:
            await bot.set_my_commands(
                _commands(menu), scope=BotCommandScopeDefault(), language_code=_code(language)
            )
        except TelegramError as exc:
            log.warning("setMyCommands (default) failed", extra={"error": str(exc)})

    async def set_chat(self, external_id: str, language: str, menu: list[tuple[str, str]]) -> None:
        """Set one chat's own menu; an empty menu removes it."""
        bot = self._bot()
        if bot is None:
            return
        scope = BotCommandScopeChat(int(external_id))
        try:
            if menu:
                await bot.set_my_commands(
                    _commands(menu), scope=scope, language_code=_code(language)
                )
            else:
                await bot.delete_my_commands(scope=scope, language_code=_code(language))
        except TelegramError as exc:
            log.warning(
                "could not set a chat's menu", extra={"external_id": external_id, "error": str(exc)}
            )
