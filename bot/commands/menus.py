"""Per-scope command menus (`setMyCommands`): citizens never see admin or head commands.

The default scope lists only everyone's commands; each admin, head or inspector chat gets its
own list (`BotCommandScopeChat`) with everyone's commands plus its roles' commands. Vietnamese
is the default language, English is set with language_code "en". Menus are published at start
and refreshed for one chat whenever its roles change (invite redeemed, grant revoked).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.commands.access import AccessControl
from bot.commands.admin_texts import admin_text
from bot.commands.base import Caller
from bot.commands.dispatch import CANCEL, EVERYONE, CommandDispatcher
from storage.errors import StorageError
from storage.roles import RoleStore

log = logging.getLogger(__name__)
LANGUAGES = ("vi", "en")


def everyone_menu(language: str) -> list[tuple[str, str]]:
    return [(name, admin_text(language, f"menu_{name}")) for name in EVERYONE]


def chat_menu(
    dispatcher: CommandDispatcher, caller: Caller, language: str
) -> list[tuple[str, str]]:
    """Everyone's commands, then the caller's own, then /cancel; empty for a citizen."""
    mine = dispatcher.commands_for(caller)
    if not mine:
        return []
    own = [(c.name, c.help_vi if language == "vi" else c.help_en) for c in mine]
    return [*everyone_menu(language), *own, (CANCEL, admin_text(language, "help_cancel"))]


class MenuPublisher:
    """Sets the command menus through the bot (once the channel has one)."""

    def __init__(
        self,
        *,
        dispatcher: CommandDispatcher,
        access: AccessControl,
        roles: RoleStore,
        bot: Callable[[], Bot | None] = lambda: None,
    ) -> None:
        self.dispatcher = dispatcher
        self.access = access
        self.roles = roles
        self.bot = bot

    async def publish_all(self) -> int:
        """The default menu and every privileged chat's menu; returns chats published."""
        bot = self.bot()
        if bot is None:
            return 0
        try:
            for language in LANGUAGES:
                await bot.set_my_commands(
                    [BotCommand(n, d[:256]) for n, d in everyone_menu(language)],
                    scope=BotCommandScopeDefault(),
                    language_code=None if language == "vi" else language,
                )
        except TelegramError as exc:
            log.warning("setMyCommands (default) failed", extra={"error": str(exc)})
        chats = {g.chat_id for g in await self.roles.live_grants()}
        for external in sorted(self.access.admin_ids | self.access.inspector_ids):
            found = await self.roles.chat_id(self.access.channel, external)
            if found is not None:
                chats.add(found)
        for chat_id in sorted(chats):
            await self.refresh(chat_id)
        return len(chats)

    async def refresh_if_privileged(self, caller: Caller) -> None:
        """After a /start or /help: an admin or head chat (maybe new to the bot) gets its menu."""
        if caller.roles != {"everyone"}:
            await self.refresh(caller.chat_id)

    async def refresh(self, chat_id: int) -> None:
        """Set (or clear) one chat's own menu from its roles as of now; never raises."""
        bot = self.bot()
        if bot is None:
            return
        try:
            ref = await self.roles.chat_ref(chat_id)
            if ref is None or ref[0] != self.access.channel:
                return
            caller = await self.access.for_chat(
                chat_id=chat_id, channel=ref[0], external_id=ref[1], language=ref[2], name=ref[3]
            )
            scope = BotCommandScopeChat(int(ref[1]))
            for language in LANGUAGES:
                menu = chat_menu(self.dispatcher, caller, language)
                code = None if language == "vi" else language
                if menu:
                    await bot.set_my_commands(
                        [BotCommand(n, d[:256]) for n, d in menu], scope=scope, language_code=code
                    )
                else:
                    await bot.delete_my_commands(scope=scope, language_code=code)
        except (TelegramError, StorageError, ValueError) as exc:
            log.warning(
                "could not set a chat's menu", extra={"chat_id": chat_id, "error": str(exc)}
            )
