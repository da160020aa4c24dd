"""The Telegram conversation end to end: branching, stray input, linking, commands, notices,
quiet hours, reminders and expiry — always checked as the citizen sees them in the chat."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from tests.e2e.conftest import Clock, Serve, post_event, read_case, telegram_link
from tests.e2e.service import ServiceProcess
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.support import dossier

pytestmark = pytest.mark.e2e

PROCEDURE = "Cấp giấy chứng nhận đăng ký hộ kinh doanh"
APPLICANT = "Nguyễn Thị Hằng"
LIKERT_VI = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
LIKERT_EN = ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"]
ALREADY_ANSWERED = "Câu hỏi này đã được trả lời."
SURVEY_CLOSED = "Khảo sát này đã kết thúc."
SURVEY_ANSWERED = "Hồ sơ này đã được đánh giá rồi. Cảm ơn Ông/Bà!"
USE_BUTTONS = "Vui lòng trả lời bằng các nút bên dưới câu hỏi."
MEDIA = "Xin lỗi, bot chỉ nhận câu trả lời bằng nút bấm hoặc tin nhắn chữ."

# Question texts (bot/data/questionnaires.json, short form) that tell the questions apart.
F1_WHY = "chưa hài lòng về việc tiếp cận dịch vụ"
F2 = "về thủ tục hành chính: niêm yết"
F3 = "về thái độ, năng lực của công chức"
F3_WHY = "chưa hài lòng về công chức giải quyết hồ sơ"
F4 = "về kết quả giải quyết hồ sơ: đúng hẹn"
COMMENT = "có góp ý gì"

_moments = itertools.count(1)


def moment() -> str:
    """A fresh, increasing `ThoiDiemXuLy` (2026-10-02, one minute apart) for the next event."""
    minutes = next(_moments)
    return f"20261002{8 + minutes // 60:02d}{minutes % 60:02d}00"


async def status_event(service: ServiceProcess, code: str, status: int, **fields: Any) -> None:
    """The one-stop system reports that case `code` moved to `status` (a newer event)."""
    await post_event(service, dossier(code, TrangThaiHoSo=status, ThoiDiemXuLy=moment(), **fields))


async def after(
    telegram: FakeTelegram, chat: int, previous: SentMessage | int, timeout: float = 10.0, **kw: Any
) -> SentMessage:
    """The next bot message to `chat` sent after message id `previous` (optionally matching)."""
    mid = previous if isinstance(previous, int) else previous.message_id
    return await telegram.wait_for_message(
        chat, lambda m: m.message_id > mid, timeout=timeout, **kw
    )


async def ask(telegram: FakeTelegram, chat: int, text: str) -> SentMessage:
    """The citizen types `text` (a command or an answer); returns the bot's next message."""
    update = telegram.user_sends_text(chat, text)
    return await after(telegram, chat, int(update["message"]["message_id"]))


async def link(
    service: ServiceProcess, telegram: FakeTelegram, chat: int, code: str, **fields: Any
) -> None:
    """Case `code` arrives (status 4 "being processed" unless given: no notice that could
    race with the link) and the citizen links it with /start."""
    payload = await telegram_link(service, dossier(code, **{"TrangThaiHoSo": 4, **fields}))
    telegram.user_sends_command(chat, "/start", payload)
    linked = await telegram.wait_for_message(chat, contains=f"Đã liên kết hồ sơ {code}")
    assert PROCEDURE in linked.text


async def invite(
    service: ServiceProcess, telegram: FakeTelegram, chat: int, code: str
) -> SentMessage:
    """Link `code`, move it to status 10 and return the survey's first question."""
    await link(service, telegram, chat, code)
    await status_event(service, code, 10, NgayTra="20261005090000")
    question = await telegram.wait_for_message(chat, contains=code, button="Rất hài lòng")
    assert "Câu 1/" in question.text
    return question


async def press(
    telegram: FakeTelegram, chat: int, message: SentMessage, label: str, data: str | None = None
) -> dict[str, Any]:
    """Press a button (by label, or raw callback data on a message that may have lost its
    buttons); return the bot's callback answer."""
    if data is None:
        update = telegram.press_button(chat, message, label)
    else:
        update = telegram.user_presses(chat, message.message_id, data, strict=False)
    return await telegram.wait_for_answer(update)


