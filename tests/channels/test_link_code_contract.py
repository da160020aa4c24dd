"""Linking by the link code printed on the receipt, on every platform.

A citizen types the code in any form (or an adapter hands it over as a `LinkCode`): it links
the case and starts the survey when the case is at the survey status; a wrong code gets a
polite answer, and after five wrong codes in fifteen minutes one "please wait", then silence
until the window passes; a case another chat holds is refused; a free-text survey answer, an
open admin dialog and a head's owed note are never read as a code.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from bot.channels.inbound import LinkCode
from bot.onestop.links import format_link_code
from bot.texts import chat_text, head_text
from tests.channels.harness import Conversation
from tests.channels.steps import admin, answer_until, command, phone_asked, typed
from tests.channels.test_heads_contract import HEAD, head_and_citizen
from tests.support import dossier

CODE = "H12.22-261001-0001"
USER, OTHER = "7401", "7402"
WRONG = "ABCD-EFGH"  # one of 31^8: no case of these tests prints it
COMMENT = "có góp ý gì"  # the free-text question


def said(talk: Conversation, key: str, **params: object) -> str:
    return chat_text("vi", key, buttons=talk.channel.capabilities.buttons, **params)


async def query(talk: Conversation, sql: str) -> list[Any]:
    async with talk.services.engine.connect() as conn:
        return list((await conn.execute(text(sql))).all())


async def linked_chats(talk: Conversation) -> list[tuple[str, str]]:
    rows = await query(
        talk,
        "SELECT l.case_code, c.external_id FROM case_links l JOIN chats c ON c.id = l.chat_id "
        "ORDER BY l.case_code",
    )
    return [(str(case), str(user)) for case, user in rows]


async def test_a_code_in_any_form_links_the_case_and_starts_the_survey(
    talk: Conversation,
) -> None:
    forms = [
        lambda code: f"mã {format_link_code(code)} ạ",
        lambda code: code.lower(),
        lambda code: f"Mã hồ sơ: {code[:4].lower()} {code[4:]}",
    ]
    for number, form in enumerate(forms, start=1):
        case, user = f"H12.22-261001-000{number}", f"74{number:02d}"
        code = await talk.case_link_code(case, TrangThaiHoSo=10)
        answered = await typed(talk, user, form(code))
        assert any(case in t and "liên kết" in t for t in answered), answered
        assert "Câu 1/11" in talk.latest(user).text, answered
    # An adapter that read the code itself hands it over as such (elsewhere it is typed).
    code = await talk.case_link_code("H12.22-261001-0009", TrangThaiHoSo=2)
    if talk.channel.traits.hands_over_codes:
        await talk.send(LinkCode(talk.chat("7409"), code))
    else:
        await talk.say("7409", code)
    procedure = dossier()["TenTTHC"]
    assert talk.texts("7409") == [
        said(talk, "linked", code="H12.22-261001-0009", procedure=procedure)
    ]
    assert [user for _case, user in await linked_chats(talk)] == ["7401", "7402", "7403", "7409"]
    # The same code again: already linked here, and nothing more.
    assert await typed(talk, "7409", code) == [
        said(talk, "already_linked", code="H12.22-261001-0009")
    ]


async def test_a_wrong_code_gets_a_polite_answer(talk: Conversation) -> None:
    unknown = said(talk, "link_code_unknown")
    assert await typed(talk, USER, f"mã {WRONG}") == [unknown, *phone_asked(talk)]
    if talk.channel.traits.hands_over_codes:
        await talk.send(LinkCode(talk.chat(OTHER), "not a code"))
        assert talk.texts(OTHER) == [unknown]
    assert await linked_chats(talk) == []


async def test_wrong_codes_are_throttled_until_the_window_passes(talk: Conversation) -> None:
    code = await talk.case_link_code(CODE, TrangThaiHoSo=2)
    unknown = said(talk, "link_code_unknown")
    for attempt in range(5):
        # (Where an unlinked user's first text is followed by the phone request, once.)
        expected = [unknown, *phone_asked(talk)] if attempt == 0 else [unknown]
        assert await typed(talk, USER, WRONG) == expected
        talk.clock.advance(seconds=30)
    assert await typed(talk, USER, WRONG) == [said(talk, "link_code_wait", minutes=15)]
    talk.clock.advance(seconds=30)
    assert await typed(talk, USER, WRONG) == []
    assert await typed(talk, USER, code) == []  # not even looked up
    assert await linked_chats(talk) == []
    # Another chat is not throttled.
    assert await typed(talk, OTHER, WRONG) == [unknown, *phone_asked(talk)]
    # Fifteen minutes after the first wrong code, a try is free again.
    talk.clock.advance(minutes=12)
    answered = await typed(talk, USER, code)
    assert len(answered) == 1 and CODE in answered[0], answered
    assert await linked_chats(talk) == [(CODE, USER)]


async def test_a_code_linked_to_another_chat_is_refused(talk: Conversation) -> None:
    token = await talk.case(CODE, TrangThaiHoSo=2)
    await talk.start(OTHER, token)
    code = await talk.case_link_code(CODE, TrangThaiHoSo=2)
    assert await typed(talk, USER, code) == [said(talk, "link_taken"), *phone_asked(talk)]
    assert await linked_chats(talk) == [(CODE, OTHER)]


async def test_a_free_text_answer_holding_a_code_like_word_stays_an_answer(
    talk: Conversation,
) -> None:
    code = await talk.case_link_code(CODE, TrangThaiHoSo=10)
    await typed(talk, USER, code)
    await answer_until(talk, USER, COMMENT)
    assert await typed(talk, USER, "Cán bộ HUNGTHAN hướng dẫn rất tận tình") == [
        said(talk, "thanks")
    ]
    rows = await query(talk, "SELECT value_text FROM answers WHERE value_text IS NOT NULL")
    assert [row[0] for row in rows][-1] == "Cán bộ HUNGTHAN hướng dẫn rất tận tình"


async def test_an_open_dialog_is_not_hijacked(talk: Conversation) -> None:
    admin(talk, USER)
    (prompt,) = await command(talk, USER, "/q_edit")
    assert "Gửi mã câu hỏi" in prompt
    (again,) = await typed(talk, USER, "ABCDEFGH")
    assert "không có câu hỏi mã" in again and "ABCDEFGH" in again, again


async def test_a_heads_owed_note_is_not_read_as_a_code(
    request: pytest.FixtureRequest, talk: Conversation
) -> None:
    await head_and_citizen(talk, language="vi")
    await talk.complete_survey("7001", level=1)
    await talk.choose(HEAD, "Đã xử lý")
    (handled,) = await typed(talk, HEAD, "Đã gọi cho ông HUNGTHAN")
    alert_id = (await query(talk, "SELECT id FROM alerts"))[0][0]
    buttons = talk.channel.capabilities.buttons
    assert handled == head_text("vi", "handled", id=alert_id, buttons=buttons)
    rows = await query(talk, "SELECT note FROM alerts")
    assert [row[0] for row in rows] == ["Đã gọi cho ông HUNGTHAN"]
