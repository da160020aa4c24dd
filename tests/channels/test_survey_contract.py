"""The survey conversation, on every platform.

Every scenario runs on a channel with buttons and edits, on one with neither (numbered options,
typed numbers), and through the real Zalo OA (buttons, no edits) and Zalo Bot (no buttons)
adapters, with the real router, survey service and outbox dispatcher.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.texts import LIKERT, chat_text
from storage.models import Answer, Survey
from tests.channels.harness import Conversation
from tests.channels.steps import phone_asked

CODE = "H12.22-261001-0001"
USER = "7001"


async def survey_status(talk: Conversation) -> str:
    async with talk.services.engine.connect() as conn:
        statuses = (await conn.execute(select(Survey.status))).scalars().all()  # type: ignore[call-overload]
    assert len(statuses) == 1
    return str(statuses[0])


async def linked_with_survey(talk: Conversation) -> None:
    token = await talk.case(CODE, TrangThaiHoSo=10)
    await talk.start(USER, token)


async def test_start_token_links_the_case_and_asks_the_first_question(talk: Conversation) -> None:
    await linked_with_survey(talk)
    texts = talk.texts(USER)
    assert any(CODE in text and "liên kết" in text for text in texts[:-1]), texts
    first = talk.latest(USER)
    assert "1/" in first.text
    options = talk.options(first)
    for level, label in enumerate(LIKERT["vi"]):
        assert label in options[level], options


async def test_buttonless_channel_gets_numbered_options(talk: Conversation) -> None:
    await linked_with_survey(talk)
    first = talk.latest(USER)
    if talk.channel.capabilities.buttons:
        assert first.labels() and "1. " not in first.text.split("\n")[-1]
    else:
        assert first.labels() == []
        assert [line for line in first.text.split("\n") if line[:2] == "1."] == [
            f"1. {LIKERT['vi'][0]}"
        ]


async def test_a_typed_answer_counts_and_moves_on(talk: Conversation) -> None:
    await linked_with_survey(talk)
    prompt = talk.latest(USER)
    await talk.say(USER, "4")
    following = talk.latest(USER)
    assert following is not prompt and "2/" in following.text
    if talk.channel.capabilities.edits_in_place:
        assert prompt.labels() == [], "the answered prompt keeps no buttons"
    await talk.say(USER, "không phải số")  # a likert question refuses free text
    assert talk.latest(USER).text == chat_text(
        "vi", "use_buttons", buttons=talk.channel.capabilities.buttons
    )


async def test_a_low_score_branches_to_why(talk: Conversation) -> None:
    await linked_with_survey(talk)
    await talk.choose(USER, LIKERT["vi"][0])
    why = talk.latest(USER)
    assert "Điều gì khiến" in why.text
    assert "Bỏ qua" in " ".join(talk.options(why))


async def test_a_good_score_skips_why(talk: Conversation) -> None:
    await linked_with_survey(talk)
    await talk.choose(USER, LIKERT["vi"][3])
    assert "Điều gì khiến" not in talk.latest(USER).text


async def test_double_press_records_once(talk: Conversation) -> None:
    if not talk.channel.capabilities.buttons:
        await double_typed_answer_records_once(talk)
        return
    await linked_with_survey(talk)
    first = talk.latest(USER)
    stale = first.view.flat_choices()[4].action  # still on the user's screen for a moment
    await talk.press(USER, first, LIKERT["vi"][3])
    # The notice shows on the button, or comes as a message (a Zalo OA tap is a message).
    read = await talk.tap(USER, stale, first.message_id)
    assert read == [chat_text("vi", "already_answered")], "no second question for a second press"
    if talk.channel.capabilities.edits_in_place:
        assert LIKERT["vi"][3] in first.text and first.labels() == []
    async with talk.services.engine.connect() as conn:
        levels = (await conn.execute(select(Answer.value_int))).scalars().all()  # type: ignore[call-overload]
    assert levels == [4]


async def double_typed_answer_records_once(talk: Conversation) -> None:
    """Without buttons a double press is two numbers typed before the next question arrives:
    both mean the question on screen, so the second is "already answered"."""
    await linked_with_survey(talk)
    asked = len(talk.inbox(USER))
    await talk.type_quickly(USER, "4", "5")
    came = talk.texts(USER)[asked:]
    assert came[0] == chat_text("vi", "already_answered"), came
    assert len(came) == 2 and "2/" in came[1], "one next question, not two"
    async with talk.services.engine.connect() as conn:
        levels = (await conn.execute(select(Answer.value_int))).scalars().all()  # type: ignore[call-overload]
    assert levels == [4]


async def test_stray_text_without_a_survey_gets_a_pointer(talk: Conversation) -> None:
    await talk.say(USER, "xin chào")
    assert talk.texts(USER) == [
        chat_text("vi", "no_survey", buttons=talk.channel.capabilities.buttons),
        *phone_asked(talk),
    ]


async def test_the_whole_survey_completes(talk: Conversation) -> None:
    await linked_with_survey(talk)
    await talk.complete_survey(USER)
    assert talk.texts(USER)[-1] == chat_text("vi", "thanks")
    assert await survey_status(talk) == "completed"