async def answer(
    telegram: FakeTelegram, chat: int, question: SentMessage, label: str
) -> SentMessage:
    """Press `label` under `question`; return the next question (or the thanks)."""
    reply = await press(telegram, chat, question, label)
    assert "text" not in reply, reply
    return await after(telegram, chat, question)


async def assert_silent(telegram: FakeTelegram, chat: int, seconds: float = 3.0) -> None:
    """Nothing more reaches `chat` for `seconds`."""
    before = len(telegram.messages_to(chat))
    await asyncio.sleep(seconds)
    new = [m.text for m in telegram.messages_to(chat)[before:]]
    assert new == [], f"unexpected messages to {chat}: {new}"


async def settled(telegram: FakeTelegram, message: SentMessage) -> SentMessage:
    """`message` once the bot has edited it (the edit may land after the next question)."""
    await telegram.wait_until(
        lambda: message.edited, 5.0, f"message {message.message_id} not edited"
    )
    return message


def has_contact_button(keyboard: dict[str, Any] | None) -> bool:
    """A shown reply keyboard with a request_contact button."""
    if keyboard is None or keyboard.get("hidden"):
        return False
    buttons = [button for row in keyboard.get("keyboard", []) for button in row]
    return any(button.get("request_contact") is True for button in buttons)


def labels_without_digits(message: SentMessage) -> list[str]:
    return [label.split(". ", 1)[-1] for label in message.button_labels]


async def survey_of(service: ServiceProcess, code: str) -> dict[str, Any]:
    return dict((await read_case(service, code))["survey"])


