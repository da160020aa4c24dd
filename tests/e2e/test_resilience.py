"""Resilience of the real `sipas serve` process against a misbehaving Bot API and crashes.

Blocked chats, 429 storms, 5xx and timeouts, restarts (SIGTERM and SIGKILL) in the middle of a
survey or of a fan-out, and webhook mode. Every test checks that the bot never breaks
Telegram's flood limits (`telegram.violations`), that nothing queued is lost and that nothing
is sent twice beyond what the outbox contract allows ("at most the message in flight").

Process starts and stops run in a worker thread so the fake Bot API, which lives on the test's
event loop, keeps answering while `sipas serve` starts or shuts down.

The service's clock comes from `SIPAS_CLOCK_FILE` and restarts at the file's instant in a new
process; `Timeline` keeps that clock moving forward across restarts (a restarted service must
not find itself back in the past, before its own `not_before` and lease times).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from storage.db import create_engine
from tests.e2e.conftest import (
    MORNING,
    Clock,
    ServiceFactory,
    post_event,
    read_case,
    telegram_link,
)
from tests.e2e.service import ServiceProcess
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.support import dossier

# Every test here is about Telegram's flood limits: the fake enforces Telegram's own.
pytestmark = [pytest.mark.e2e, pytest.mark.flood_limits]

INVITE = "dành khoảng 1 phút"  # only in the survey invitation (first question)
REMINDER = "Nhắc nhẹ"
NOTICE_9 = "đến nhận kết quả theo hẹn"
WEBHOOK_SECRET = "s3cret-token-1"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LINK_BATCH = 20
MAX_IN_FLIGHT = 32  # bot/outbox/dispatcher.py: Dispatcher(max_in_flight=32)


# ----------------------------------------------------------------------------- helpers


class Timeline:
    """The service clock (through the clock file), kept monotonic across restarts."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._base = datetime.fromisoformat(MORNING)
        self._since = time.monotonic()
        clock.set(self._base)

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._since)

    def set(self, instant: datetime | str) -> None:
        moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
        self._base, self._since = moment, time.monotonic()
        self._clock.set(moment)

    def skip(self, seconds: float) -> None:
        """Jump ahead of anything the (previous) service process has seen."""
        self.set(self.now() + timedelta(seconds=seconds))


async def start(bot_service: ServiceFactory, **env: str) -> ServiceProcess:
    return await asyncio.to_thread(bot_service, **env)


async def stop(service: ServiceProcess, sig: int = signal.SIGTERM) -> int:
    return await asyncio.to_thread(service.stop, sig)


