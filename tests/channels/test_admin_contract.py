"""The admin dialogs on every platform: the questionnaire editor (edit in one line and step by
step, preview without recording, publish; a survey started before the publish finishes on
version 1, one started after gets version 2) and roles (an invite works once, revocation on the
next message, polite audited refusals, a setting changed by chat, the command flood warning)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from bot.texts import LIKERT, chat_text
from tests.channels.harness import Conversation, conversation
from tests.channels.platforms import Platform
from tests.channels.steps import admin, command, reply, typed
from tests.support import dossier

ADMIN, HEAD, OTHER, CITIZEN, LATER = "8801", "8802", "8803", "8811", "8812"
AGENCY = dossier()["MaCoQuan"]
REFUSED = "Xin lỗi, bạn không dùng được lệnh này."
OLD_F1 = "về việc tiếp cận dịch vụ"
OLD_F2 = "về thủ tục hành chính: niêm yết"
NEW_F1 = "Ông/Bà tìm thông tin và đến nơi làm thủ tục có dễ dàng không?"
NEW_F2 = "Hồ sơ, giấy tờ và lệ phí có đúng như niêm yết công khai không?"
F1_WHY = "chưa hài lòng về việc tiếp cận dịch vụ"
# An invitation payload is "i" + 22 characters of A-Za-z0-9_- (it may end in "-" or "_", where
# a word boundary would cut it short).
_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])(i[A-Za-z0-9_-]{22})(?![A-Za-z0-9_-])")


async def query(talk: Conversation, statement: str) -> list[Any]:
    async with talk.services.engine.connect() as conn:
        return list((await conn.execute(text(statement))).all())


async def invited(talk: Conversation, user: str, code: str) -> str:
    """Case `code` is returned and `user` links it: the survey's first question."""
    await talk.start(user, await talk.case(code, TrangThaiHoSo=10))
    first = talk.latest(user)
    assert "Câu 1/11" in first.text, first.text
    return first.text


QUESTION_LINE = re.compile(r"^Câu \d+/\d+:", re.MULTILINE)


async def questions_asked(talk: Conversation, user: str) -> list[str]:
    """Answer the open survey to its end; the texts of the questions asked."""
    start = len(talk.inbox(user)) - 1
    await talk.complete_survey(user, level=5)
    return [t for t in talk.texts(user)[start:] if QUESTION_LINE.search(t)]


async def edit_f1_and_f2(talk: Conversation) -> None:
    """The admin edits F1 in one line (the draft is created from the active version) and F2
    step by step (bad input is answered and asked again; the text is taken at the end)."""
    edited = await reply(talk, ADMIN, f"/q_edit F1 {NEW_F1}")
    assert "Đã sửa câu F1" in edited and NEW_F1 in edited
    (prompt,) = await command(talk, ADMIN, "/q_edit")
    assert "Gửi mã câu hỏi" in prompt and "F2" in prompt
    (again,) = await typed(talk, ADMIN, "F9")
    assert "không có câu hỏi mã “F9”" in again and "/cancel" in again
    (current,) = await typed(talk, ADMIN, "F2")
    assert OLD_F2 in current and "nội dung tiếng Việt mới" in current
    (done,) = await typed(talk, ADMIN, NEW_F2)
    assert "Đã sửa câu F2" in done
    listing = "\n".join(await command(talk, ADMIN, "/cauhoi"))
    assert "Bản nháp" in listing and "✏️ Sửa: F1, F2" in listing


async def test_admin_edits_and_publishes_surveys_keep_their_version(talk: Conversation) -> None:
    admin(talk, ADMIN)
    assert OLD_F1 in await invited(talk, CITIZEN, "HS-QV1")  # version 1
    await edit_f1_and_f2(talk)
    assert await reply(talk, OTHER, "/publish") == REFUSED  # a citizen may not publish

    assert "Đã ban hành phiên bản số 2" in await reply(talk, ADMIN, "/publish")

    # The survey started before the publish finishes on version 1 …
    asked = await questions_asked(talk, CITIZEN)
    assert len(asked) == 11 and OLD_F2 in asked[1], asked
    assert not any(NEW_F1 in q or NEW_F2 in q for q in asked)
    # … one started after it gets the new texts.
    assert NEW_F1 in await invited(talk, LATER, "HS-QV2")
    await talk.choose(LATER, LIKERT["vi"][4])
    assert NEW_F2 in talk.latest(LATER).text
    versions = await query(
        talk, "SELECT case_code, questionnaire_version FROM surveys ORDER BY case_code"
    )
    assert versions == [("HS-QV1", 1), ("HS-QV2", 2)]

    # Nothing left to publish; the audit log has the edits.
    assert "Chưa có bản nháp" in await reply(talk, ADMIN, "/publish")
    audit = await reply(talk, ADMIN, "/audit")
    assert "questionnaire.publish version:2" in audit
    assert "questionnaire.edit draft:F2" in audit and "questionnaire.edit draft:F1" in audit


