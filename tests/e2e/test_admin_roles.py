"""Roles by chat against the real `sipas serve` and the fake Bot API: an admin's invite link
works once, menus per scope, revocation on the next message, polite audited refusals, the
command flood limit, a setting changed by chat."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import ServiceFactory, telegram_link
from tests.fakes.telegram_api import FakeTelegram
from tests.support import dossier

pytestmark = pytest.mark.e2e
ADMIN, HEAD, OTHER, CITIZEN = 9101, 9201, 9301, 9401
AGENCY = "000.00.01.H12"
REFUSED = "Xin lỗi, bạn không dùng được lệnh này."
EVERYONE = ["start", "status", "language", "stop", "help"]


def names(telegram: FakeTelegram, scope: str, language: str = "") -> list[str]:
    return [c["command"] for c in telegram.commands(scope, language)]


async def menu(
    telegram: FakeTelegram, scope: str, check: object, timeout: float = 10.0
) -> list[str]:
    """Wait until the menu of `scope` satisfies `check` (a callable on the command names)."""
    try:
        await telegram.wait_until(lambda: check(names(telegram, scope)) or None, timeout)  # type: ignore[operator]
    except TimeoutError:
        raise AssertionError(f"menu {scope}: {names(telegram, scope)}") from None
    return names(telegram, scope)


async def test_invite_once_menus_revocation_and_refusals(
    bot_service: ServiceFactory, telegram: FakeTelegram
) -> None:
    service = bot_service(SIPAS_ADMIN_TELEGRAM_IDS=str(ADMIN))
    await telegram_link(service, dossier("HS-R1"))  # the agency exists, the username is known

    # Citizens' menu (the default scope) lists everyone's commands only, in vi and en.
    assert await menu(telegram, "default", lambda n: n == EVERYONE) == EVERYONE
    await telegram.wait_until(lambda: telegram.commands("default", "en") or None, 10.0)
    assert names(telegram, "default", "en") == EVERYONE
    assert telegram.commands("default")[1]["description"] == "Xem tình trạng hồ sơ"

    telegram.user_sends_command(ADMIN, "/start", first_name="Quản Trị")
    admin_menu = await menu(telegram, f"chat:{ADMIN}", lambda n: "invite" in n)
    assert admin_menu[:5] == EVERYONE and "audit" in admin_menu and "cancel" in admin_menu

    telegram.user_sends_text(ADMIN, f"/invite head {AGENCY}")
    invite = await telegram.wait_for_message(ADMIN, contains="https://t.me/sipas_test_bot?start=i")
    assert "dùng một lần" in invite.text and "Trung tâm Phục vụ hành chính công tỉnh" in invite.text
    payload = invite.text.split("start=", 1)[1].split()[0]
    telegram.user_sends_text(ADMIN, "/invite head KHONG.CO")
    assert await telegram.wait_for_message(ADMIN, contains="Không có cơ quan mã KHONG.CO")

    telegram.user_sends_command(HEAD, "/start", payload, first_name="Thủ Trưởng")
    assert await telegram.wait_for_message(HEAD, contains="thủ trưởng")
    telegram.user_sends_command(OTHER, "/start", payload)
    assert await telegram.wait_for_message(OTHER, contains="đã được sử dụng")
    head_menu = await menu(telegram, f"chat:{HEAD}", lambda n: "report" in n)
    assert "invite" not in head_menu and "audit" not in head_menu
    assert names(telegram, f"chat:{OTHER}") == []

    # A head (or a citizen) trying an admin command gets a polite refusal; nothing leaks.
    telegram.user_sends_text(HEAD, "/invite admin")
    refusal = await telegram.wait_for_message(HEAD, contains=REFUSED)
    assert AGENCY not in refusal.text
    telegram.user_sends_text(CITIZEN, "/coquan")
    assert await telegram.wait_for_message(CITIZEN, contains=REFUSED)

    # Revocation applies to the head's very next message, and their menu goes.
    telegram.user_sends_text(ADMIN, f"/thuhoi head {AGENCY} {HEAD}")
    assert await telegram.wait_for_message(ADMIN, contains="Đã thu hồi")
    telegram.user_sends_text(HEAD, "/late")
    assert await telegram.wait_for_message(HEAD, contains=REFUSED)
    assert await menu(telegram, f"chat:{HEAD}", lambda n: n == []) == []

    # The audit log: changes with before → after, refusals apart; it has no edit command.
    telegram.user_sends_text(ADMIN, "/audit")
    log = await telegram.wait_for_message(ADMIN, contains="Nhật ký thay đổi")
    for needle in ("revoke", "grant", "invite", "Quản Trị (tg:9101)", f"head:{AGENCY}"):
        assert needle in log.text, needle
    telegram.user_sends_text(ADMIN, "/audit tuchoi")
    refusals = await telegram.wait_for_message(ADMIN, contains="bị từ chối")
    assert "/invite" in refusals.text and "/coquan" in refusals.text and "/late" in refusals.text

    # A setting changed by chat.
    telegram.user_sends_text(ADMIN, "/caidat nhac 12")
    assert await telegram.wait_for_message(ADMIN, contains="nhac: 24 → 12")
    telegram.user_sends_text(ADMIN, "/caidat trangthai 8")
    assert await telegram.wait_for_message(ADMIN, contains="Giá trị không hợp lệ")
    await asyncio.sleep(0.5)
    assert telegram.violations == []


async def test_a_command_flood_gets_one_warning_then_silence(
    bot_service: ServiceFactory, telegram: FakeTelegram
) -> None:
    bot_service(SIPAS_COMMAND_RATE_PER_MINUTE="4")
    for _ in range(12):
        telegram.user_sends_text(CITIZEN, "/status")
    assert await telegram.wait_for_message(CITIZEN, contains="quá nhanh")
    await telegram.wait_until(lambda: len(telegram.messages_to(CITIZEN)) >= 5 or None, 20)
    await asyncio.sleep(2.0)
    sent = telegram.messages_to(CITIZEN)
    assert sum("quá nhanh" in (m.text or "") for m in sent) == 1
    assert len(sent) == 5  # four answers, one warning, then silence