def opened(code: str) -> dict[str, Any]:
    """A case being processed (status 4: no notice, no survey)."""
    return dossier(code, TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000")


def returned(code: str) -> dict[str, Any]:
    """The case reaches the survey status 10."""
    return dossier(code, TrangThaiHoSo=10, ThoiDiemXuLy="20261005090000", NgayTra="20261005090000")


def result_ready(code: str) -> dict[str, Any]:
    """Status 9, a notice-worthy event."""
    return dossier(code, TrangThaiHoSo=9, ThoiDiemXuLy="20261005080000")


async def post_all(service: ServiceProcess, payloads: Iterable[dict[str, Any]]) -> None:
    gate = asyncio.Semaphore(8)

    async def one(payload: dict[str, Any]) -> None:
        async with gate:
            await post_event(service, payload)

    await asyncio.gather(*(one(p) for p in payloads))


async def link_chats(
    service: ServiceProcess, telegram: FakeTelegram, pairs: list[tuple[str, int]]
) -> None:
    """Create each case, /start its payload from the user, wait for the 'linked' reply.

    Twenty chats at a time, a second apart: linking is the setup, not the scenario under test,
    and must not itself be a burst of more than 30 messages due at once (bursts are
    test_burst_of_due_messages_stays_within_the_global_limit's and the kill -9 test's business).
    """
    payloads = [await telegram_link(service, opened(pairs[0][0]))]
    for code, _ in pairs[1:]:
        link = (await post_event(service, opened(code)))["links"]["telegram"]
        payloads.append(link.split("start=", 1)[1])
    for first in range(0, len(pairs), LINK_BATCH):
        if first:
            await asyncio.sleep(1.1)
        batch = list(zip(pairs, payloads, strict=True))[first : first + LINK_BATCH]
        for (_, user), payload in batch:
            telegram.user_sends_command(user, "/start", payload)
        for (code, user), _ in batch:
            await telegram.wait_for_message(
                user, contains=f"Đã liên kết hồ sơ {code} —", timeout=30
            )


def invitations(telegram: FakeTelegram, user: int) -> list[SentMessage]:
    """Survey invitations (first question) the chat received."""
    return [m for m in telegram.messages_to(user) if INVITE in (m.text or "")]


def invited_counts(telegram: FakeTelegram, users: Iterable[int]) -> dict[int, int]:
    return {user: len(invitations(telegram, user)) for user in users}


async def query(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def outbox_of(database_url: str, user: int) -> list[tuple[str, str]]:
    """(kind, status) of the chat's outbox rows, oldest first."""
    rows = await query(
        database_url,
        "SELECT o.kind, o.status FROM outbox o JOIN chats c ON c.id = o.chat_id "
        "WHERE c.external_id = :external ORDER BY o.id",
        external=str(user),
    )
    return [(str(r[0]), str(r[1])) for r in rows]


async def outbox_counts(database_url: str) -> dict[str, int]:
    rows = await query(database_url, "SELECT status, COUNT(*) FROM outbox GROUP BY status")
    return {str(r[0]): int(r[1]) for r in rows}


async def settled(database_url: str, timeout: float = 30.0) -> dict[str, int]:
    """Wait until no outbox row is pending or sending; return the counts by status."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await outbox_counts(database_url)
        if not counts.get("pending") and not counts.get("sending"):
            return counts
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox still busy after {timeout} s: {counts}")
        await asyncio.sleep(0.3)


async def queue_invitations(
    service: ServiceProcess, timeline: Timeline, database_url: str, pairs: list[tuple[str, int]]
) -> None:
    """Bring every case to status 10 during quiet hours: the invitations wait in the outbox."""
    timeline.set("2026-10-05T22:00:00+07:00")
    await post_all(service, [returned(code) for code, _ in pairs])
    deadline = time.monotonic() + 30
    while True:
        rows = await query(database_url, "SELECT COUNT(*) FROM outbox WHERE kind = 'question'")
        if int(rows[0][0]) >= len(pairs):
            return
        assert time.monotonic() < deadline, "the invitations were not queued"
        await asyncio.sleep(0.2)


def release_invitations(timeline: Timeline) -> None:
    """Quiet hours end half a second later: every queued invitation is due at once."""
    timeline.set("2026-10-06T06:59:59.500000+07:00")


async def survey_status(service: ServiceProcess, code: str) -> dict[str, Any]:
    return dict((await read_case(service, code))["survey"])


class FloodLimitViolated(AssertionError):
    """The bot broke one of Telegram's flood limits (the fake answered 429 and recorded it)."""


class DuplicateDelivery(AssertionError):
    """A chat received the same message more often than the outbox contract allows."""


def report(service: ServiceProcess, telegram: FakeTelegram) -> str:
    """Context for a failed assertion: the violations and the tail of the service log."""
    lines = [f"{len(telegram.violations)} violation(s), first ones: {telegram.violations[:3]}"]
    for violation in telegram.violations[:3]:
        window = [
            c.t
            for c in telegram.calls_to(violation.method)
            if c.status == 200 and violation.t - 1.0 < c.t <= violation.t
        ]
        if window:
            lines.append(
                f"  {violation.kind} at t={violation.t:.3f}: {len(window)} sends accepted in the "
                f"second before, arriving {window[0] - violation.t:+.3f} s … "
                f"{window[-1] - violation.t:+.3f} s"
            )
    lines.append("--- serve.log tail ---")
    lines.append(service.log()[-3000:])
    return "\n".join(lines)


def assert_within_flood_limits(service: ServiceProcess, telegram: FakeTelegram) -> None:
    if telegram.violations:
        raise FloodLimitViolated(report(service, telegram))


# ------------------------------------------------------------------------------- tests


async def test_blocked_chat_gets_nothing_more_and_survey_stays_invited(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    timeline = Timeline(clock)
    blocker, other = 8101, 8102
    service = await start(bot_service)
    await link_chats(
        service,
        telegram,
        [("BLK-1", blocker), ("BLK-2", blocker), ("OK-1", other), ("OK-2", other)],
    )

    telegram.block(blocker)
    await post_all(service, [returned("BLK-1"), returned("OK-1")])

    def refused() -> bool:
        return any(c.status == 403 for c in telegram.calls_to("sendMessage", chat_id=blocker))

    await telegram.wait_until(refused, timeout=20, message="no 403 for the blocked chat")
    await telegram.wait_for_message(other, contains=INVITE, timeout=20)
    calls_at_403 = len(telegram.calls_to("sendMessage", chat_id=blocker))
    assert telegram.calls_to("sendMessage", chat_id=blocker)[-1].status == 403

    # A notice-worthy event for the blocked chat's other case, and the reminder a day later.
    await post_all(service, [result_ready("BLK-2"), result_ready("OK-2")])
    await telegram.wait_for_message(other, contains=NOTICE_9, timeout=20)
    timeline.set(datetime.fromisoformat(MORNING) + timedelta(hours=24, minutes=10))
    await telegram.wait_for_message(other, contains=REMINDER, timeout=20)
    await asyncio.sleep(1.5)  # time for anything wrongly queued to the blocked chat to go out

    after = telegram.calls_to("sendMessage", chat_id=blocker)
    assert len(after) == calls_at_403, [(c.status, c.params.get("text")) for c in after]
    assert await survey_status(service, "BLK-1") == {"status": "invited", "answers": 0}
    assert (await survey_status(service, "OK-1"))["status"] == "invited"
    rows = await outbox_of(database_url, blocker)
    assert ("question", "blocked") in rows, rows
    assert not [r for r in rows if r[1] in ("pending", "sending")], rows
    blocked_at = await query(
        database_url, "SELECT blocked_at FROM chats WHERE external_id = :e", e=str(blocker)
    )
    assert blocked_at and blocked_at[0][0] is not None
    # The other chat got everything: two links, the invitation, the notice, the reminder.
    texts = [m.text or "" for m in telegram.messages_to(other)]
    assert sum(INVITE in t for t in texts) == 1 and sum(REMINDER in t for t in texts) == 1
    assert sum(NOTICE_9 in t for t in texts) == 1
    assert_within_flood_limits(service, telegram)
    assert await stop(service) == 0


@pytest.mark.both_databases
async def test_429_storm_every_chat_gets_exactly_one_invitation(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    Timeline(clock)
    users = list(range(8201, 8241))
    pairs = [(f"STORM-{user}", user) for user in users]
    service = await start(bot_service)
    await link_chats(service, telegram, pairs)

    telegram.fail_rate("sendMessage", rate=0.3, status=429, retry_after=1, seed=11)
    await post_all(service, [returned(code) for code, _ in pairs])

    await telegram.wait_until(
        lambda: all(invited_counts(telegram, users).values()),
        timeout=60,
        message="some chat never got its invitation",
    )
    counts = await settled(database_url)
    assert invited_counts(telegram, users) == dict.fromkeys(users, 1)
    assert counts.get("failed", 0) == 0 and counts.get("blocked", 0) == 0, counts
    injected = [c for c in telegram.calls_to("sendMessage") if c.injected and c.status == 429]
    assert len(injected) >= 5, "the storm did not happen"
    # retry_after is honoured: the next send to that chat comes at least ~1 s later.
    for refused in injected:
        later = [
            c.t
            for c in telegram.calls_to("sendMessage", chat_id=refused.chat_id)
            if c.t > refused.t
        ]
        assert later, f"no retry after the 429 to chat {refused.chat_id}"
        assert later[0] - refused.t >= 0.9, (refused.chat_id, later[0] - refused.t)
    assert_within_flood_limits(service, telegram)
    telegram.clear_faults()
    assert await stop(service) == 0


async def test_5xx_and_timeouts_are_retried_with_backoff(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    Timeline(clock)
    errors, slow_lost, slow_done = 8301, 8302, 8303
    service = await start(bot_service)
    await link_chats(
        service, telegram, [("ERR-500", errors), ("TMO-LOST", slow_lost), ("TMO-DONE", slow_done)]
    )

    telegram.fail_next("sendMessage", count=2, status=500, chat_id=errors)
    # Held past python-telegram-bot's 5 s read timeout: the bot gives up on the call. Either
    # Telegram never acted on it (execute=False) or it did and only the answer was lost.
    telegram.fail_next("sendMessage", status="timeout", delay=6.5, chat_id=slow_lost)
    telegram.fail_next("sendMessage", status="timeout", delay=6.5, execute=True, chat_id=slow_done)
    await post_all(service, [returned("ERR-500"), returned("TMO-LOST"), returned("TMO-DONE")])

    for user in (errors, slow_lost, slow_done):
        await telegram.wait_for_message(user, contains=INVITE, timeout=40)
    await settled(database_url)

    assert len(invitations(telegram, errors)) == 1
    calls = telegram.calls_to("sendMessage", chat_id=errors)[-3:]
    assert [c.status for c in calls] == [500, 500, 200]
    gaps = [b.t - a.t for a, b in itertools.pairwise(calls)]
    # Backoff: not at once, and longer the second time.
    assert gaps[0] >= 1.0 and gaps[1] > gaps[0], f"retried without a growing backoff: {gaps}"
    outcomes = await query(
        database_url,
        "SELECT a.outcome FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id "
        "JOIN chats c ON c.id = o.chat_id WHERE c.external_id = :e AND o.kind = 'question' "
        "ORDER BY a.id",
        e=str(errors),
    )
    assert [r[0] for r in outcomes] == ["retry", "retry", "sent"]

    assert len(invitations(telegram, slow_lost)) == 1
    assert 1 <= len(invitations(telegram, slow_done)) <= 2
    for user in (errors, slow_lost, slow_done):
        assert ("question", "sent") in await outbox_of(database_url, user)
    assert_within_flood_limits(service, telegram)
    assert await stop(service) == 0


@pytest.mark.both_databases
async def test_survey_resumes_after_restart_on_its_questionnaire_version(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    timeline = Timeline(clock)
    citizen = 8401
    service = await start(bot_service)
    await link_chats(service, telegram, [("RST-1", citizen)])
    await post_event(service, returned("RST-1"))

    question = await telegram.wait_for_message(citizen, contains=INVITE, timeout=20)
    for number in (1, 2):
        assert f"Câu {number}/" in (question.text or "")
        telegram.press_button(citizen, question, "5. Rất hài lòng")
        question = await telegram.wait_for_message(
            citizen, lambda m, mid=question.message_id: m.message_id > mid, timeout=20
        )
    assert "Câu 3/" in (question.text or "") and question.button_labels
    assert await survey_status(service, "RST-1") == {"status": "in_progress", "answers": 2}

    assert await stop(service) == 0
    # While the service is down an admin publishes version 2 with reworded questions.
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT version, base, definition FROM questionnaires "
                        "WHERE status = 'active'"
                    )
                )
            ).one()
            version, base, definition = row
            definition = json.loads(definition) if isinstance(definition, str) else definition
            for item in definition["questions"]:
                item["text_vi"] = "[v2] " + item["text_vi"]
            await conn.execute(
                text("UPDATE questionnaires SET status = 'retired' WHERE version = :v"),
                {"v": version},
            )
            await conn.execute(
                text(
                    "INSERT INTO questionnaires (version, status, base, definition, created_at,"
                    " published_at) VALUES (:v, 'active', :b, :d, :t, :t)"
                ),
                {
                    "v": version + 1,
                    "b": base,
                    "d": json.dumps(definition, ensure_ascii=False),
                    "t": datetime(2026, 10, 5, 3, 0),
                },
            )
    finally:
        await engine.dispose()

    timeline.skip(5)
    service = await start(bot_service)
    telegram.press_button(citizen, question, "5. Rất hài lòng")
    following = await telegram.wait_for_message(
        citizen, lambda m, mid=question.message_id: m.message_id > mid, timeout=30
    )
    assert "Câu 4/" in (following.text or ""), following.text
    assert "[v2]" not in (following.text or ""), "the survey switched questionnaire version"
    assert await survey_status(service, "RST-1") == {"status": "in_progress", "answers": 3}
    kept = await query(
        database_url, "SELECT questionnaire_version FROM surveys WHERE case_code = 'RST-1'"
    )
    assert kept[0][0] == version
    pressed = telegram.messages_to(citizen)
    assert any(m.message_id == question.message_id and not m.button_labels for m in pressed)
    assert_within_flood_limits(service, telegram)
    assert await stop(service) == 0


@pytest.mark.both_databases
async def test_kill_9_during_fan_out_loses_nothing(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    timeline = Timeline(clock)
    users = list(range(8501, 8561))
    pairs = [(f"KILL-{user}", user) for user in users]
    service = await start(bot_service)
    await link_chats(service, telegram, pairs)
    await queue_invitations(service, timeline, database_url, pairs)
    assert sum(invited_counts(telegram, users).values()) == 0
    release_invitations(timeline)

    await telegram.wait_until(
        lambda: sum(invited_counts(telegram, users).values()) >= 10, timeout=30
    )
    assert service.process is not None
    service.process.kill()
    at_kill = invited_counts(telegram, users)
    assert await stop(service, signal.SIGKILL) == -signal.SIGKILL
    assert sum(1 for n in at_kill.values() if n) < len(users), "fan-out ended before the kill"

    timeline.skip(90)  # the service was down for a while: the dead process's leases expired
    service = await start(bot_service)
    await telegram.wait_until(
        lambda: all(invited_counts(telegram, users).values()),
        timeout=60,
        message="some chat never got its invitation after the restart",
    )
    counts = await settled(database_url)
    final = invited_counts(telegram, users)
    twice = {user: n for user, n in final.items() if n > 1}
    assert all(n <= 2 for n in final.values()), twice
    assert len(twice) <= MAX_IN_FLIGHT, twice
    assert counts.get("pending", 0) == 0 and counts.get("sending", 0) == 0, counts
    assert counts.get("failed", 0) == 0 and counts.get("blocked", 0) == 0, counts
    assert await stop(service) == 0
    assert_within_flood_limits(service, telegram)


async def test_burst_of_due_messages_stays_within_the_global_limit(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    """45 invitations fall due at once and the network holds the first sends up to a second.

    Telegram counts messages when they reach it; a limiter that starts the second's budget
    when a send starts (not when it is known to have arrived) lets the 31st in early.
    """
    timeline = Timeline(clock)
    users = list(range(8801, 8846))
    pairs = [(f"BURST-{user}", user) for user in users]
    service = await start(bot_service)
    await link_chats(service, telegram, pairs)
    await queue_invitations(service, timeline, database_url, pairs)
    await asyncio.sleep(1.1)  # nothing sent in the last second
    release_invitations(timeline)
    # The fake Bot API stalls for 1.5 s (its event loop is blocked): the invitations the bot
    # claims 0.5-1 s after the release reach it 0.5-1 s late, all together; the 31st must
    # still wait until a full second after they arrived.
    time.sleep(1.5)
    await telegram.wait_until(
        lambda: all(invited_counts(telegram, users).values()),
        timeout=60,
        message="some chat never got its invitation",
    )
    await settled(database_url)
    assert invited_counts(telegram, users) == dict.fromkeys(users, 1)
    assert await stop(service) == 0
    assert_within_flood_limits(service, telegram)


async def test_webhook_mode(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    Timeline(clock)
    citizen, intruder = 8601, 8602
    service = await start(
        bot_service, TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    hook = f"{service.url}/telegram/webhook"
    await telegram.wait_until(lambda: telegram.calls_to("setWebhook"), timeout=30)
    registered = telegram.calls_to("setWebhook")[-1]
    assert registered.ok, registered.outcome
    assert registered.params["url"] == hook
    assert registered.params["secret_token"] == WEBHOOK_SECRET
    assert telegram.webhook_url == hook

    async with aiohttp.ClientSession() as http:

        async def post(body: bytes, secret: str | None) -> int:
            headers = {"Content-Type": "application/json"}
            if secret is not None:
                headers[SECRET_HEADER] = secret
            async with http.post(hook, data=body, headers=headers) as response:
                await response.read()
                return response.status

        # Bodies that are not updates: refused as the client's fault.
        for junk in (b"not json at all", b"{}", b'{"foo": 1}', b"\xff\xfe"):
            status = await post(junk, WEBHOOK_SECRET)
            assert 400 <= status < 500, (junk, status)

        # A forged update: a /start that would link a case, without or with a wrong secret.
        stolen = (await post_event(service, opened("HOOK-2")))["links"]["telegram"]
        forged = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": intruder, "type": "private", "first_name": "X"},
                "from": {"id": intruder, "is_bot": False, "first_name": "X"},
                "text": "/start " + stolen.split("start=", 1)[1],
                "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
            },
        }
        body = json.dumps(forged).encode()
        assert await post(body, "wrong-secret") == 401
        assert await post(body, None) == 401
        assert await post(body, WEBHOOK_SECRET.upper()) == 401

    # The real path: Telegram POSTs the citizen's /start to the webhook.
    payload = await telegram_link(service, opened("HOOK-1"))
    update = telegram.user_sends_command(citizen, "/start", payload)
    linked = await telegram.wait_for_message(citizen, contains="HOOK-1", timeout=20)
    assert "Đã liên kết hồ sơ HOOK-1" in (linked.text or "")
    await telegram.wait_delivered(update)
    deliveries = [d for d in telegram.webhook_deliveries if d.update_id == update["update_id"]]
    assert deliveries and deliveries[-1].url == hook and deliveries[-1].status == 200
    assert telegram.calls_to("getUpdates") == []  # no polling while the webhook is set

    await asyncio.sleep(1.0)
    assert telegram.calls_to("sendMessage", chat_id=intruder) == []
    assert await survey_status(service, "HOOK-2") == {"status": "none", "answers": 0}
    assert (
        await query(database_url, "SELECT id FROM chats WHERE external_id = :e", e=str(intruder))
        == []
    )
    assert await survey_status(service, "HOOK-1") == {"status": "linked", "answers": 0}
    assert_within_flood_limits(service, telegram)
    assert await stop(service) == 0


async def test_webhook_never_answers_5xx_to_a_body_that_is_not_an_update(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock
) -> None:
    Timeline(clock)
    service = await start(
        bot_service, TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    hook = f"{service.url}/telegram/webhook"
    await telegram.wait_until(lambda: telegram.calls_to("setWebhook"), timeout=30)
    bodies = [
        b"null",
        b"[]",
        b'"an update"',
        b"42",
        b"true",
        b'{"update_id": 5, "message": "not an object"}',
    ]
    answers: dict[bytes, int] = {}
    async with aiohttp.ClientSession() as http:
        for body in bodies:
            async with http.post(
                hook,
                data=body,
                headers={"Content-Type": "application/json", SECRET_HEADER: WEBHOOK_SECRET},
            ) as response:
                await response.read()
                answers[body] = response.status
    await stop(service)
    assert all(400 <= status < 500 for status in answers.values()), answers


@pytest.mark.both_databases
async def test_sigterm_during_fan_out_exits_cleanly_and_loses_nothing(
    bot_service: ServiceFactory, telegram: FakeTelegram, clock: Clock, database_url: str
) -> None:
    timeline = Timeline(clock)
    users = list(range(8701, 8731))
    pairs = [(f"TERM-{user}", user) for user in users]
    service = await start(bot_service, SIPAS_LOG_FORMAT="json")
    await link_chats(service, telegram, pairs)
    await queue_invitations(service, timeline, database_url, pairs)

    # A slow Bot API: each send takes effect at once but is answered 1.5 s later, so the
    # SIGTERM lands while the sends are in flight.
    telegram.fail_rate("sendMessage", rate=1.0, status="timeout", delay=1.5, execute=True)
    release_invitations(timeline)
    await telegram.wait_until(
        lambda: sum(invited_counts(telegram, users).values()) >= 1, timeout=30
    )
    began = time.monotonic()
    code = await stop(service)
    took = time.monotonic() - began
    assert code == 0, report(service, telegram)
    assert took < 30, took
    telegram.clear_faults()

    timeline.skip(5)
    service = await start(bot_service, SIPAS_LOG_FORMAT="json")
    await telegram.wait_until(
        lambda: all(invited_counts(telegram, users).values()),
        timeout=60,
        message="some chat never got its invitation after the restart",
    )
    counts = await settled(database_url)
    await asyncio.sleep(0.5)
    assert counts.get("failed", 0) == 0 and counts.get("blocked", 0) == 0, counts
    assert_within_flood_limits(service, telegram)
    assert await stop(service) == 0
    final = invited_counts(telegram, users)
    twice = {user: n for user, n in final.items() if n != 1}
    if twice:
        raise DuplicateDelivery(
            f"{len(twice)} of {len(users)} chats got their invitation more than once: {twice}"
            f"\n{service.log()[-2500:]}"
        )
