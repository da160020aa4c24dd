"""Typed numbers for every choice, on the platforms without buttons (the reference channel
and the Zalo Bot).

Every message with choices reaches such a chat as numbered lines; the latest one's numbers are
the chat's pending choices (kept in the database), and a typed number is the press of its
option: a survey answer, an alert's buttons, a complaint's follow-up, a command's buttons.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text

from bot.channels.inbound import Command
from bot.texts import LIKERT, chat_text, head_text
from storage.models import Answer
from tests.channels.catalog import BUTTONLESS, platform
from tests.channels.harness import Conversation, conversation
from tests.channels.platforms import Platform
from tests.channels.test_heads_contract import HEAD, head_and_citizen
from tests.channels.test_survey_contract import CODE, USER, linked_with_survey

EXPECT = "cần cải thiện điều gì nhất"  # the multi-choice question (two of eight, then "Xong")


@pytest.fixture(params=BUTTONLESS)
async def channel(request: pytest.FixtureRequest) -> AsyncIterator[Platform]:
    """Only the platforms without buttons (the conftest's runs them all)."""
    async with platform(request.param) as found:
        yield found


def typed(key: str, **params: object) -> str:
    return chat_text("vi", key, buttons=False, **params)


async def said(talk: Conversation, user: str, message: str) -> list[str]:
    """Type `message`; the texts that came back."""
    before = len(talk.inbox(user))
    await talk.say(user, message)
    return talk.texts(user)[before:]


async def query(talk: Conversation, sql: str) -> list[tuple[object, ...]]:
    async with talk.services.engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(text(sql))).all()]


async def picked(talk: Conversation, code: str) -> list[list[str]]:
    """The options recorded for question `code`."""
    stmt = select(Answer.choices).where(Answer.question_code == code)  # type: ignore[call-overload]
    async with talk.services.engine.connect() as conn:
        return [list(choices) for choices in (await conn.execute(stmt)).scalars().all()]


async def until_asked(talk: Conversation, needle: str) -> None:
    """Answer "Hài lòng" and "Không" until the question containing `needle` is asked."""
    for _ in range(30):
        shown = talk.latest(USER)
        if needle in shown.text:
            return
        options = talk.options(shown)
        await talk.choose(USER, LIKERT["vi"][3] if len(options) == 5 else "Không")
    raise AssertionError(f"{needle!r} was never asked")


async def test_an_alert_is_acknowledged_and_handled_by_typing_its_numbers(
    talk: Conversation,
) -> None:
    await head_and_citizen(talk, language="vi")
    await talk.complete_survey(USER, level=1)
    alert = talk.latest(HEAD)
    assert talk.options(alert) == ["Đã tiếp nhận", "Đã xử lý"], alert.text
    assert await said(talk, HEAD, "1") == [head_text("vi", "acked", buttons=False)]
    assert await said(talk, HEAD, "1") == [head_text("vi", "already_acked", buttons=False)]
    (asked,) = await said(talk, HEAD, "2")
    alert_id = int(alert.text.rsplit("#", 1)[1].split()[0])
    assert asked == head_text("vi", "ask_note", id=alert_id, buttons=False)
    (handled,) = await said(talk, HEAD, "Đã gọi điện cho người dân.")
    assert handled == head_text("vi", "handled", id=alert_id, buttons=False)
    rows = await query(talk, "SELECT acknowledged_at IS NOT NULL, note FROM alerts")
    assert [(bool(acked), note) for acked, note in rows] == [(True, "Đã gọi điện cho người dân.")]


async def test_the_complaint_follow_up_is_answered_by_number(talk: Conversation) -> None:
    await head_and_citizen(talk, language="vi")
    await talk.complete_survey(USER, level=1, money=True)
    await said(talk, HEAD, "2")
    await said(talk, HEAD, "Đã hoàn trả khoản thu sai.")
    follow_up = talk.latest(USER)
    assert CODE in follow_up.text and talk.options(follow_up) == ["Có", "Không"]
    assert await said(talk, USER, "2") == [head_text("vi", "follow_up_thanks", buttons=False)]
    assert await said(talk, USER, "1") == [typed("already_answered")], "answered once"
    rows = await query(talk, "SELECT citizen_satisfied FROM alerts")
    assert [(bool(satisfied),) for (satisfied,) in rows] == [(False,)]


