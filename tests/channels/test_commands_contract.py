"""Everyone's commands (`/help`, `/status`, `/language`, unknown ones), the start payloads,
the comment's length limit and a press on an expired survey, on every platform."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.texts import LIKERT, chat_text
from storage.models import Survey
from tests.channels.harness import Conversation
from tests.channels.steps import answer_until, command, reply, typed
from tests.channels.test_survey_contract import CODE, USER, survey_status

PROCEDURE = "Cấp giấy chứng nhận đăng ký hộ kinh doanh"
OTHER, NEWCOMER = "7002", "7003"
SECOND, FOREIGN = "H12.22-261001-0002", "H12.22-261001-0003"
COMMENT = "có góp ý gì"


async def surveys(talk: Conversation) -> list[str]:
    async with talk.services.engine.connect() as conn:
        found = (await conn.execute(select(Survey.status))).scalars().all()  # type: ignore[call-overload]
    return [str(status) for status in found]


def said(talk: Conversation, key: str, **params: object) -> str:
    return chat_text("vi", key, buttons=talk.channel.capabilities.buttons, **params)


async def test_help_status_and_unknown_commands(talk: Conversation) -> None:
    await talk.start(USER, await talk.case(CODE, TrangThaiHoSo=4))
    await talk.start(USER, await talk.case(SECOND, TrangThaiHoSo=4, NgayTiepNhan="20261002083000"))
    await talk.start(OTHER, await talk.case(FOREIGN, TrangThaiHoSo=4))

    help_text = await reply(talk, USER, "/help")
    for name in ("/start", "/status", "/language", "/stop", "/help"):
        assert name in help_text

    listing = await reply(talk, USER, "/status")
    assert CODE in listing and SECOND in listing and FOREIGN not in listing

    status = await reply(talk, USER, f"/status {CODE}")
    assert SECOND not in status
    assert f"Hồ sơ {CODE}" in status and PROCEDURE in status
    assert "Trạng thái: Đang xử lý" in status and "Ngày hẹn trả: 08/10/2026" in status

    foreign = await reply(talk, USER, f"/status {FOREIGN}")
    assert foreign == said(talk, "status_not_linked", code=FOREIGN)
    assert "Trạng thái" not in foreign

    assert await reply(talk, NEWCOMER, "/status") == said(talk, "status_none_linked")
    assert await reply(talk, USER, "/foo") == help_text


async def test_language_switches_the_next_question(talk: Conversation) -> None:
    await talk.start(USER, await talk.case(CODE, TrangThaiHoSo=10))
    first = talk.latest(USER)
    assert "Câu 1/" in first.text  # asked in Vietnamese
    assert await reply(talk, USER, "/language xx") == chat_text("vi", "language_usage")
    assert await reply(talk, USER, "/language en") == chat_text("en", "language_set")
    # The question on screen is still the Vietnamese one: answer it.
    if talk.channel.capabilities.buttons:
        await talk.press(USER, first, LIKERT["vi"][4])
    else:
        await talk.say(USER, "5")
    second = talk.latest(USER)
    assert "Question 2/11" in second.text and "Câu" not in second.text
    assert "procedure: public posting" in second.text
    options = talk.options(second)
    for level, label in enumerate(LIKERT["en"]):
        assert label in options[level], options
    assert await reply(talk, USER, "/language vi") == chat_text("vi", "language_set")


async def test_start_payloads(talk: Conversation) -> None:
    token = await talk.case(CODE, TrangThaiHoSo=2)
    unknown = said(talk, "link_unknown")
    assert await reply(talk, USER, "/start AAAAAAAAAAAAAAAAAAAAAA") == unknown
    assert await reply(talk, USER, "/start không-phải-mã!") == unknown

    linked = await command(talk, USER, f"/start {token}")
    assert any(f"Đã liên kết hồ sơ {CODE}" in text for text in linked), linked
    assert await reply(talk, OTHER, f"/start {token}") == said(talk, "link_taken")
    again = await command(talk, USER, f"/start {token}")
    assert said(talk, "already_linked", code=CODE) in again
    assert await surveys(talk) == [], "linked, not yet invited"

    greeted = await reply(talk, NEWCOMER, "/start")
    assert greeted == said(talk, "welcome") and CODE not in greeted
    if talk.channel.capabilities.asks_phone:
        assert talk.latest(NEWCOMER).view.ask_phone, "the welcome offers to share the phone"


async def test_comment_length_limit_then_thanks(talk: Conversation) -> None:
    await talk.start(USER, await talk.case(CODE, TrangThaiHoSo=10))
    await answer_until(talk, USER, COMMENT)
    question = talk.latest(USER)
    assert "11/11" in question.text and "Bỏ qua" in " ".join(talk.options(question))

    assert await typed(talk, USER, "x" * 1001) == [chat_text("vi", "too_long")]
    assert await survey_status(talk) == "in_progress"

    comment = ("Cán bộ hướng dẫn tận tình, chu đáo. " * 40)[:1000].strip()
    comment += "ý" * (1000 - len(comment))
    assert await typed(talk, USER, comment) == [chat_text("vi", "thanks")]
    assert await survey_status(talk) == "completed"
    assert await typed(talk, USER, "5") == [said(talk, "no_survey")]


async def test_press_on_an_expired_survey_changes_nothing(talk: Conversation) -> None:
    if not talk.channel.capabilities.buttons:
        pytest.skip(
            "no button to press on a channel without buttons; a typed answer after "
            "expiry is test_conversation_contract::test_one_reminder_then_expiry"
        )
    await talk.start(USER, await talk.case(CODE, TrangThaiHoSo=10))
    first = talk.latest(USER)
    old = next(c.action for c in first.view.flat_choices() if LIKERT["vi"][2] in c.label)
    await talk.choose(USER, LIKERT["vi"][2])
    second = talk.latest(USER)
    talk.clock.advance(days=8)
    expired, _ = await talk.sweep()
    assert expired == 1
    sent = len(talk.inbox(USER))

    # Each press is answered by its notice alone (on the button, or as a message where the
    # platform has no notices on buttons), and nothing else comes.
    closed = chat_text("vi", "survey_closed")
    assert await talk.answer(USER, second, LIKERT["vi"][4]) == [closed]
    read = await talk.tap(USER, old, first.message_id)
    assert read in ([closed], [chat_text("vi", "already_answered")])
    notices = 0 if talk.channel.capabilities.press_notices else 2
    assert len(talk.inbox(USER)) == sent + notices
    assert second.edits == 0 and len(second.labels()) >= 5
    assert await survey_status(talk) == "expired"
