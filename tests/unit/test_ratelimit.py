"""Sliding-window limits on a hand-driven clock: the budget holds and nobody waits too long."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.outbox.ratelimit import (
    BUCKET_MARGIN,
    DEFAULT_MARGIN,
    ArrivalWindowLimiter,
    ChatLimiter,
    TokenBucket,
)

SECOND = 1.0 + DEFAULT_MARGIN  # a one-second window and its margin
PACE = 1.0 + BUCKET_MARGIN  # a chat's one message a second and its bucket's margin


class FakeClock:
    """Monotonic time that moves only when someone sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of events less than `window` apart from the first of them."""
    times = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_impossible_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        ArrivalWindowLimiter(0, 1.0)
    with pytest.raises(ValueError):
        ArrivalWindowLimiter(3, 0.0)
    with pytest.raises(ValueError):
        TokenBucket(0, 1.0)
    with pytest.raises(ValueError):
        TokenBucket(3, 0.0)


async def test_chats_have_budgets_of_their_own() -> None:
    clock = FakeClock()
    chats = ChatLimiter(3, 1.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await chats.acquire("a")
        await chats.acquire("b")
    assert clock.sleeps == []

    await chats.acquire("a")
    assert clock() == pytest.approx(PACE)
    await chats.acquire("c")
    assert clock.sleeps == [pytest.approx(PACE)]


async def test_the_default_per_chat_budget_is_a_burst_of_three_then_one_a_second() -> None:
    clock = FakeClock()
    chats = ChatLimiter(clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(6):
        await chats.acquire(42)
        times.append(clock())
    assert times == [pytest.approx(t) for t in [0, 0, 0, PACE, 2 * PACE, 3 * PACE]]
    # In any stretch of T seconds a chat gets at most 3 + T messages (Telegram's ~1/s).
    for i, start in enumerate(times):
        later = [t for t in times[i:] if t - start <= 2.0]
        assert len(later) <= 3 + 2


async def test_a_rested_chat_may_burst_again() -> None:
    clock = FakeClock()
    chats = ChatLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await chats.acquire(7)
    clock.now = 10.0
    for _ in range(3):
        await chats.acquire(7)
    assert clock() == pytest.approx(10.0)


async def test_idle_chats_are_forgotten_and_busy_ones_kept() -> None:
    clock = FakeClock()
    chats = ChatLimiter(3, 1.0, clock=clock, sleep=clock.sleep)
    for chat in range(100):
        await chats.acquire(chat)
    clock.now = 0.9
    await chats.acquire("recent")
    await chats.acquire("recent")
    assert len(chats) == 101

    clock.now = 1.5
    await chats.acquire("new")
    assert len(chats) == 2  # "recent" and "new"

    # The chat still inside its window kept its count: one more fits, the next waits.
    await chats.acquire("recent")
    assert clock.sleeps == []
    await chats.acquire("recent")
    assert clock() == pytest.approx(0.9 + PACE)


async def test_memory_stays_bounded_under_a_stream_of_new_chats() -> None:
    clock = FakeClock()
    chats = ChatLimiter(3, 1.0, clock=clock, sleep=clock.sleep)
    for n in range(10_000):
        clock.now = n / 30  # a bot's full budget, every message to a new chat
        await chats.acquire(n)
    assert len(chats) <= 2 * 30 + 1


async def test_arrival_window_holds_slots_in_flight_and_a_window_after_completion() -> None:
    clock = FakeClock()
    budget = ArrivalWindowLimiter(3, 1.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await budget.acquire()
    assert budget.in_flight == 3
    waiting = asyncio.create_task(budget.acquire())
    await asyncio.sleep(0)
    assert not waiting.done()  # all slots in flight: nothing may start
    clock.now = 0.5
    budget.release()  # completed at 0.5: its slot frees at 1.5 (+ margin)
    await waiting
    assert clock() == pytest.approx(0.5 + SECOND, abs=0.002)  # (+ a float rounding step)


async def test_arrivals_never_exceed_the_limit_whatever_the_latency() -> None:
    """Sends start when admitted and arrive any time before they complete."""
    clock = FakeClock()
    budget = ArrivalWindowLimiter(5, 1.0, clock=clock, sleep=clock.sleep)
    rng = random.Random(7)
    arrivals: list[float] = []
    for _ in range(200):
        await budget.acquire()
        started = clock()
        latency = rng.choice([0.0, 0.01, 0.2, 0.7])
        arrivals.append(started + rng.uniform(0.0, latency))
        clock.now = started + latency
        budget.release()
    assert most_in_any_window(arrivals, 1.0) <= 5
