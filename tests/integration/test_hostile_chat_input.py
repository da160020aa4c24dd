"""Hostile chat input: floods of any kind of update, forged buttons, crafted payloads and
arguments. The bot stays polite and brief, logs no traceback and touches nothing it should not.

Driven through the real Telegram handlers, services and storage (SQLite and PostgreSQL); see
`tests/integration/chat_bench.py`.
"""

from __future__ import annotations

import logging

import pytest

from bot.commands.admin_texts import admin_text
from bot.texts import chat_text
from tests.integration.chat_bench import Bench, chat_bench

FLOODER = 701
HUGE = "9" * 35  # past every 64-bit integer column


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_flood_of_any_kind_gets_one_warning_then_silence(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with chat_bench(migrated_url, command_rate_per_minute=20) as bench:
        for i in range(100):
            await bench.text(FLOODER, f"xin chào {i}")
        for _ in range(30):
            await bench.feed(bench.fake.user_sends_sticker(FLOODER))
        for _ in range(10):
            await bench.contact(FLOODER, "0900000000")
        queued = await bench.texts(FLOODER)
        assert len(queued) == 20, queued  # the budget; everything after it is ignored
        warning = await bench.fake.wait_for_message(FLOODER, contains="quá nhanh")
        assert warning.text == chat_text("vi", "flood")
        assert bench.metric("sipas_chat_inbound_limited_total", verdict="warn") == 1
        assert bench.metric("sipas_chat_inbound_limited_total", verdict="silent") == 119
        # presses count too: silence means no answer at all
        update = bench.fake.user_presses(FLOODER, warning.message_id, "a:1:F1:5", strict=False)
        await bench.feed(update)
        assert bench.fake.callback_answer(str(update["callback_query"]["id"])) is None
        # other chats are not affected
        await bench.text(FLOODER + 1, "xin chào")
        assert await bench.texts(FLOODER + 1) == [chat_text("vi", "no_survey")]
    assert errors(caplog) == []


async def test_recorded_survey_answers_do_not_spend_the_budget(migrated_url: str) -> None:
    async with chat_bench(migrated_url, command_rate_per_minute=4) as bench:
        payload = await bench.case("C-9")
        await bench.start(FLOODER, payload)
        await bench.event("C-9", 10, NgayTra="20261005090000")
        await bench.settle()
        assert await bench.answer_survey(FLOODER) > 4
        summary = await bench.services.surveys.surveys.survey_summary("C-9")
        assert summary is not None and summary[0] == "completed"
        assert bench.metric("sipas_chat_inbound_limited_total", verdict="warn") == 0
        # Spent so far: /start and the first pick of the multiple-choice question (picks can
        # be toggled forever, so they are not progress). Pressing a finished survey's button
        # again is not progress either.
        found = await bench.services.linking.links.case_by_code("C-9")
        assert found is not None
        again = f"a:{found.survey_id}:F1:4"
        closed = chat_text("vi", "survey_answered")
        assert [await bench.press(FLOODER, again) for _ in range(2)] == [closed, closed]
        assert await bench.press(FLOODER, again) == chat_text("vi", "flood")
        assert bench.metric("sipas_chat_inbound_limited_total", verdict="warn") == 1


async def test_forged_buttons_are_refused_politely_and_counted_not_audited_one_by_one(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with chat_bench(migrated_url, command_rate_per_minute=1000) as bench:
        refused = admin_text("vi", "refused_press")
        for i in range(40):
            assert await bench.press(FLOODER, f"pv:x:{i}:::1") == refused
        audit = bench.services.commands.dispatcher.audit.store
        assert len(await audit.last(100, actions=["refused"])) == 1
        assert bench.metric("sipas_chat_presses_refused_total", reason="role") == 40
        # a survey button of a survey that is not the chat's, and made-up data
        stale = chat_text("vi", "stale_button")
        assert await bench.press(FLOODER, "a:12345:F1:5") == stale
        assert await bench.press(FLOODER, "a:x:F1:5") == stale
        assert await bench.press(FLOODER, "zz") == stale
        assert bench.metric("sipas_chat_presses_refused_total", reason="survey") == 1
        assert bench.metric("sipas_chat_presses_refused_total", reason="malformed") == 2
    assert errors(caplog) == []


CRAFTED_PRESSES = [
    f"a:{HUGE}:F1:5",
    f"k:{HUGE}:a",
    f"k:{HUGE}:d",
    f"f:{HUGE}:y",
    "k:١٢٣:a",  # digits, but not ASCII ones
    "f:12:maybe",
    f"pv:{HUGE}:{HUGE}:{HUGE}:{HUGE}:1",
]
CRAFTED_PAYLOADS = [
    "i" + "ệ" * 22,  # the length of an invite, not its alphabet
    "ệ" * 23,
    "ệ" * 22,
    "i" + "a" * 21 + "\u200b",
    "x" * 65,
]


async def test_crafted_callback_data_and_payloads_get_a_polite_answer_and_no_traceback(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with chat_bench(migrated_url, command_rate_per_minute=1000) as bench:
        polite = (chat_text("vi", "stale_button"), admin_text("vi", "refused_press"))
        answers = {data: await bench.press(FLOODER, data) for data in CRAFTED_PRESSES}
        assert {data: text for data, text in answers.items() if text not in polite} == {}
        for payload in CRAFTED_PAYLOADS:
            await bench.start(FLOODER, payload)
        assert await bench.texts(FLOODER) == [chat_text("vi", "link_unknown")] * len(
            CRAFTED_PAYLOADS
        )
    assert errors(caplog) == []


async def test_crafted_command_arguments_never_fail(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Every command a privileged chat can run, with arguments no form would produce."""
    async with chat_bench(migrated_url, admin_telegram_ids=["900"]) as bench:
        await _head_of_everything(bench)
        dispatcher = bench.services.commands.dispatcher
        admin = await bench.services.commands.access.caller(
            channel="telegram", external_id="900", language="vi"
        )
        failed = admin_text("vi", "failed")
        weird = [
            [HUGE],
            [HUGE, HUGE],
            ["-" + HUGE, HUGE, HUGE],
            ["ệ" * 300],
            ["head", "ệ" * 300],
            ["inspector", HUGE],
            ["x" * 5000, "y" * 5000],
            ["0x10", "1e400"],
            ["nan", "inf"],
        ]
        wrong = []
        for command in dispatcher.commands:
            for args in weird:
                replies = await dispatcher.command(admin, command.name, list(args))
                texts = [r.text for r in replies]
                if not texts or failed in texts:
                    wrong.append(f"/{command.name} {[a[:12] for a in args]}: {texts}")
                await dispatcher.cancel(admin)
        assert not wrong, "\n".join(wrong)
    assert errors(caplog) == []


async def _head_of_everything(bench: Bench) -> None:
    """An agency for the head commands to act on (the intake creates it with a case)."""
    await bench.case("C-10")
