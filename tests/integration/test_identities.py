"""Channel-qualified identities: people named in the environment and invitations, on any
channel (SIPAS_ADMINS / SIPAS_INSPECTORS; the bare Telegram ids keep working)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.services import Services, build_services
from storage.db import create_engine
from storage.models import Agency
from tests.conftest import make_settings

agencies_t = Agency.__table__  # type: ignore[attr-defined]


@pytest.fixture
async def services(migrated_url: str) -> AsyncIterator[Services]:
    engine = create_engine(migrated_url)
    settings = make_settings(
        migrated_url,
        admins=["zalo_oa:8491"],
        inspectors=["zalo_bot:77"],
        admin_telegram_ids=["7101"],
    )
    built = await build_services(settings, engine)
    async with engine.begin() as conn:
        await conn.execute(agencies_t.insert().values(code="A", name="Sở A", parent_code=None))
    yield built
    await built.close()
    await engine.dispose()


async def test_people_from_the_environment_hold_their_role_on_their_channel_only(
    services: Services,
) -> None:
    access = services.commands.access
    zalo_admin = await access.caller(channel="zalo_oa", external_id="8491", language="vi")
    assert zalo_admin.admin
    same_id_elsewhere = await access.caller(channel="telegram", external_id="8491", language="vi")
    assert not same_id_elsewhere.admin
    telegram_admin = await access.caller(channel="telegram", external_id="7101", language="vi")
    assert telegram_admin.admin
    inspector = await access.caller(channel="zalo_bot", external_id="77", language="vi")
    assert inspector.inspector and not inspector.admin
    assert access.env_role("admin", "zalo_oa", "8491")
    assert not access.env_role("admin", "zalo_bot", "77")


async def test_an_invitation_grants_a_role_on_any_channel(services: Services) -> None:
    access = services.commands.access
    person = await access.caller(channel="zalo_bot", external_id="5001", language="vi")
    assert not person.head_of
    assert services.linking.on_invite is not None
    await services.linking.on_invite(person.chat_id, await services.invites.invite("head", "A"))
    again = await access.caller(channel="zalo_bot", external_id="5001", language="vi")
    assert again.head_of == {"A"}
    revoked = await services.commands.roles.revoke(
        again.chat_id, "head", "A", now=services.clock.utcnow()
    )
    assert revoked
    after = await access.caller(channel="zalo_bot", external_id="5001", language="vi")
    assert not after.head_of
