"""The dispatcher against an in-memory outbox and scripted channels: what each outcome leads to."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.outbox import Blocked, Dispatcher, Failed, RetryLater, SendOutcome, Sent
from storage.outbox import ClaimedMessage

T0 = datetime(2026, 11, 2, 8, 0)


@dataclass
class Row:
    id: int
    chat_id: int
    channel: str
    status: str = "pending"
    not_before: datetime = T0
    claimed_until: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    external_message_id: str | None = None


@dataclass
class FakeOutbox:
    """The outbox's rules (due rows, per-chat order, leases, blocked chats) in a dict."""

    rows: dict[int, Row] = field(default_factory=dict)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    claim_limits: list[int] = field(default_factory=list)
    costs: dict[int, str | None] = field(default_factory=dict)

    def add(self, chat_id: int, channel: str = "telegram") -> int:
        row_id = len(self.rows) + 1
        self.rows[row_id] = Row(row_id, chat_id, channel)
        return row_id

    def status(self, row_id: int) -> str:
        return self.rows[row_id].status

    async def claim(
        self, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[ClaimedMessage]:
        self.claim_limits.append(limit)
        claimed: list[ClaimedMessage] = []
        for row in sorted(self.rows.values(), key=lambda r: r.id):
            if len(claimed) >= limit:
                break
            if not self._due(row, now) or self._held_back(row, now):
                continue
            row.status, row.attempts = "sending", row.attempts + 1
            row.claimed_until = now + timedelta(seconds=lease_seconds)
            claimed.append(
                ClaimedMessage(
                    id=row.id,
                    chat_id=row.chat_id,
                    channel=row.channel,
                    external_id=str(row.chat_id),
                    language="vi",
                    kind="notice",
                    payload={},
                    attempts=row.attempts,
                    survey_id=None,
                )
            )
        return claimed

    @staticmethod
    def _due(row: Row, now: datetime) -> bool:
        if row.status == "pending":
            return row.not_before <= now
        return row.status == "sending" and row.claimed_until is not None and row.claimed_until < now

    def _held_back(self, row: Row, now: datetime) -> bool:
        return any(
            other.chat_id == row.chat_id
            and other.id < row.id
            and (
                other.status == "sending" or (other.status == "pending" and other.not_before <= now)
            )
            for other in self.rows.values()
        )

    async def sent(
        self,
        message_id: int,
        *,
        now: datetime,
        external_message_id: str | None,
        cost: str | None = None,
    ) -> None:
        row = self.rows[message_id]
        row.status, row.external_message_id = "sent", external_message_id
        self.costs[message_id] = cost
        self.events.append(("sent", message_id, external_message_id))

    async def retry(self, message_id: int, *, now: datetime, at: datetime, error: str) -> None:
        row = self.rows[message_id]
        row.status, row.not_before, row.last_error = "pending", at, error
        self.events.append(("retry", message_id, (at - now).total_seconds(), error))

    async def failed(self, message_id: int, *, now: datetime, error: str) -> None:
        row = self.rows[message_id]
        row.status, row.last_error = "failed", error
        self.events.append(("failed", message_id, error))

    async def blocked(self, message_id: int, *, now: datetime, error: str) -> None:
        chat = self.rows[message_id].chat_id
        for row in self.rows.values():
            if row.chat_id == chat and (
                row.id == message_id or row.status in {"pending", "sending"}
            ):
                row.status = "blocked"
        self.events.append(("blocked", message_id, error))

    def outcomes(self, kind: str) -> list[tuple[Any, ...]]:
        return [event for event in self.events if event[0] == kind]


Script = Callable[[ClaimedMessage], SendOutcome]


class ScriptedSender:
    """A channel whose answers a test decides; it notes every message it was asked to send."""

    def __init__(self, script: Script, channel: str = "telegram") -> None:
        self.channel = channel
        self.script = script
        self.sent: list[ClaimedMessage] = []

    async def send(self, message: ClaimedMessage) -> SendOutcome:
        self.sent.append(message)
        return self.script(message)


class Clock:
    """The dispatcher's idea of UTC now, moved by hand."""

    def __init__(self) -> None:
        self.value = T0

    def __call__(self) -> datetime:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += timedelta(seconds=seconds)


def dispatcher(
    outbox: FakeOutbox, *senders: ScriptedSender, clock: Clock | None = None, **kw: Any
) -> Dispatcher:
    options: dict[str, Any] = {"window": 0.01, "rng": random.Random(7)}
    options.update(kw)
    return Dispatcher(outbox, {s.channel: s for s in senders}, now=clock or Clock(), **options)


def always(outcome: SendOutcome) -> Script:
    return lambda _: outcome


async def test_sent_records_the_channels_message_id() -> None:
    outbox = FakeOutbox()
    row = outbox.add(chat_id=1)
    sender = ScriptedSender(lambda m: Sent(external_message_id=f"tg-{m.id}"))
    await dispatcher(outbox, sender).run_until_idle()
    assert outbox.events == [("sent", row, f"tg-{row}")]
    assert outbox.costs == {row: "free"}


async def test_each_send_is_recorded_with_the_cost_class_its_channel_gave() -> None:
    outbox = FakeOutbox()
    paid = outbox.add(chat_id=1, channel="zns")
    billable = outbox.add(chat_id=2, channel="zalo_oa")
    costs = {"zns": "zns", "zalo_oa": "oa_billable"}
    senders = [
        ScriptedSender(lambda m, c=channel: Sent(cost=costs[c]), channel)
        for channel in ("zns", "zalo_oa")
    ]
    await dispatcher(outbox, *senders).run_until_idle()
    assert outbox.costs == {paid: "zns", billable: "oa_billable"}


async def test_429_is_retried_after_the_time_telegram_asks_for() -> None:
    outbox, clock = FakeOutbox(), Clock()
    row = outbox.add(chat_id=1)
    answers: Iterator[SendOutcome] = iter(
        [RetryLater("429: Too Many Requests", after=7), Sent("9")]
    )
    sender = ScriptedSender(lambda _: next(answers))
    worker = dispatcher(outbox, sender, clock=clock)

    await worker.run_until_idle()
    assert outbox.events == [("retry", row, 7.0, "429: Too Many Requests")]
    clock.advance(6.9)
    await worker.run_until_idle()
    assert len(sender.sent) == 1  # not before retry_after
    clock.advance(0.1)
    await worker.run_until_idle()
    assert outbox.status(row) == "sent"
    assert len(sender.sent) == 2


async def test_server_errors_and_timeouts_back_off_longer_each_time() -> None:
    outbox, clock = FakeOutbox(), Clock()
    row = outbox.add(chat_id=1)

    def flaky(message: ClaimedMessage) -> SendOutcome:
        if message.attempts % 2:
            return RetryLater("502: Bad Gateway")
        raise TimeoutError("read timed out")

    worker = dispatcher(outbox, ScriptedSender(flaky), clock=clock, max_attempts=20)
    for _ in range(7):
        await worker.run_until_idle()
        clock.advance(1000)

    delays = [delay for _, _, delay, _ in outbox.outcomes("retry")]
    assert len(delays) == 7
    assert delays == sorted(delays) and len(set(delays)) == 7
    for attempt, delay in enumerate(delays, start=1):
        assert 0.8 * 2**attempt <= delay <= 1.2 * 2**attempt
    errors = [error for _, _, _, error in outbox.outcomes("retry")]
    assert errors[:2] == ["502: Bad Gateway", "TimeoutError: read timed out"]
    assert outbox.status(row) == "pending"


def test_backoff_is_capped_at_five_minutes_with_jitter() -> None:
    worker = dispatcher(FakeOutbox(), ScriptedSender(always(Sent())))
    delays = [worker.backoff(30) for _ in range(200)]
    assert all(240 <= d <= 360 for d in delays)
    assert len(set(delays)) > 1


async def test_403_blocks_the_chat_and_nothing_more_goes_to_it() -> None:
    outbox, clock = FakeOutbox(), Clock()
    blocked_rows = [outbox.add(chat_id=1) for _ in range(3)]
    other = outbox.add(chat_id=2)

    def script(message: ClaimedMessage) -> SendOutcome:
        if message.chat_id == 1:
            return Blocked("403: Forbidden: bot was blocked by the user")
        return Sent("5")

    sender = ScriptedSender(script)
    worker = dispatcher(outbox, sender, clock=clock)
    await worker.run_until_idle()
    clock.advance(86_400)
    await worker.run_until_idle()

    assert [m.id for m in sender.sent] == [blocked_rows[0], other]
    assert outbox.outcomes("blocked") == [
        ("blocked", blocked_rows[0], "403: Forbidden: bot was blocked by the user")
    ]
    assert [outbox.status(r) for r in blocked_rows] == ["blocked"] * 3
    assert outbox.status(other) == "sent"


async def test_an_unexpected_exception_is_logged_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox, clock = FakeOutbox(), Clock()
    row = outbox.add(chat_id=1)
    answers: list[SendOutcome | Exception] = [RuntimeError("boom"), Sent("1")]

    def script(_: ClaimedMessage) -> SendOutcome:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    worker = dispatcher(outbox, ScriptedSender(script), clock=clock)
    with caplog.at_level(logging.WARNING, logger="bot.outbox.dispatcher"):
        await worker.run_until_idle()
    [(_, _, delay, error)] = outbox.outcomes("retry")
    assert error == "RuntimeError: boom"
    assert 1.6 <= delay <= 2.4
    raised = [r.exc_info[1] for r in caplog.records if r.exc_info is not None]
    assert [str(exc) for exc in raised] == ["boom"]
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert getattr(logged[0], "outbox_id", None) == row

    clock.advance(3)
    await worker.run_until_idle()
    assert outbox.status(row) == "sent"


async def test_gives_up_after_max_attempts() -> None:
    outbox, clock = FakeOutbox(), Clock()
    row = outbox.add(chat_id=1)
    sender = ScriptedSender(always(RetryLater("503: Service Unavailable", after=1)))
    worker = dispatcher(outbox, sender, clock=clock, max_attempts=3)
    for _ in range(5):
        await worker.run_until_idle()
        clock.advance(2)

    assert len(sender.sent) == 3
    assert [event[0] for event in outbox.events] == ["retry", "retry", "failed"]
    assert outbox.status(row) == "failed"
    assert outbox.rows[row].last_error == ("gave up after 3 attempts: 503: Service Unavailable")


async def test_a_permanent_failure_is_not_retried() -> None:
    outbox, clock = FakeOutbox(), Clock()
    row = outbox.add(chat_id=1)
    sender = ScriptedSender(always(Failed("400: Bad Request: message text is empty")))
    worker = dispatcher(outbox, sender, clock=clock)
    await worker.run_until_idle()
    clock.advance(3600)
    await worker.run_until_idle()
    assert len(sender.sent) == 1
    assert outbox.events == [("failed", row, "400: Bad Request: message text is empty")]


async def test_a_channel_without_a_sender_fails_its_messages() -> None:
    outbox = FakeOutbox()
    row = outbox.add(chat_id=1, channel="zalo")
    telegram = ScriptedSender(always(Sent()))
    await dispatcher(outbox, telegram).run_until_idle()
    assert telegram.sent == []
    assert outbox.events == [("failed", row, "no sender for channel 'zalo'")]


async def test_without_any_channel_messages_stay_queued() -> None:
    outbox = FakeOutbox()
    row = outbox.add(chat_id=1)
    stop = asyncio.Event()
    running = asyncio.create_task(Dispatcher(outbox, {}, poll_interval=0.01, now=Clock()).run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert outbox.claim_limits == []
    assert outbox.status(row) == "pending"


async def test_a_chats_messages_go_out_one_at_a_time_in_order() -> None:
    outbox = FakeOutbox()
    rows = [outbox.add(chat_id=1) for _ in range(5)]
    in_flight: list[int] = []
    overlaps: list[int] = []

    class SlowSender:
        channel = "telegram"

        async def send(self, message: ClaimedMessage) -> SendOutcome:
            in_flight.append(message.id)
            overlaps.append(len(in_flight))
            await asyncio.sleep(0.005)
            in_flight.remove(message.id)
            return Sent()

    worker = Dispatcher(outbox, {"telegram": SlowSender()}, window=0.01, now=Clock())
    await worker.run_until_idle()
    assert [event[1] for event in outbox.events] == rows
    assert max(overlaps) == 1


async def test_claims_never_exceed_free_slots_nor_one_windows_budget() -> None:
    outbox = FakeOutbox()
    for chat in range(40):
        outbox.add(chat_id=chat)
    release = asyncio.Event()
    running: list[int] = []
    most = 0

    class GatedSender:
        channel = "telegram"

        async def send(self, message: ClaimedMessage) -> SendOutcome:
            nonlocal most
            running.append(message.id)
            most = max(most, len(running))
            await release.wait()
            running.remove(message.id)
            return Sent()

    worker = Dispatcher(
        outbox,
        {"telegram": GatedSender()},
        max_in_flight=6,
        global_limit=4,
        window=0.05,
        now=Clock(),
    )
    idle = asyncio.create_task(worker.run_until_idle())
    await asyncio.sleep(0.2)
    assert worker.in_flight == 6
    release.set()
    await idle
    assert max(outbox.claim_limits) == 4
    assert most <= 6
    assert len(outbox.outcomes("sent")) == 40


async def test_run_finishes_the_sends_under_way_when_stopped() -> None:
    outbox = FakeOutbox()
    row = outbox.add(chat_id=1)
    started, release = asyncio.Event(), asyncio.Event()

    class SlowSender:
        channel = "telegram"

        async def send(self, message: ClaimedMessage) -> SendOutcome:
            started.set()
            await release.wait()
            return Sent("77")

    stop = asyncio.Event()
    running = asyncio.create_task(
        Dispatcher(outbox, {"telegram": SlowSender()}, now=Clock()).run(stop)
    )
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.sleep(0.05)
    assert not running.done()  # waits for the message in flight
    release.set()
    await asyncio.wait_for(running, 5)
    assert outbox.events == [("sent", row, "77")]


async def test_wake_sends_a_new_message_without_waiting_for_the_poll() -> None:
    outbox = FakeOutbox()
    sender = ScriptedSender(always(Sent()))
    worker = dispatcher(outbox, sender, poll_interval=60)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.05)  # the loop found nothing and sleeps until the next poll
    outbox.add(chat_id=1)
    worker.wake()
    try:
        for _ in range(100):
            if sender.sent:
                break
            await asyncio.sleep(0.01)
        assert len(sender.sent) == 1
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)