async def wait_survey_status(
    service: ServiceProcess, code: str, status: str, timeout: float = 10.0
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        survey = await survey_of(service, code)
        if survey["status"] == status or loop.time() > deadline:
            assert survey["status"] == status, survey
            return survey
        await asyncio.sleep(0.2)


# ----------------------------------------------------------------------------- the survey


async def test_low_score_asks_why_high_score_does_not(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    chat = 8101
    f1 = await invite(service, telegram, chat, "HS-BR")

    f2 = await answer(telegram, chat, f1, "4. Hài lòng")
    await settled(telegram, f1)
    assert f1.text.endswith("✔ Hài lòng") and f1.button_labels == []
    assert F1_WHY not in f2.text and "Điều gì khiến" not in f2.text
    assert F2 in f2.text and "Câu 2/11" in f2.text
    assert labels_without_digits(f2) == LIKERT_VI

    f3 = await answer(telegram, chat, f2, "5. Rất hài lòng")
    assert F3 in f3.text and "Câu 3/11" in f3.text

    why = await answer(telegram, chat, f3, "2. Không hài lòng")
    assert F3_WHY in why.text and "Câu 4/12" in why.text
    assert any("Thái độ" in label for label in why.button_labels), why.button_labels
    assert "Bỏ qua" in why.button_labels

    f4 = await answer(telegram, chat, why, "Thái độ")
    assert F4 in f4.text and "Câu 5/12" in f4.text
    await settled(telegram, why)
    assert why.text.endswith("✔ Thái độ không lịch sự") and why.button_labels == []
    assert await survey_of(service, "HS-BR") == {"status": "in_progress", "answers": 4}
    assert telegram.violations == []


@pytest.mark.both_databases
async def test_double_press_records_one_answer(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    chat = 8201
    f1 = await invite(service, telegram, chat, "HS-DP")
    data = f1.find_button("5. Rất hài lòng")["callback_data"]

    # Two quick taps before the bot has handled the first one.
    first = telegram.user_presses(chat, f1.message_id, data)
    second = telegram.user_presses(chat, f1.message_id, data)
    answers = [await telegram.wait_for_answer(first), await telegram.wait_for_answer(second)]
    assert [a.get("text") for a in answers] == [None, ALREADY_ANSWERED]
    f2 = await after(telegram, chat, f1)
    assert F2 in f2.text
    await settled(telegram, f1)
    assert f1.text.endswith("✔ Rất hài lòng") and f1.button_labels == []

    # A third press on the edited message (an old client still showing the buttons).
    late = await press(telegram, chat, f1, "", data=data)
    assert late.get("text") == ALREADY_ANSWERED
    await assert_silent(telegram, chat, 2.0)
    assert len(telegram.messages_to(chat)) == 3  # linked, question 1, question 2
    assert await survey_of(service, "HS-DP") == {"status": "in_progress", "answers": 1}


async def test_press_on_expired_survey_changes_nothing(
    serve: Serve, telegram: FakeTelegram, clock: Clock
) -> None:
    service = await serve()
    chat = 8301
    f1 = await invite(service, telegram, chat, "HS-EX")
    old_data = f1.find_button("3. Bình thường")["callback_data"]
    f2 = await answer(telegram, chat, f1, "3. Bình thường")

    clock.set("2026-10-13T10:00:00+07:00")  # eight days later: past the 7-day expiry
    await wait_survey_status(service, "HS-EX", "expired")
    sent = len(telegram.messages_to(chat))

    current = await press(telegram, chat, f2, "5. Rất hài lòng")
    assert current.get("text") == SURVEY_CLOSED
    old = await press(telegram, chat, f1, "", data=old_data)
    assert old.get("text") in (SURVEY_CLOSED, ALREADY_ANSWERED)
    await assert_silent(telegram, chat, 1.5)
    assert len(telegram.messages_to(chat)) == sent
    assert not f2.edited and len(f2.button_labels) >= 5
    assert await survey_of(service, "HS-EX") == {"status": "expired", "answers": 1}


async def test_stray_text_and_media_mid_survey(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    chat = 8401
    f1 = await invite(service, telegram, chat, "HS-TX")

    pointer = await ask(telegram, chat, "Cho tôi hỏi khi nào có kết quả?")
    assert pointer.text == USE_BUTTONS
    assert await survey_of(service, "HS-TX") == {"status": "invited", "answers": 0}

    f2 = await ask(telegram, chat, "5")
    assert F2 in f2.text and "Câu 2/11" in f2.text
    await settled(telegram, f1)
    assert f1.button_labels == []  # the answered question lost its buttons
    assert await survey_of(service, "HS-TX") == {"status": "in_progress", "answers": 1}

    sticker = telegram.user_sends_sticker(chat)
    reply = await after(telegram, chat, int(sticker["message"]["message_id"]))
    assert reply.text == MEDIA
    photo = telegram.user_sends_photo(chat, caption="5")
    reply = await after(telegram, chat, int(photo["message"]["message_id"]))
    assert reply.text == MEDIA
    await assert_silent(telegram, chat, 1.5)
    assert not f2.edited and labels_without_digits(f2)[:5] == LIKERT_VI
    assert await survey_of(service, "HS-TX") == {"status": "in_progress", "answers": 1}


async def test_comment_length_limit_then_thanks(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    chat = 8501
    question = await invite(service, telegram, chat, "HS-CM")
    first, first_data = question, question.find_button("5. Rất hài lòng")["callback_data"]
    while COMMENT not in question.text:
        labels = question.button_labels
        if "5. Rất hài lòng" in labels:
            question = await answer(telegram, chat, question, "5. Rất hài lòng")
        elif "Có" in labels:
            question = await answer(telegram, chat, question, "Không")
        else:  # EXPECT: pick one, then "Xong"
            assert any("Xong" in label for label in labels), question.text
            reply = await press(telegram, chat, question, labels[0])
            assert "text" not in reply
            toggled = await telegram.wait_for_message(
                chat, lambda m, mid=question.message_id: m.message_id == mid and m.edited
            )
            assert toggled.button_labels[0].startswith("✅")
            question = await answer(telegram, chat, toggled, "Xong")
    assert "Câu 11/11" in question.text and "Bỏ qua" in question.button_labels

    too_long = await ask(telegram, chat, "x" * 1001)
    assert too_long.text.startswith("Góp ý tối đa 1000 ký tự")
    assert await survey_of(service, "HS-CM") == {"status": "in_progress", "answers": 10}

    comment = ("Cán bộ hướng dẫn tận tình, chu đáo. " * 40)[:1000].strip()
    comment = comment + "ý" * (1000 - len(comment))
    assert len(comment) == 1000
    thanks = await ask(telegram, chat, comment)
    assert thanks.text.startswith("🙏 Cảm ơn Ông/Bà đã hoàn thành khảo sát")
    assert await survey_of(service, "HS-CM") == {"status": "completed", "answers": 11}

    # A finished survey: a press on an old question only gets a short notice.
    old = await press(telegram, chat, first, "", data=first_data)
    assert old.get("text") in (SURVEY_ANSWERED, ALREADY_ANSWERED)
    await assert_silent(telegram, chat, 1.5)
    assert await survey_of(service, "HS-CM") == {"status": "completed", "answers": 11}


# ----------------------------------------------------------------------------- linking


async def test_start_payloads(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    owner, other, newcomer = 8601, 8602, 8603
    # Status 4 has no notice, so nothing can race with the replies this test reads in order.
    payload = await telegram_link(service, dossier("HS-LK", TrangThaiHoSo=4))

    unknown = await ask(telegram, owner, "/start AAAAAAAAAAAAAAAAAAAAAA")
    assert unknown.text.startswith("Mã liên kết không đúng hoặc đã hết hạn")
    garbled = await ask(telegram, owner, "/start không-phải-mã!")
    assert garbled.text.startswith("Mã liên kết không đúng hoặc đã hết hạn")

    linked = await ask(telegram, owner, f"/start {payload}")
    assert "Đã liên kết hồ sơ HS-LK" in linked.text
    taken = await ask(telegram, other, f"/start {payload}")
    assert "đã được liên kết với một tài khoản khác" in taken.text
    again = await ask(telegram, owner, f"/start {payload}")
    assert "HS-LK" in again.text and "đã được liên kết với cuộc trò chuyện này" in again.text
    assert (await read_case(service, "HS-LK"))["survey"] == {"status": "linked", "answers": 0}

    welcome = await ask(telegram, newcomer, "/start")
    assert welcome.text.startswith("Xin chào!")
    assert has_contact_button(telegram.reply_keyboard(newcomer))
    assert "HS-LK" not in welcome.text


async def test_shared_contact_links_cases_by_phone(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    chat = 8701
    for code, phone in (("HS-P1", "0912345678"), ("HS-P2", "0912345678"), ("HS-P3", "0987654321")):
        await post_event(service, dossier(code, TrangThaiHoSo=4, SoDienThoai=phone))

    telegram.user_sends_command(chat, "/start")
    await telegram.wait_for_message(chat, contains="Xin chào!")
    foreign = telegram.user_shares_contact(chat, "+84 912 345 678", contact_user_id=9999)
    refused = await after(telegram, chat, int(foreign["message"]["message_id"]))
    assert refused.text.startswith("Vui lòng chỉ chia sẻ số điện thoại của chính Ông/Bà")
    assert has_contact_button(telegram.reply_keyboard(chat))
    assert (await read_case(service, "HS-P1"))["survey"]["status"] == "none"

    own = telegram.user_shares_contact(chat, "+84 912 345 678")
    linked = await after(telegram, chat, int(own["message"]["message_id"]))
    assert linked.text.startswith("✅ Đã liên kết 2 hồ sơ: ")
    assert "HS-P1" in linked.text and "HS-P2" in linked.text and "HS-P3" not in linked.text
    assert telegram.reply_keyboard(chat) is None  # the contact button is gone
    for code, status in (("HS-P1", "linked"), ("HS-P2", "linked"), ("HS-P3", "none")):
        assert (await read_case(service, code))["survey"]["status"] == status, code

    await status_event(service, "HS-P2", 10, SoDienThoai="0912345678")
    question = await telegram.wait_for_message(chat, contains="HS-P2", button="Rất hài lòng")
    assert "Câu 1/" in question.text
    assert (await read_case(service, "HS-P2"))["survey"]["status"] == "invited"


async def test_stop_silences_and_start_resumes(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    chat = 8801
    question = await invite(service, telegram, chat, "HS-S1")
    await link(service, telegram, chat, "HS-S2")

    stopped = await ask(telegram, chat, "/stop")
    assert stopped.text.startswith("Đã dừng mọi tin nhắn")
    assert await survey_of(service, "HS-S1") == {"status": "opted_out", "answers": 0}

    await status_event(service, "HS-S2", 9, NgayKetThucXuLy="20261005090000")
    await assert_silent(telegram, chat, 3.0)
    assert (await read_case(service, "HS-S2"))["TrangThaiHoSo"] == 9
    closed = await press(telegram, chat, question, "5. Rất hài lòng")
    assert closed.get("text") == SURVEY_CLOSED

    welcome = await ask(telegram, chat, "/start")
    assert welcome.text.startswith("Xin chào!")
    await status_event(service, "HS-S2", 10, NgayTra="20261005100000")
    invitation = await telegram.wait_for_message(chat, contains="HS-S2", button="Rất hài lòng")
    assert "Câu 1/" in invitation.text
    assert not any(
        "đã có kết quả. Mời Ông/Bà đến nhận" in m.text for m in telegram.messages_to(chat)
    )
    assert await survey_of(service, "HS-S1") == {"status": "opted_out", "answers": 0}


# ----------------------------------------------------------------------------- commands


async def test_commands(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    citizen, english = 8901, 8902

    async def english_side() -> None:
        f1 = await invite(service, telegram, english, "HS-C3")  # asked in Vietnamese
        assert (await ask(telegram, english, "/language xx")).text == (
            "Cách dùng: /language vi hoặc /language en"
        )
        assert (await ask(telegram, english, "/language en")).text == "Language set to English."
        f2 = await answer(telegram, english, f1, "5. Rất hài lòng")
        assert "Question 2/11" in f2.text and "Câu" not in f2.text
        assert "procedure: public posting" in f2.text
        assert labels_without_digits(f2) == LIKERT_EN

    side = asyncio.ensure_future(english_side())
    await link(service, telegram, citizen, "HS-C1", TrangThaiHoSo=4)
    await link(service, telegram, citizen, "HS-C2", NgayTiepNhan="20261002083000")
    help_text = (await ask(telegram, citizen, "/help")).text
    for command in ("/start", "/status", "/language", "/stop", "/help"):
        assert command in help_text

    listing = (await ask(telegram, citizen, "/status")).text
    assert "HS-C1" in listing and "HS-C2" in listing and "HS-C3" not in listing

    status = (await ask(telegram, citizen, "/status HS-C1")).text
    assert "HS-C2" not in status
    assert "Hồ sơ HS-C1" in status and PROCEDURE in status
    assert "Trạng thái: Đang xử lý" in status
    assert "Ngày hẹn trả: 08/10/2026" in status

    foreign = (await ask(telegram, citizen, "/status HS-C3")).text
    assert "Không có hồ sơ HS-C3 trong các hồ sơ đã liên kết" in foreign
    assert "Trạng thái" not in foreign

    assert (await ask(telegram, citizen, "/foo")).text == help_text
    await side
    assert telegram.violations == []


async def test_command_menu(serve: Serve, telegram: FakeTelegram) -> None:
    await serve()
    await telegram.wait_until(
        lambda: telegram.commands("default") and telegram.commands("default", "en"), 15.0
    )
    names = ["start", "status", "language", "stop", "help"]
    vietnamese = telegram.commands("default")
    english = telegram.commands("default", language_code="en")
    assert [c["command"] for c in vietnamese] == names
    assert [c["command"] for c in english] == names
    by_name = {c["command"]: c["description"] for c in vietnamese}
    assert "liên kết hồ sơ" in by_name["start"]
    assert "Hướng dẫn" in by_name["help"]
    assert "Dừng" in by_name["stop"]
    assert all(
        c["description"] != e["description"] for c, e in zip(vietnamese, english, strict=True)
    )
    assert "Help" in english[-1]["description"]


# ----------------------------------------------------------------------------- notices


async def test_status_notices_and_apology(serve: Serve, telegram: FakeTelegram) -> None:
    service = await serve()
    chat = 9101
    await link(service, telegram, chat, "HS-N1")

    await status_event(service, "HS-N1", 5)
    notice = await telegram.wait_for_message(chat, contains="HS-N1")
    assert "cần bổ sung giấy tờ" in notice.text and PROCEDURE in notice.text
    await status_event(service, "HS-N1", 6)
    notice = await after(telegram, chat, notice)
    assert "nghĩa vụ tài chính" in notice.text and "HS-N1" in notice.text

    moved = {
        "NgayHenTraTruoc": "20261008170000",
        "NgayHenTraMoi": "20261015170000",
        "LyDo": "Chờ kết quả xác minh",
    }
    await status_event(service, "HS-N1", 4, DanhSachHoSoBoSung=[moved])
    apology = await after(telegram, chat, notice)
    for part in (
        "THƯ XIN LỖI",
        "HS-N1",
        PROCEDURE,
        "08/10/2026",
        "15/10/2026",
        "Chờ kết quả xác minh",
        APPLICANT,
    ):
        assert part in apology.text, (part, apology.text)

    ready = dossier(
        "HS-N1", TrangThaiHoSo=9, ThoiDiemXuLy=moment(), NgayKetThucXuLy="20261014090000"
    )
    await post_event(service, ready)
    notice = await after(telegram, chat, apology)
    assert "đã có kết quả" in notice.text and "HS-N1" in notice.text

    await post_event(service, ready)  # the same delivery again
    await status_event(service, "HS-N1", 9, NgayKetThucXuLy="20261014090000")  # same status
    await assert_silent(telegram, chat, 3.0)
    assert len(telegram.messages_to(chat)) == 5
    assert telegram.violations == []


async def test_quiet_hours_hold_the_invitation(
    serve: Serve, telegram: FakeTelegram, clock: Clock
) -> None:
    service = await serve()
    chat = 9201
    await link(service, telegram, chat, "HS-Q1")

    clock.set("2026-10-05T22:30:00+07:00")
    await status_event(service, "HS-Q1", 10, NgayTra="20261005090000")
    started = asyncio.get_running_loop().time()
    help_reply = await ask(telegram, chat, "/help")
    assert "/status" in help_reply.text
    assert asyncio.get_running_loop().time() - started < 3.0
    await assert_silent(telegram, chat, 3.0)
    assert not any(m.buttons for m in telegram.messages_to(chat))

    clock.set("2026-10-06T07:00:05+07:00")
    invitation = await telegram.wait_for_message(
        chat, contains="HS-Q1", button="Rất hài lòng", timeout=6.0
    )
    assert "Câu 1/" in invitation.text


async def test_one_reminder_then_expiry(serve: Serve, telegram: FakeTelegram, clock: Clock) -> None:
    service = await serve(SIPAS_REMINDER_HOURS="24", SIPAS_SURVEY_EXPIRY_DAYS="7")
    chat = 9301
    question = await invite(service, telegram, chat, "HS-R1")
    await assert_silent(telegram, chat, 1.5)  # no reminder before its time

    clock.set("2026-10-06T11:00:00+07:00")  # invited + 25 h, a morning
    reminder = await telegram.wait_for_message(chat, contains="Nhắc nhẹ", timeout=6.0)
    assert "HS-R1" in reminder.text and "Câu 1/11" in reminder.text
    assert labels_without_digits(reminder)[:5] == LIKERT_VI
    await assert_silent(telegram, chat, 3.0)  # six more sweeps: still one reminder
    assert sum("Nhắc nhẹ" in m.text for m in telegram.messages_to(chat)) == 1
    assert await survey_of(service, "HS-R1") == {"status": "invited", "answers": 0}

    clock.set("2026-10-13T11:00:00+07:00")  # invited + 8 days
    await wait_survey_status(service, "HS-R1", "expired")
    for message in (reminder, question):
        closed = await press(telegram, chat, message, "4. Hài lòng")
        assert closed.get("text") == SURVEY_CLOSED
    await assert_silent(telegram, chat, 1.0)
    assert await survey_of(service, "HS-R1") == {"status": "expired", "answers": 0}


async def test_answered_question_keeps_its_number(serve: Serve, telegram: FakeTelegram) -> None:
    """The invitation names the procedure; a "87/2020" in that name is not the question's
    number: the answered first question still reads "Câu 1/11"."""
    service = await serve()
    chat = 9401
    payload = await telegram_link(
        service,
        dossier(
            "HS-NB", TrangThaiHoSo=10, TenTTHC="Đăng ký khai sinh theo Nghị định 87/2020 về hộ tịch"
        ),
    )
    telegram.user_sends_command(chat, "/start", payload)
    f1 = await telegram.wait_for_message(chat, contains="HS-NB", button="Rất hài lòng")
    assert "Nghị định 87/2020" in f1.text and "Câu 1/11" in f1.text
    f2 = await answer(telegram, chat, f1, "5. Rất hài lòng")
    assert "Câu 2/11" in f2.text
    await settled(telegram, f1)
    assert f1.text.startswith("Câu 1/11: ") and f1.text.endswith("✔ Rất hài lòng")
