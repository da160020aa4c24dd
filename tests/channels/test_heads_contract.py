"""Heads' alerts and their buttons, on every platform."""

from __future__ import annotations

import pytest

from bot.channels.inbound import Command
from bot.commands.head_texts import report_text
from bot.texts import head_text
from tests.channels.harness import Conversation
from tests.channels.test_survey_contract import CODE, USER
from tests.support import dossier

AGENCY = dossier()["MaCoQuan"]
HEAD = "9001"


async def head_and_citizen(talk: Conversation, *, language: str) -> None:
    """The case arrives (its agency with it), a head of the agency joins, the citizen links."""
    token = await talk.case(CODE, TrangThaiHoSo=10)
    invite = await talk.services.invites.invite("head", AGENCY)
    await talk.send_start(HEAD, invite, language=language)
    await talk.start(USER, token)


async def test_a_low_score_alerts_the_head_in_their_language(talk: Conversation) -> None:
    await head_and_citizen(talk, language="en")
    await talk.complete_survey(USER, level=1)
    alert = talk.latest(HEAD)
    assert CODE in alert.text
    assert "Very dissatisfied" in alert.text, alert.text
    assert "Rất không hài lòng" not in alert.text
    assert "Mức độ hài lòng" not in alert.text  # the question reads in English too
    assert len(talk.options(alert)) == 2  # acknowledged / handled


async def test_a_vietnamese_head_reads_the_alert_in_vietnamese(talk: Conversation) -> None:
    await head_and_citizen(talk, language="vi")
    await talk.complete_survey(USER, level=1)
    alert = talk.latest(HEAD)
    assert CODE in alert.text and "Rất không hài lòng" in alert.text


async def test_an_english_head_reads_alerts_in_english(talk: Conversation) -> None:
    await head_and_citizen(talk, language="en")
    await talk.complete_survey(USER, level=1)
    pushed = talk.latest(HEAD)
    await talk.send(Command(talk.chat(HEAD), "alerts"))
    listed = talk.latest(HEAD)
    assert listed is not pushed
    assert report_text("en", "alerts_title", count=1) in listed.text
    assert "Very dissatisfied" in listed.text, listed.text
    assert "Rất không hài lòng" not in listed.text
    assert "Mức độ hài lòng" not in listed.text  # the question reads in English too
    assert pushed.text in listed.text  # the same alert as the one pushed
    assert talk.options(listed) == talk.options(pushed)


async def test_a_vietnamese_head_reads_alerts_in_vietnamese(talk: Conversation) -> None:
    await head_and_citizen(talk, language="vi")
    await talk.complete_survey(USER, level=1)
    await talk.send(Command(talk.chat(HEAD), "alerts"))
    listed = talk.latest(HEAD)
    assert report_text("vi", "alerts_title", count=1) in listed.text
    assert "Rất không hài lòng" in listed.text and "Very dissatisfied" not in listed.text


async def test_no_alert_for_a_good_survey(talk: Conversation) -> None:
    await head_and_citizen(talk, language="vi")
    before = len(talk.inbox(HEAD))
    await talk.complete_survey(USER, level=5)
    assert len(talk.inbox(HEAD)) == before


async def test_alert_buttons_close_the_loop_with_the_citizen(
    request: pytest.FixtureRequest, talk: Conversation
) -> None:
    """Pressed on a channel with buttons, typed as numbers on one without."""
    buttons = talk.channel.capabilities.buttons
    await head_and_citizen(talk, language="en")
    await talk.complete_survey(USER, level=1, money=True)
    alert = talk.latest(HEAD)
    ack, done = talk.options(alert)
    assert await talk.answer(HEAD, alert, ack) == [head_text("en", "acked", buttons=buttons)]
    alert_id = int(alert.text.rsplit("#", 1)[1].split()[0])
    asked = head_text("en", "ask_note", id=alert_id, buttons=buttons)
    assert await talk.answer(HEAD, alert, done) == [asked]
    await talk.say(HEAD, "Called the citizen; the fee was refunded.")
    assert talk.texts(HEAD)[-1] == head_text("en", "handled", id=alert_id, buttons=buttons)
    follow_up = talk.latest(USER)
    assert CODE in follow_up.text and talk.options(follow_up) == ["Có", "Không"]
    thanks = head_text("vi", "follow_up_thanks", buttons=buttons)
    assert await talk.answer(USER, follow_up, "Có") == [thanks]
    if talk.channel.capabilities.edits_in_place or not buttons:
        assert follow_up.labels() == [], "the answered follow-up keeps no buttons"
