"""Sliding-window limits on a hand-driven clock: the budget holds and nobody waits too long."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.outbox.ratelimit import ArrivalWindowLimiter, ChatLimiter, SlidingWindowLimiter


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


def limiter(clock: FakeClock, limit: int, window: float = 1.0, **kw: float) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(limit, window, clock=clock, sleep=clock.sleep, **kw)


async def test_a_burst_of_waiters_goes_out_limit_by_limit_in_arrival_order() -> None:
    clock = FakeClock()
    limit = limiter(clock, 5)
    order: list[tuple[int, float]] = []

    async def send(n: int) -> None:
        await limit.acquire()
        order.append((n, clock()))

    await asyncio.gather(*(send(n) for n in range(23)))

    assert [n for n, _ in order] == list(range(23))
    times = [t for _, t in order]
    assert most_in_any_window(times, 1.0) == 5
    expected = [pytest.approx(1.02 * (n // 5)) for n in range(23)]
    assert times == expected


async def test_waits_exactly_until_the_oldest_event_leaves_the_window() -> None:
    clock = FakeClock()
    limit = limiter(clock, 3, margin=0.02)
    for at in (0.0, 0.3, 0.6):
        clock.now = at
        await limit.acquire()
    assert clock.sleeps == []

    clock.now = 0.7
    await limit.acquire()
    assert clock.sleeps == [pytest.approx(0.32)]
    assert clock() == pytest.approx(1.02)

    clock.now = 1.25  # events at 0.3, 0.6 and 1.02 are in the window: wait for 0.3 to leave
    await limit.acquire()
    assert clock.sleeps[1:] == [pytest.approx(0.07)]
    assert clock() == pytest.approx(1.32)


async def test_events_spread_out_never_wait() -> None:
    clock = FakeClock()
    limit = limiter(clock, 1, window=1.0)
    for second in range(10):
        clock.now = float(second)
        await limit.acquire()
    assert clock.sleeps == []


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=6),
    # Multiples of 1/64 s keep the arithmetic exact, so boundaries are tested, not rounding.
    gaps=st.lists(st.integers(min_value=0, max_value=48).map(lambda k: k / 64), max_size=40),
)
def test_any_arrival_pattern_keeps_the_limit_and_goes_as_early_as_allowed(
    limit: int, gaps: list[float]
) -> None:
    clock = FakeClock()
    window, margin = 1.0, 1 / 32
    gate = limiter(clock, limit, window, margin=margin)
    times: list[float] = []

    async def scenario() -> None:
        arrival = 0.0
        for gap in gaps:
            arrival += gap
            clock.now = max(clock.now, arrival)
            await gate.acquire()
            times.append(clock())

    asyncio.run(scenario())

    assert most_in_any_window(times, window) <= limit
    arrival = 0.0
    for i, gap in enumerate(gaps):
        arrival += gap
        earliest = max(arrival, times[i - 1] if i else 0.0)
        if i >= limit and times[i - limit] + window > earliest:
            earliest = times[i - limit] + window + margin
        assert times[i] == earliest


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0, 1.0)
    with pytest.raises(ValueError):
        SlidingWindowLimiter(3, 0.0)


async def test_chats_have_budgets_of_their_own() -> None:
    clock = FakeClock()
    chats = ChatLimiter(3, 1.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await chats.acquire("a")
        await chats.acquire("b")
    assert clock.sleeps == []

    await chats.acquire("a")
    assert clock() == pytest.approx(1.02)
    await chats.acquire("c")
    assert clock.sleeps == [pytest.approx(1.02)]


async def test_the_default_per_chat_budget_is_a_burst_of_three_then_one_a_second() -> None:
    clock = FakeClock()
    chats = ChatLimiter(clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(6):
        await chats.acquire(42)
        times.append(clock())
    assert times == [pytest.approx(t) for t in [0, 0, 0, 1.02, 2.04, 3.06]]
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
    assert clock() == pytest.approx(0.9 + 1.02)


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
    assert clock() == pytest.approx(1.52)


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
