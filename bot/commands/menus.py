"""Per-scope command menus: citizens never see admin or head commands.

The default scope lists only everyone's commands; each admin, head or inspector chat gets its
own list with everyone's commands plus its roles' commands, in Vietnamese and English. Menus
are published at start and refreshed for one chat whenever its roles change (invite redeemed,
grant revoked), on every channel that has command menus (`MenuPort`, e.g.
`bot.telegram.menus.TelegramMenus`), which the channel attaches when it starts.
"""

from __future__ import annotations

import logging
from typing import Protocol

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


class MenuPort(Protocol):
    """A channel's command menus (its errors are logged, never raised)."""

    channel: str

    def ready(self) -> bool: ...

    async def set_default(self, language: str, menu: list[tuple[str, str]]) -> None: ...

    async def set_chat(
        self, external_id: str, language: str, menu: list[tuple[str, str]]
    ) -> None: ...


class MenuPublisher:
    """Sets the command menus on the channels that have them."""

    def __init__(
        self, *, dispatcher: CommandDispatcher, access: AccessControl, roles: RoleStore
    ) -> None:
        self.dispatcher = dispatcher
        self.access = access
        self.roles = roles
        self._ports: dict[str, MenuPort] = {}

    def attach(self, port: MenuPort) -> None:
        """A channel with command menus is up: publish there from now on."""
        self._ports[port.channel] = port

    async def publish_all(self) -> int:
        """The default menu and every privileged chat's menu; returns chats published."""
        ports = [port for port in self._ports.values() if port.ready()]
        if not ports:
            return 0
        for port in ports:
            for language in LANGUAGES:
                await port.set_default(language, everyone_menu(language))
        chats = {g.chat_id for g in await self.roles.live_grants()}
        for channel, external in sorted(self.access.bootstrap_people()):
            found = await self.roles.chat_id(channel, external)
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
        try:
            ref = await self.roles.chat_ref(chat_id)
            port = None if ref is None else self._ports.get(ref[0])
            if ref is None or port is None or not port.ready():
                return
            caller = await self.access.for_chat(
                chat_id=chat_id, channel=ref[0], external_id=ref[1], language=ref[2], name=ref[3]
            )
            for language in LANGUAGES:
                await port.set_chat(ref[1], language, chat_menu(self.dispatcher, caller, language))
        except (StorageError, ValueError) as exc:
            log.warning(
                "could not set a chat's menu", extra={"chat_id": chat_id, "error": str(exc)}
            )
