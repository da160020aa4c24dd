"""Command menus per scope through the fake Bot API: the default menu has everyone's commands
only; an admin's and a head's chats get theirs (vi and en); a revocation clears the menu."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.services import Services, build_services
from bot.telegram.menus import TelegramMenus
from storage.db import create_engine
from storage.models import Agency
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeTelegram

agencies_t = Agency.__table__  # type: ignore[attr-defined]
ADMIN, HEAD, CITIZEN, NEVER_WROTE = 7101, 7201, 7301, 7401
EVERYONE = ["start", "status", "language", "stop", "help"]


@pytest.fixture
async def wired(migrated_url: str) -> AsyncIterator[tuple[Services, FakeTelegram]]:
    fake = FakeTelegram()
    await fake.start()
    engine = create_engine(migrated_url)
    settings = make_settings(migrated_url, admin_telegram_ids=[str(ADMIN), str(NEVER_WROTE)])
    services = await build_services(settings, engine)
    async with engine.begin() as conn:
        await conn.execute(agencies_t.insert().values(code="A", name="Sở A", parent_code=None))
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        services.commands.menus.attach(TelegramMenus(lambda: bot))
        yield services, fake
    await services.close()
    await engine.dispose()
    await fake.stop()


def names(fake: FakeTelegram, scope: str, language: str = "") -> list[str]:
    return [c["command"] for c in fake.commands(scope, language)]


async def test_menus_per_scope_follow_grants_and_revocations(
    wired: tuple[Services, FakeTelegram],
) -> None:
    services, fake = wired
    access = services.commands.access
    for user in (ADMIN, HEAD, CITIZEN):
        fake.user_sends_text(user, "/start")  # the chats exist for Telegram
        await access.caller(channel="telegram", external_id=str(user), language="vi")
    head = await access.caller(channel="telegram", external_id=str(HEAD), language="vi")
    await services.linking.on_invite(head.chat_id, await services.invites.invite("head", "A"))  # type: ignore[misc]

    assert await services.commands.menus.publish_all() >= 2
    assert names(fake, "default") == EVERYONE
    assert names(fake, "default", "en") == EVERYONE
    admin_menu = names(fake, f"chat:{ADMIN}")
    assert admin_menu[:5] == EVERYONE
    assert {"invite", "thuhoi", "coquan", "caidat", "audit", "cancel"} <= set(admin_menu)
    english = {c["command"]: c["description"] for c in fake.commands(f"chat:{ADMIN}", "en")}
    vietnamese = {c["command"]: c["description"] for c in fake.commands(f"chat:{ADMIN}")}
    assert english["invite"].startswith("Invite") and vietnamese["invite"].startswith("Mời")
    head_menu = names(fake, f"chat:{HEAD}")
    assert "report" in head_menu and "invite" not in head_menu and "audit" not in head_menu
    assert names(fake, f"chat:{CITIZEN}") == []
    assert names(fake, f"chat:{NEVER_WROTE}") == []  # Telegram refuses unknown chats: no crash

    assert await services.commands.roles.revoke(
        head.chat_id, "head", "A", now=services.clock.utcnow()
    )
    await services.commands.menus.refresh(head.chat_id)
    assert names(fake, f"chat:{HEAD}") == []
    assert names(fake, f"chat:{HEAD}", "en") == []
