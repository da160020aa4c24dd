"""Rate limits for sending: an arrival window per bot, a token bucket per chat.

Telegram (domain.md §8): about 30 messages per second per bot overall and about one per second
per private chat, short bursts tolerated. Telegram counts messages when they arrive, so the
bot's window holds a slot until its send has completed (see `ArrivalWindowLimiter`).

The clock and the sleep are injectable, so tests drive time by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# A slot is counted from its send's completion, which is after the platform saw it arrive, so
# the window alone keeps the platform's count within the limit; the margin only absorbs the
# clocks' resolution. Every millisecond of it costs the window's throughput a thousandth.
DEFAULT_MARGIN = 0.005
# A token bucket counts a send when it starts, not when it arrives: network jitter between two
# sends to one chat can bring their arrivals closer than the pace, so its margin is wider.
BUCKET_MARGIN = 0.02


class ArrivalWindowLimiter:
    """At most `limit` sends *arrive* in any `window` seconds, whatever the network jitter.

    Telegram counts a message when it arrives, not when we start sending it. A slot is
    therefore held while its send is in flight and for `window` (+ margin) after the send
    completes: when the last of any set of sends arriving within one window was admitted, each
    of the others was either still in flight or had completed less than a window earlier, so
    it was counted. Call `release()` when the send's HTTP call returns.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        margin: float = DEFAULT_MARGIN,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0 or margin < 0:
            raise ValueError("limit must be ≥ 1, window > 0 and margin ≥ 0")
        self.limit = limit
        self.window = window
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._completed: deque[float] = deque()
        self._in_flight = 0
        self._released = asyncio.Event()
        self._lock = asyncio.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def acquire(self) -> None:
        """Wait for a slot and hold it until `release()`; waiters are served in order."""
        async with self._lock:
            while True:
                now = self._clock()
                horizon = now - self.window - self.margin
                while self._completed and self._completed[0] <= horizon:
                    self._completed.popleft()
                if len(self._completed) + self._in_flight < self.limit:
                    self._in_flight += 1
                    return
                if self._completed:
                    await self._sleep(max(self._completed[0] - horizon, 0.001))
                else:
                    self._released.clear()
                    await self._released.wait()

    def release(self) -> None:
        """The send held by a slot has completed (whatever its outcome)."""
        self._in_flight -= 1
        self._completed.append(self._clock())
        self._released.set()


class TokenBucket:
    """`capacity` sends at once, refilled at `rate` per second (bursts, then a steady pace)."""

    def __init__(
        self,
        capacity: int,
        rate: float,
        *,
        margin: float = BUCKET_MARGIN,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if capacity < 1 or rate <= 0 or margin < 0:
            raise ValueError("capacity must be ≥ 1, rate > 0 and margin ≥ 0")
        self.capacity = capacity
        self.rate = rate
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._last = clock()
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        # Refill a little slower than the allowed rate, so jitter never makes us early.
        earned = (now - self._last) * self.rate / (1.0 + self.margin)
        self._tokens = min(self.capacity, self._tokens + earned)
        self._last = now

    async def acquire(self) -> None:
        """Wait for a token, then take it; waiters are served in order."""
        async with self._lock:
            while True:
                self._refill(self._clock())
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await self._sleep((1.0 - self._tokens) * (1.0 + self.margin) / self.rate)

    def idle(self, now: float) -> bool:
        """True once the bucket is full again (nothing to remember about this chat)."""
        earned = (now - self._last) * self.rate / (1.0 + self.margin)
        return not self._lock.locked() and self._tokens + earned >= self.capacity


class ChatLimiter:
    """One token bucket per chat (Telegram: about 1 message/s, short bursts tolerated).

    A chat may take `burst` messages at once, then `rate` per second; chats whose bucket has
    refilled are forgotten, so memory stays bounded.
    """

    def __init__(
        self,
        burst: int = 3,
        window: float = 1.0,
        *,
        rate: float = 1.0,
        margin: float = BUCKET_MARGIN,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.burst = burst
        self.window = window
        self.rate = rate
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._chats: dict[Hashable, TokenBucket] = {}
        self._swept_at = clock()

    def __len__(self) -> int:
        return len(self._chats)

    async def acquire(self, chat: Hashable) -> None:
        """Wait until the chat may receive one more message, then count it."""
        self._sweep()
        limiter = self._chats.get(chat)
        if limiter is None:
            limiter = TokenBucket(
                self.burst, self.rate, margin=self.margin, clock=self._clock, sleep=self._sleep
            )
            self._chats[chat] = limiter
        await limiter.acquire()

    def _sweep(self) -> None:
        """Drop the limiters of idle chats, at most once a window (memory stays bounded)."""
        now = self._clock()
        if now - self._swept_at < self.window:
            return
        self._swept_at = now
        for chat in [chat for chat, limiter in self._chats.items() if limiter.idle(now)]:
            del self._chats[chat]


__all__ = ["ArrivalWindowLimiter", "ChatLimiter", "TokenBucket"]