async def test_only_the_leader_sends() -> None:
    class Switch:
        def __init__(self) -> None:
            self.leading = False
            self.released = False

        async def acquire(self) -> bool:
            return self.leading

        async def release(self) -> None:
            self.released = True

    outbox = FakeOutbox()
    outbox.add(chat_id=1)
    sender = ScriptedSender(always(Sent()))
    leadership = Switch()
    worker = dispatcher(
        outbox, sender, leadership=leadership, leadership_interval=0.02, poll_interval=0.01
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.1)
    assert sender.sent == [] and outbox.claim_limits == []
    leadership.leading = True
    for _ in range(100):
        if sender.sent:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert len(sender.sent) == 1
    assert leadership.released


class PreparingSender:
    """A sender with a preparation step (the dispatcher's `prepare`): what it knows before
    the platform call, per chat, and the calls it made, in order."""

    channel = "telegram"

    def __init__(self, known: dict[int, SendOutcome | Exception] | None = None) -> None:
        self.known = known or {}
        self.gates: dict[int, asyncio.Event] = {}
        self.calls: list[str] = []
        self.sent: dict[int, asyncio.Event] = {}

    async def send(self, message: ClaimedMessage) -> SendOutcome:
        raise AssertionError("a sender that prepares is sent through its preparation")

    async def prepare(self, message: ClaimedMessage) -> Any:
        gate = self.gates.get(message.chat_id)
        if gate is not None:
            await gate.wait()
        self.calls.append(f"prepared {message.chat_id}")
        known = self.known.get(message.chat_id)
        if isinstance(known, Exception):
            raise known
        if known is not None:
            return known

        async def transmit() -> SendOutcome:
            self.calls.append(f"sent {message.chat_id}")
            self.sent.setdefault(message.chat_id, asyncio.Event()).set()
            return Sent(f"m{message.chat_id}")

        return transmit