async def test_preview_shows_the_draft_as_a_citizen_sees_it_and_records_nothing(
    talk: Conversation,
) -> None:
    admin(talk, ADMIN)
    await invited(talk, CITIZEN, "HS-QV1")
    await edit_f1_and_f2(talk)
    (first,) = await command(talk, ADMIN, "/preview")
    assert "XEM THỬ" in first and f"Câu 1/11: {NEW_F1}" in first
    preview = talk.latest(ADMIN)
    options = talk.options(preview)
    for level, label in enumerate(LIKERT["vi"]):
        assert label in options[level], options
    await talk.choose(ADMIN, LIKERT["vi"][1])
    why = talk.latest(ADMIN)
    assert F1_WHY in why.text and "Câu 2/12" in why.text
    assert "Bỏ qua" in " ".join(talk.options(why))
    if talk.channel.capabilities.edits_in_place:
        assert preview.text.endswith("✔ Không hài lòng") and preview.labels() == []
    # Where the options are numbered lines (no buttons, or more options than a message's
    # buttons carry), the skip's number is typed, as a citizen would.
    await talk.choose(ADMIN, "Bỏ qua")
    assert f"Câu 3/12: {NEW_F2}" in talk.latest(ADMIN).text
    (third,) = await typed(talk, ADMIN, "4")  # typed, as a citizen may
    assert "Câu 4/12" in third and "thái độ" in third
    assert await query(talk, "SELECT case_code FROM surveys") == [("HS-QV1",)]
    assert await query(talk, "SELECT count(*) FROM answers") == [(0,)]
    await command(talk, ADMIN, "/cancel")
    assert "Bản nháp" in "\n".join(await command(talk, ADMIN, "/cauhoi")), "the draft stays"


async def test_invite_once_revocation_refusals_and_a_setting(talk: Conversation) -> None:
    admin(talk, ADMIN)
    await talk.case("HS-R1")  # the agency exists
    await talk.start(ADMIN)

    invite = await reply(talk, ADMIN, f"/invite head {AGENCY}")
    assert "dùng một lần" in invite and "Trung tâm Phục vụ hành chính công tỉnh" in invite
    found = _TOKEN.search(invite)
    assert found, invite
    assert "Không có cơ quan mã KHONG.CO" in await reply(talk, ADMIN, "/invite head KHONG.CO")

    (welcome,) = await command(talk, HEAD, f"/start {found.group(1)}")
    assert "thủ trưởng" in welcome
    (used,) = await command(talk, OTHER, f"/start {found.group(1)}")
    assert "đã được sử dụng" in used

    # A head (or a citizen) trying an admin command gets a polite refusal; nothing leaks.
    refusal = await reply(talk, HEAD, "/invite admin")
    assert refusal == REFUSED and AGENCY not in refusal
    assert await reply(talk, CITIZEN, "/coquan") == REFUSED

    # Revocation applies to the head's very next message.
    assert "Đã thu hồi" in await reply(talk, ADMIN, f"/thuhoi head {AGENCY} {HEAD}")
    assert await reply(talk, HEAD, "/late") == REFUSED

    log = await reply(talk, ADMIN, "/audit")
    assert "Nhật ký thay đổi" in log
    for needle in ("revoke", "grant", "invite", f"head:{AGENCY}"):
        assert needle in log, needle
    refusals = await reply(talk, ADMIN, "/audit tuchoi")
    assert "bị từ chối" in refusals
    assert "/invite" in refusals and "/coquan" in refusals and "/late" in refusals

    assert "nhac: 24 → 12" in await reply(talk, ADMIN, "/caidat nhac 12")
    assert "Giá trị không hợp lệ" in await reply(talk, ADMIN, "/caidat trangthai 8")


async def test_a_command_flood_gets_one_warning_then_silence(
    migrated_url: str, channel: Platform
) -> None:
    async with conversation(migrated_url, channel, command_rate_per_minute=4) as talk:
        for _ in range(12):
            await command(talk, CITIZEN, "/status")
        sent = talk.texts(CITIZEN)
        assert sum("quá nhanh" in t for t in sent) == 1
        assert len(sent) == 5, sent  # four answers, one warning, then silence
        assert sent[-1] == chat_text("vi", "flood")
