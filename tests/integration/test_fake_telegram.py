"""The fake Telegram Bot API server, driven by python-telegram-bot's real Bot and Application.

These tests pin down that `tests.fakes.FakeTelegram` speaks the wire format PTB 22 expects
(so end-to-end tests of the product can trust it) and that its fault injection and flood
limits surface as the same PTB exceptions real Telegram would cause.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import sys
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from tests.fakes import SECRET_HEADER, FakeTelegram, tiny_png

REPO_ROOT = Path(__file__).resolve().parents[2]

# PTB 22.8 warns about RetryAfter.retry_after becoming a timedelta on every RetryAfter it builds.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


def keyboard(*labels_and_data: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in labels_and_data]
    )


async def raw_post(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, **kwargs) as response:
        return response.status, await response.json()


# ---------------------------------------------------------------------------- wire format


async def test_get_me_and_token_checks(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "sipas_test_bot"
    assert me.is_bot is True
    assert me.id == 123456
    assert me.can_join_groups is True
    assert bot.username == "sipas_test_bot"

    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG", base_url=fake.base_url) as wrong:
            await wrong.get_me()
    status, body = await raw_post(f"{fake.base_url}123456:WRONG/getMe")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await raw_post(f"{fake.base_url}{fake.token}/noSuchMethod")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_send_message_returns_a_real_message(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(1001, "Bình")
    fake.set_limits(per_chat_burst=None, per_chat_rate=None)  # many sends to one chat
    before = int(time.time())
    first = await bot.send_message(1001, "Xin chào")
    second = await bot.send_message(1001, "Lần hai")
    assert first.chat.id == 1001
    assert first.chat.type == "private"
    assert first.chat.first_name == "Bình"
    assert first.from_user is not None and first.from_user.is_bot
    assert first.from_user.username == "sipas_test_bot"
    assert second.message_id == first.message_id + 1
    assert before - 1 <= first.date.timestamp() <= time.time() + 1
    assert first.date.tzinfo is not None

    # On the wire: form-encoded request in, Unix-seconds integer date out.
    status, body = await raw_post(
        f"{fake.base_url}{fake.token}/sendMessage", data={"chat_id": "1001", "text": "raw"}
    )
    assert status == 200 and body["ok"] is True
    assert isinstance(body["result"]["date"], int)
    assert body["result"]["message_id"] == second.message_id + 1
    # JSON bodies work too, with reply_markup as an object rather than a JSON string.
    status, body = await raw_post(
        f"{fake.base_url}{fake.token}/sendMessage",
        json={
            "chat_id": 1001,
            "text": "json",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        },
    )
    assert status == 200
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    assert [m.text for m in fake.messages_to(1001)] == ["Xin chào", "Lần hai", "raw", "json"]

    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999_999, "nobody")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(1001, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(1001, "   ")


async def test_parse_mode_becomes_entities(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(1002)
    message = await bot.send_message(1002, "<b>😀 Chào</b> bạn", parse_mode=ParseMode.HTML)
    assert message.text == "😀 Chào bạn"
    assert message.entities[0].type == "bold"
    assert (message.entities[0].offset, message.entities[0].length) == (0, 7)  # UTF-16 units
    assert message.text_html == "<b>😀 Chào</b> bạn"
    v2 = await bot.send_message(1002, r"*Đậm* và 1\.5", parse_mode=ParseMode.MARKDOWN_V2)
    assert v2.text == "Đậm và 1.5"

    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(1002, "<b>unclosed", parse_mode=ParseMode.HTML)
    # PTB strips "Bad Request: " and .capitalize()s the rest, lower-casing the tag message.
    with pytest.raises(BadRequest, match="unsupported start tag"):
        await bot.send_message(1002, "line<br>break", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="reserved and must be escaped"):
        await bot.send_message(1002, "Điểm 4.5", parse_mode=ParseMode.MARKDOWN_V2)


async def test_inline_keyboard_round_trip_and_edits(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(1003)
    sent = await bot.send_message(
        1003, "Bạn hài lòng không?", reply_markup=keyboard(("Hài lòng", "s:5"), ("Chưa", "s:1"))
    )
    assert isinstance(sent.reply_markup, InlineKeyboardMarkup)
    assert sent.reply_markup.inline_keyboard[1][0].callback_data == "s:1"
    stored = fake.messages_to(1003)[0]
    assert stored.button_labels == ["Hài lòng", "Chưa"]
    assert stored.callback_data == ["s:5", "s:1"]

    edited = await bot.edit_message_text(
        "Cảm ơn!", chat_id=1003, message_id=sent.message_id, reply_markup=keyboard(("Đổi", "c"))
    )
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    assert fake.messages_to(1003)[0].text == "Cảm ơn!"
    assert fake.messages_to(1003)[0].button_labels == ["Đổi"]
    assert fake.messages_to(1003)[0].history[0]["text"] == "Bạn hài lòng không?"

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=1003, message_id=sent.message_id, reply_markup=keyboard(("Đổi", "c"))
        )
    await bot.edit_message_reply_markup(chat_id=1003, message_id=sent.message_id)
    assert fake.messages_to(1003)[0].reply_markup is None
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=1003, message_id=9999)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(1003, "too long", reply_markup=keyboard(("x", "d" * 65)))
    # 64 bytes is the limit in UTF-8 bytes, not characters.
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(1003, "vi", reply_markup=keyboard(("x", "ệ" * 22)))


async def test_reply_keyboard_with_contact_request(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(1004)
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("Chia sẻ số điện thoại", request_contact=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )
    sent = await bot.send_message(1004, "Cho xin số điện thoại", reply_markup=markup)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    shown = fake.reply_keyboard(1004)
    assert shown is not None and shown["keyboard"][0][0]["request_contact"] is True

    update = fake.user_shares_contact(1004, "84912345678")
    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [update["update_id"]]
    contact = updates[0].message.contact
    assert contact is not None
    assert contact.phone_number == "84912345678"
    assert contact.user_id == 1004
    assert contact.first_name == "An"

    await bot.send_message(1004, "Cảm ơn", reply_markup=ReplyKeyboardRemove())
    assert fake.reply_keyboard(1004) is None


# ------------------------------------------------------------------------------- updates


async def test_get_updates_long_polls_and_confirms_with_offset(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.add_user(2001)

    async def later() -> None:
        await asyncio.sleep(0.2)
        fake.user_sends_text(2001, "Xin chào")

    injector = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    elapsed = time.monotonic() - started
    await injector
    assert 0.15 <= elapsed < 2.0, elapsed
    assert len(updates) == 1 and updates[0].message.text == "Xin chào"
    assert updates[0].message.from_user.is_bot is False
    assert updates[0].message.from_user.language_code == "vi"

    # Not confirmed yet: asking again returns it again.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]
    # offset = last + 1 confirms it; an empty long poll lasts its timeout.
    started = time.monotonic()
    empty = await bot.get_updates(offset=updates[0].update_id + 1, timeout=1)
    assert empty == ()
    assert time.monotonic() - started >= 0.9
    assert fake.is_delivered(updates[0].update_id)

    fake.user_sends_text(2001, "một")
    fake.user_sends_text(2001, "hai")
    fake.user_sends_text(2001, "ba")
    assert [u.message.text for u in await bot.get_updates(limit=2)] == ["một", "hai"]
    ids = [u.update_id for u in await bot.get_updates()]
    assert ids == sorted(ids) and len(ids) == 3
    # allowed_updates filters what is produced from now on
    await bot.get_updates(offset=ids[-1] + 1, allowed_updates=["callback_query"])
    fake.user_sends_text(2001, "ignored")
    assert await bot.get_updates() == ()


async def test_second_poller_gets_conflict(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(fake.token, base_url=fake.base_url) as other_instance:
        assert await other_instance.get_updates(timeout=0) == ()
    started = time.monotonic()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    assert time.monotonic() - started < 1


async def test_callback_query_parses_and_is_answered(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(2002, "Cúc")
    sent = await bot.send_message(2002, "Đánh giá", reply_markup=keyboard(("Rất tốt", "r:5")))
    pressed = fake.press_button(2002, sent.message_id, "rất")
    updates = await bot.get_updates(timeout=1)
    query = updates[0].callback_query
    assert query is not None
    assert query.id == pressed["callback_query"]["id"]
    assert query.data == "r:5"
    assert query.chat_instance == fake.chat_instance(2002)
    assert query.from_user.id == 2002 and query.from_user.is_bot is False
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.message.chat.id == 2002

    assert await bot.answer_callback_query(query.id, text="Đã ghi nhận") is True
    assert (await fake.wait_for_answer(pressed))["text"] == "Đã ghi nhận"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(ValueError, match="no button"):
        fake.user_presses(2002, sent.message_id, "forged")
    with pytest.raises(LookupError):
        fake.press_button(2002, sent, "Không có")


async def test_command_handler_gets_deep_link_args(fake: FakeTelegram) -> None:
    seen: list[list[str] | None] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(context.args)
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"args={context.args}", do_quote=True)

    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=2))
    try:
        update = fake.user_sends_command(3001, "/start", "payload")
        assert update["message"]["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
        reply = await fake.wait_for_message(3001, contains="args=", timeout=10)
        assert reply.text == "args=['payload']"
        assert seen == [["payload"]]
        assert reply.data["reply_to_message"]["message_id"] == update["message"]["message_id"]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert fake.is_delivered(update["update_id"])
    assert fake.pending_updates == []


async def test_user_media_updates_parse(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends_sticker(2003)
    fake.user_sends_photo(2003, caption="ảnh hồ sơ")
    sticker_update, photo_update = await bot.get_updates()
    sticker = sticker_update.message.sticker
    assert sticker is not None and sticker.type == "regular" and not sticker.is_animated
    photo = photo_update.message.photo
    assert [p.width for p in photo] == [90, 320, 800, 1280]
    assert photo_update.message.caption == "ảnh hồ sơ"
    file = await bot.get_file(photo[-1].file_id)
    data = await file.download_as_bytearray()
    assert bytes(data).startswith(b"\x89PNG")


async def test_send_photo_multipart(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(2004)
    sent = await bot.send_photo(
        2004, tiny_png(400, 300), caption="<i>Biểu đồ</i>", parse_mode="HTML"
    )
    assert [(p.width, p.height) for p in sent.photo] == [(90, 68), (320, 240), (400, 300)]
    assert sent.caption == "Biểu đồ" and sent.caption_entities[0].type == "italic"
    again = await bot.send_photo(2004, sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    assert fake.calls_to("sendPhoto")[0].params["photo"]["upload"] == "photo"
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(2004, b"not an image")
    assert await bot.send_chat_action(2004, "upload_photo") is True
    assert fake.chat_actions[-1][:2] == (2004, "upload_photo")


async def test_commands_are_stored_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(2005)
    await bot.set_my_commands([BotCommand("start", "Bắt đầu"), BotCommand("help", "Trợ giúp")])
    await bot.set_my_commands(
        [BotCommand("danhgia", "Đánh giá")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="vi",
    )
    await bot.set_my_commands([BotCommand("lienhe", "Liên hệ")], scope=BotCommandScopeChat(2005))
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    private_vi = await bot.get_my_commands(
        scope=BotCommandScopeAllPrivateChats(), language_code="vi"
    )
    assert [c.command for c in private_vi] == ["danhgia"]
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    assert fake.commands("chat:2005") == [{"command": "lienhe", "description": "Liên hệ"}]
    await bot.delete_my_commands(scope=BotCommandScopeChat(2005))
    assert fake.commands("chat:2005") == []
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "viết hoa")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_my_commands(scope=BotCommandScopeChat(4242))


# ------------------------------------------------------------------------ faults and limits


async def test_fail_next_429_raises_retry_after(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_user(4001)
    fake.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(4001, "x")
    # PTB 22.8 stores a timedelta; the public attribute is an int (with a deprecation
    # warning) unless PTB_TIMEDELTA is set, then it is the timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    monkeypatch.delenv("PTB_TIMEDELTA")
    with pytest.warns(PTBDeprecationWarning):
        assert caught.value.retry_after == 3
    assert fake.calls_to("sendMessage")[-1].outcome == "429 Too Many Requests: retry after 3"
    assert fake.calls_to("sendMessage")[-1].injected == "fail_next"
    # only the next call failed
    assert (await bot.send_message(4001, "y")).text == "y"

    fake.fail_next("sendMessage", count=2, status=500, chat_id=4002)
    assert (await bot.send_message(4001, "other chat unaffected")).chat.id == 4001


async def test_blocked_user_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends_command(4003, "/start")
    fake.block(4003)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(4003, "x")
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member is not None and member.new_chat_member.status == ChatMemberStatus.BANNED
    fake.user_sends_text(4003, "tôi quay lại")  # writing again unblocks, as on Telegram
    assert (await bot.send_message(4003, "chào lại")).text == "chào lại"
    fake.deactivate(4003)
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(4003, "x")


async def test_server_errors_and_timeouts(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(4004)
    fake.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(4004, "x")
    assert type(caught.value) is NetworkError
    assert str(caught.value) == "Internal Server Error"

    fake.fail_next("sendMessage", status="timeout", delay=3, execute=True)
    request = HTTPXRequest(read_timeout=0.5)
    async with Bot(fake.token, base_url=fake.base_url, request=request) as impatient:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await impatient.send_message(4004, "slow but delivered")
        assert time.monotonic() - started < 2
        assert (await impatient.get_me()).username == "sipas_test_bot"  # others not blocked
    assert [m.text for m in fake.messages_to(4004)] == ["slow but delivered"]

    fake.fail_rate("sendChatAction", rate=0.5, status=429, retry_after=1, seed=7)
    outcomes = []
    for _ in range(20):
        try:
            outcomes.append(await bot.send_chat_action(4004, "typing"))
        except RetryAfter:
            outcomes.append(False)
    assert 3 <= outcomes.count(False) <= 17


async def test_per_chat_flood_limit(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(5001)
    for n in range(3):
        await bot.send_message(5001, f"burst {n}")
    with pytest.raises(RetryAfter):
        await bot.send_message(5001, "one too many")
    assert {v.kind for v in fake.violations} >= {"chat_burst"}
    violation = fake.violations[0]
    assert violation.chat_id == 5001 and violation.enforced and violation.retry_after >= 1
    assert len(fake.messages_to(5001)) == 3
    await asyncio.sleep(violation.retry_after)
    await bot.send_message(5001, "after waiting")
    times = fake.sent_times(5001)
    assert len(times) == 4 and times[-1] - times[0] >= 1.0

    fake.set_limits(enforce=False)
    fake.add_user(5002)
    for n in range(5):
        await bot.send_message(5002, f"unenforced {n}")
    assert len(fake.messages_to(5002)) == 5
    assert [v.enforced for v in fake.violations if v.chat_id == 5002][:1] == [False]


async def test_global_flood_limit(fake: FakeTelegram, bot: Bot) -> None:
    users = list(range(6001, 6036))
    for user in users:
        fake.add_user(user)
    results = await asyncio.gather(
        *(bot.send_message(user, "thông báo") for user in users), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, RetryAfter)]
    assert len(refused) == 5, results
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 30
    assert [v.kind for v in fake.violations] == ["global"] * 5


async def test_webhook_delivery_with_secret_and_retry(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=500 if len(received) == 1 else 200)

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        with pytest.raises(BadRequest, match="Secret token contains unallowed characters"):
            await bot.set_webhook(url, secret_token="bad secret!")
        assert await bot.set_webhook(url, secret_token="s3cret_token-1") is True
        update = fake.user_sends_text(7001, "qua webhook")
        await fake.wait_delivered(update, timeout=5)
        assert [r[1]["update_id"] for r in received] == [update["update_id"]] * 2  # retried
        assert {r[0] for r in received} == {"s3cret_token-1"}
        assert Update.de_json(received[-1][1], bot).message.text == "qua webhook"

        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook() is True
        assert (await bot.get_webhook_info()).url == ""
        fake.user_sends_text(7001, "polling again")
        assert [u.message.text for u in await bot.get_updates()] == ["polling again"]
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------------ test helpers


async def test_wait_for_message_does_not_race(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(8001)
    await bot.send_message(8001, "đã gửi trước")  # sent before anyone waits
    early = await fake.wait_for_message(8001, contains="trước", timeout=1)
    assert early.text == "đã gửi trước"
    with pytest.raises(TimeoutError, match="no matching message"):
        await fake.wait_for_message(8001, contains="trước", timeout=0.2)  # consumed

    async def send_later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(8001, "câu hỏi", reply_markup=keyboard(("Có", "y")))

    sender = asyncio.create_task(send_later())
    question = await fake.wait_for_message(8001, button="có", timeout=5)
    await sender
    await bot.edit_message_text(
        "câu hỏi (đã trả lời)", chat_id=8001, message_id=question.message_id
    )
    edited = await fake.wait_for_message(8001, lambda m: m.edited, timeout=1)
    assert edited.message_id == question.message_id and edited.reply_markup is None


async def test_control_api(fake: FakeTelegram, bot: Bot) -> None:
    control = fake.control_url
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{control}/users/9001/command", json={"command": "/start", "payload": "case-1"}
        ) as response:
            update = (await response.json())["result"]
        assert update["message"]["text"] == "/start case-1"

        await bot.send_message(
            9001, "Hài lòng?", reply_markup=keyboard(("Có", "y"), ("Không", "n"))
        )
        async with http.get(f"{control}/messages", params={"chat_id": "9001"}) as response:
            messages = (await response.json())["result"]
        assert messages[0]["button_labels"] == ["Có", "Không"]
        async with http.post(f"{control}/users/9001/press", json={"label": "Không"}) as response:
            pressed = (await response.json())["result"]
        assert pressed["callback_query"]["data"] == "n"
        async with http.get(
            f"{control}/messages/wait",
            params={"chat_id": "9001", "contains": "never", "timeout": "0.2"},
        ) as response:
            assert response.status == 408

        async with http.post(
            f"{control}/fail_next", json={"method": "sendMessage", "retry_after": 2}
        ) as response:
            assert (await response.json())["result"][0]["retry_after"] == 2
        with pytest.raises(RetryAfter):
            await bot.send_message(9001, "x")
        async with http.get(f"{control}/calls", params={"method": "sendMessage"}) as response:
            outcomes = [c["outcome"] for c in (await response.json())["result"]]
        assert outcomes == ["ok", "429 Too Many Requests: retry after 2"]

        async with http.post(
            f"{control}/inject",
            json=[
                {"op": "text", "user_id": 9002, "text": "một"},
                {"op": "contact", "user_id": 9002, "phone_number": "+84900000000"},
                {"op": "block", "user_id": 9002},
            ],
        ) as response:
            results = (await response.json())["result"]
        assert results[1]["message"]["contact"]["user_id"] == 9002
        assert fake.is_blocked(9002)
        async with http.post(f"{control}/reset") as response:
            assert (await response.json())["ok"] is True
        async with http.get(f"{control}/state") as response:
            state = (await response.json())["result"]
        assert state["users"] == 0 and state["calls"] == 0


async def test_standalone_process() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.run_telegram",
        "--port",
        "0",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
        assert line.startswith("FAKE_TELEGRAM_READY "), line
        base_url = line.split()[1]
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base_url}123456:TEST-TOKEN/getMe") as response:
                me = json.loads(await response.text())
            assert me["result"]["username"] == "sipas_test_bot"
            root = base_url.removesuffix("/bot")
            async with http.post(f"{root}/_fake/users/5/text", json={"text": "hi"}) as response:
                assert response.status == 200
            async with http.post(f"{base_url}123456:TEST-TOKEN/getUpdates") as response:
                updates = (await response.json())["result"]
            assert updates[0]["message"]["text"] == "hi"
    finally:
        process.terminate()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            assert await asyncio.wait_for(process.wait(), 10) == 0