async def test_a_head_command_message_with_choices_is_answered_by_number(
    talk: Conversation,
) -> None:
    await head_and_citizen(talk, language="vi")
    await talk.complete_survey(USER, level=1)
    await talk.send(Command(talk.chat(HEAD), "alerts"))
    listed = talk.latest(HEAD)
    assert talk.options(listed) == ["Đã tiếp nhận", "Đã xử lý"]
    assert listed.view.choices == [], "numbered lines, no buttons"
    assert await said(talk, HEAD, "1") == [head_text("vi", "acked", buttons=False)]
    rows = await query(talk, "SELECT acknowledged_at IS NOT NULL FROM alerts")
    assert [bool(acked) for (acked,) in rows] == [True]


async def test_multi_choice_picks_are_confirmed_then_finished(talk: Conversation) -> None:
    await linked_with_survey(talk)
    await until_asked(talk, EXPECT)
    question = talk.latest(USER)
    options = talk.options(question)
    assert len(options) == 9 and "Xong" in options[-1], options
    first, third = options[0], options[2]

    assert await said(talk, USER, "1") == [typed("picks", picks=first)]
    assert await said(talk, USER, "1") == [typed("picks_none")], "typed again: unpicked"
    assert await said(talk, USER, "Xong") == [typed("pick_one")], "nothing picked yet"
    assert await said(talk, USER, "10") == [typed("pick_range", count=9)]
    (following,) = await said(talk, USER, "1, 3")  # two of two: the question is answered
    assert "góp ý" in following, following
    assert await picked(talk, "EXPECT") == [["E1", "E3"]], (first, third)


async def test_xong_or_the_number_of_done_finishes_a_multi_choice(talk: Conversation) -> None:
    await linked_with_survey(talk)
    await until_asked(talk, EXPECT)
    second = talk.options(talk.latest(USER))[1]
    assert await said(talk, USER, "2") == [typed("picks", picks=second)]
    (following,) = await said(talk, USER, "9")  # "Xong" is option 9
    assert "góp ý" in following
    assert await picked(talk, "EXPECT") == [["E2"]]


async def test_the_word_xong_finishes_a_multi_choice(talk: Conversation) -> None:
    await linked_with_survey(talk)
    await until_asked(talk, EXPECT)
    await said(talk, USER, "8")
    (following,) = await said(talk, USER, "Xong")
    assert "góp ý" in following
    assert await picked(talk, "EXPECT") == [["E8"]]


async def test_numbers_outside_the_options_are_asked_again(talk: Conversation) -> None:
    await linked_with_survey(talk)
    assert await said(talk, USER, "6") == [typed("pick_range", count=5)]
    assert await said(talk, USER, "0") == [typed("pick_range", count=5)]
    assert await said(talk, USER, "1, 3") == [typed("pick_range", count=5)], "one answer only"
    assert await query(talk, "SELECT count(*) FROM answers") == [(0,)]
    (following,) = await said(talk, USER, "4")
    assert "2/" in following


async def test_a_free_text_question_takes_a_number_as_its_answer(talk: Conversation) -> None:
    await linked_with_survey(talk)
    await until_asked(talk, EXPECT)
    await said(talk, USER, "1, 2")
    assert "góp ý" in talk.latest(USER).text
    assert await said(talk, USER, "12") == [typed("thanks")]
    rows = await query(talk, "SELECT value_text FROM answers WHERE question_code = 'COMMENT'")
    assert rows == [("12",)]


async def test_the_numbers_mean_the_same_after_a_restart(
    migrated_url: str, channel: Platform
) -> None:
    async with conversation(migrated_url, channel) as before:
        await linked_with_survey(before)
        asked = len(before.inbox(USER))
    # A new process (services, router, reply queue, dispatcher) on the same database.
    async with conversation(migrated_url, channel) as after:
        assert await query(after, "SELECT count(*) FROM chat_choices") == [(1,)]
        await after.say(USER, "4")
        came = after.texts(USER)[asked:]
        assert len(came) == 1 and "2/" in came[0], came
        assert await query(after, "SELECT value_int FROM answers") == [(4,)]