async def test_a_slow_preparation_holds_no_slot_of_the_channels_budget() -> None:
    outbox = FakeOutbox()
    first, second = outbox.add(chat_id=1), outbox.add(chat_id=2)
    sender = PreparingSender()
    sender.gates[1] = asyncio.Event()  # chat 1's preparation (a database read) is slow
    worker = Dispatcher(outbox, {"telegram": sender}, global_limit=1, window=0.05, now=Clock())
    idle = asyncio.create_task(worker.run_until_idle())
    await asyncio.wait_for(sender.sent.setdefault(2, asyncio.Event()).wait(), 5)
    # The one slot went to the message that was ready, not to the one still preparing.
    assert sender.calls == ["prepared 2", "sent 2"]
    sender.gates[1].set()
    await asyncio.wait_for(idle, 5)
    assert sender.calls == ["prepared 2", "sent 2", "prepared 1", "sent 1"]
    assert sorted(outbox.outcomes("sent")) == [("sent", first, "m1"), ("sent", second, "m2")]


async def test_an_outcome_known_before_the_call_takes_no_slot() -> None:
    outbox = FakeOutbox()
    closed, broken, fine = outbox.add(chat_id=1), outbox.add(chat_id=2), outbox.add(chat_id=3)
    sender = PreparingSender(
        {1: Failed("reply window closed", fallback=True), 2: RuntimeError("database gone")}
    )
    # One send a minute: if either refusal had taken the slot, chat 3 would wait for a minute.
    worker = Dispatcher(outbox, {"telegram": sender}, global_limit=1, window=60, now=Clock())
    await asyncio.wait_for(worker.run_until_idle(), 5)
    assert outbox.status(closed) == "failed"
    assert outbox.rows[broken].last_error == "RuntimeError: database gone"
    assert outbox.outcomes("sent") == [("sent", fine, "m3")]


async def test_a_dispatcher_that_starts_leading_sends_nothing_in_its_first_window() -> None:
    """After a restart (or a hand-over between replicas) the new process cannot know what its
    predecessor sent in the last window: it waits one before its first send."""
    outbox = FakeOutbox()
    outbox.add(chat_id=1)
    sent_at: list[float] = []
    sent = asyncio.Event()
    loop = asyncio.get_running_loop()

    class TimedSender:
        channel = "telegram"

        async def send(self, message: ClaimedMessage) -> SendOutcome:
            sent_at.append(loop.time())
            sent.set()
            return Sent()

    stop = asyncio.Event()
    started = loop.time()
    worker = Dispatcher(outbox, {"telegram": TimedSender()}, window=0.3, now=Clock())
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(sent.wait(), 5)
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
    assert sent_at and sent_at[0] - started >= 0.3
