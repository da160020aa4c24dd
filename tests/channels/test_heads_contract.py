"""Heads' alerts and their buttons, in-process, on both reference channels."""

from __future__ import annotations

import pytest

from bot.texts import head_text
from tests.channels.harness import Conversation
from tests.channels.test_survey_contract import CODE, USER
from tests.support import dossier

AGENCY = dossier()["MaCoQuan"]
HEAD = "9001"


async def head_and_citizen(talk: Conversation, *, language: str) -> None:
    """The case arrives (its agency with it), a head of the agency joins, the citizen links."""
    token = await talk.case(CODE, TrangThaiHoSo=10)
    invite = await talk.services.alerts.invite("head", AGENCY)
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


async def test_no_alert_for_a_good_survey(talk: Conversation) -> None:
    await head_and_citizen(talk, language="vi")
    before = len(talk.inbox(HEAD))
    await talk.complete_survey(USER, level=5)
    assert len(talk.inbox(HEAD)) == before


async def test_alert_buttons_close_the_loop_with_the_citizen(talk: Conversation) -> None:
    if not talk.channel.capabilities.buttons:
        pytest.skip("alert and follow-up options are typed on channels without buttons (next)")
    await head_and_citizen(talk, language="en")
    await talk.complete_survey(USER, level=1, money=True)
    alert = talk.latest(HEAD)
    ack, done = talk.options(alert)
    assert await talk.press(HEAD, alert, ack) == head_text("en", "acked")
    assert await talk.press(HEAD, alert, done) is None
    alert_id = int(alert.text.rsplit("#", 1)[1])
    assert talk.texts(HEAD)[-1] == head_text("en", "ask_note", id=alert_id)
    await talk.say(HEAD, "Called the citizen; the fee was refunded.")
    assert talk.texts(HEAD)[-1] == head_text("en", "handled", id=alert_id)
    follow_up = talk.latest(USER)
    assert CODE in follow_up.text and talk.options(follow_up) == ["Có", "Không"]
    assert await talk.press(USER, follow_up, "Có") == head_text("vi", "follow_up_thanks")
    assert follow_up.labels() == [], "the answered follow-up keeps no buttons"
