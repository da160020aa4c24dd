"""Stop and start, a shared phone, media, a blocked chat, quiet hours, the reminder and expiry,
on every platform."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot.channels.inbound import Command, Media, SharedPhone
from bot.texts import chat_text
from storage.models import Chat
from tests.channels.harness import TZ, Conversation, conversation
from tests.channels.platforms import Platform
from tests.channels.test_survey_contract import CODE, USER, linked_with_survey

PHONE = "+84912345678"  # the applicant's phone in tests.support.dossier (0912345678)


def said(talk: Conversation, key: str, **params: object) -> str:
    return chat_text("vi", key, buttons=talk.channel.capabilities.buttons, **params)


async def test_stop_silences_the_chat_and_start_opts_back_in(talk: Conversation) -> None:
    await linked_with_survey(talk)
    await talk.send(Command(talk.chat(USER), "stop"))
    assert talk.texts(USER)[-1] == said(talk, "stopped")
    before = len(talk.inbox(USER))
    await talk.sweep()
    talk.clock.advance(hours=30)  # the reminder is due, but the chat opted out
    await talk.sweep()
    assert len(talk.inbox(USER)) == before
    await talk.start(USER)
    assert talk.texts(USER)[-1].startswith("Xin chào")


async def test_the_own_phone_links_every_case_filed_with_it(talk: Conversation) -> None:
    traits = talk.channel.traits
    if not traits.shares_phone:
        pytest.skip("this platform has no way to share a phone number (Zalo Bot Platform)")
    await talk.case(CODE, TrangThaiHoSo=2)
    await talk.case("H12.22-261001-0002", TrangThaiHoSo=2)
    if talk.channel.capabilities.asks_phone:
        await talk.start(USER)  # the welcome asks for the phone (on the Zalo OA: its form)
        assert talk.latest(USER).view.ask_phone
    if traits.shares_others_phone:  # a contact card of anyone (the OA's form: one's own)
        await talk.send(SharedPhone(talk.chat(USER), PHONE, own=False))
        assert talk.texts(USER)[-1] == said(talk, "contact_not_own")
    await talk.send(SharedPhone(talk.chat(USER), PHONE, own=True))
    linked = talk.texts(USER)[-1]
    assert CODE in linked and "H12.22-261001-0002" in linked
    if traits.phone_keyboard:
        assert talk.latest(USER).view.clear_keyboard  # the share-phone keyboard goes away


async def test_media_gets_a_pointer_that_fits_the_moment(talk: Conversation) -> None:
    await talk.send(Media(talk.chat(USER)))
    assert talk.texts(USER)[-1] == said(talk, "no_survey")
    await linked_with_survey(talk)
    await talk.send(Media(talk.chat(USER)))
    assert talk.texts(USER)[-1] == said(talk, "media")


async def test_nothing_more_goes_to_a_chat_that_blocked_us(talk: Conversation) -> None:
    await linked_with_survey(talk)
    before = len(talk.inbox(USER))
    await talk.block(USER)
    await talk.send(Command(talk.chat(USER), "help"))
    await talk.send(Command(talk.chat(USER), "help"))
    assert len(talk.inbox(USER)) == before
    async with talk.services.engine.connect() as conn:
        blocked = (await conn.execute(select(Chat.blocked_at))).scalars().all()  # type: ignore[call-overload]
    assert any(at is not None for at in blocked)


async def test_one_reminder_then_expiry(talk: Conversation) -> None:
    await linked_with_survey(talk)
    asked = len(talk.inbox(USER))
    talk.clock.advance(hours=25)
    assert await talk.sweep() == (0, 1)
    reminder = talk.latest(USER)
    assert CODE in reminder.text and len(talk.inbox(USER)) == asked + 1
    assert talk.options(reminder), "the reminder asks the open question again"
    talk.clock.advance(hours=1)
    assert await talk.sweep() == (0, 0), "one reminder only"
    talk.clock.advance(days=7)
    expired, _ = await talk.sweep()
    assert expired == 1
    await talk.say(USER, "4")
    assert talk.texts(USER)[-1] == said(talk, "no_survey")


async def test_an_invitation_waits_for_the_end_of_quiet_hours(
    migrated_url: str, channel: Platform
) -> None:
    async with conversation(migrated_url, channel, quiet_hours="21:00-07:00") as talk:
        talk.clock.moment = datetime(2026, 10, 5, 22, 0, tzinfo=TZ)
        token = await talk.case(CODE, TrangThaiHoSo=2)
        await talk.start(USER, token)
        linked = len(talk.inbox(USER))
        await talk.case(
            CODE, TrangThaiHoSo=10, ThoiDiemXuLy="20261005220000", NgayTra="20261005220000"
        )
        await talk.tick()
        assert len(talk.inbox(USER)) == linked, "nothing unprompted at night"
        talk.clock.moment = datetime(2026, 10, 6, 7, 1, tzinfo=TZ)
        await talk.settle()
        assert any(CODE in text and "1/" in text for text in talk.texts(USER)[linked:])
