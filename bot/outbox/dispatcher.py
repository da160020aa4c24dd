"""The outbox dispatcher: claim due rows, send them within the channel's limits, record outcomes.

Channel-neutral: a `Sender` per channel turns a claimed row into a message and reports a
`SendOutcome`. The loop is pipelined — up to `max_in_flight` sends run at once, and rows are
claimed only for free slots and never more than one window's budget at a time, so no row waits
behind the limiter long enough for its lease to expire. `wake()` makes a freshly enqueued row go
out at once; polling keeps the loop correct without it. Only the holder of the `Leadership`
dispatches, so a bot's global budget is spent by one replica. The composition root runs one
dispatcher per channel (its own budget, its own leader lock, only its channel's rows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from bot.channels.base import (
    OUTCOMES,
    Blocked,
    Failed,
    RetryLater,
    SendOutcome,
    Sent,
)
from bot.outbox.ratelimit import (
    DEFAULT_MARGIN,
    ArrivalWindowLimiter,
    ChatLimiter,
    Clock,
    Sleep,
)
from storage.models import utcnow
from storage.outbox import ClaimedMessage

# Called for a message its channel cannot carry now (`Failed(fallback=True)`): another way
# may (ZNS by phone); the web link on the receipt is always there.
Fallback = Callable[[ClaimedMessage, str], Awaitable[None]]

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0  # seconds
STORAGE_PAUSE = 1.0  # seconds to back off after a storage error
RECORD_TRIES = 3  # an outcome that cannot be recorded is sent again once its lease expires


class Sender(Protocol):
    """Delivers claimed messages on one channel."""

    channel: str

    async def send(self, message: ClaimedMessage) -> SendOutcome:
        """Render and send one message; report what happened.

        A sender may also offer `prepare(message) -> SendOutcome | Transmit` (rendering and
        checks done, the platform call left): the dispatcher then holds a slot of the
        channel's budget only for that call."""
        ...


class Outbox(Protocol):
    """What the dispatcher needs of the outbox (`storage.outbox.OutboxStore` is one)."""

    async def claim(
        self, *, now: datetime, limit: int, lease_seconds: float, channel: str | None = None
    ) -> list[ClaimedMessage]: ...

    async def sent(
        self,
        message_id: int,
        *,
        now: datetime,
        external_message_id: str | None,
        cost: str | None = None,
    ) -> None: ...

    async def retry(self, message_id: int, *, now: datetime, at: datetime, error: str) -> None: ...

    async def failed(self, message_id: int, *, now: datetime, error: str) -> None: ...

    async def blocked(self, message_id: int, *, now: datetime, error: str) -> None: ...


class Leader(Protocol):
    """Who may dispatch (`storage.leader.Leadership` is one)."""

    async def acquire(self) -> bool: ...

    async def release(self) -> None: ...


def _outcome(result: object) -> SendOutcome:
    """What a sender answered, read as an outcome (anything else is retried)."""
    if isinstance(result, Sent | RetryLater | Blocked | Failed):
        return result
    return RetryLater(f"sender returned {result!r}")


class Dispatcher:
    """Sends what the outbox holds, one replica at a time, within the channels' limits."""

    def __init__(
        self,
        store: Outbox,
        senders: Mapping[str, Sender],
        *,
        leadership: Leader | None = None,
        channel: str | None = None,
        global_limit: int = 30,
        per_chat_burst: int = 3,
        window: float = 1.0,
        max_in_flight: int = 32,
        lease_seconds: float = 60.0,
        max_attempts: int = 12,
        poll_interval: float = 0.5,
        leadership_interval: float = 5.0,
        now: Callable[[], datetime] = utcnow,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        self._store = store
        self._fallback = fallback
        self._senders = dict(senders)
        self._leadership = leadership
        # One dispatcher per channel claims only that channel's rows (None: every channel's).
        self._channel = channel
        self._max_in_flight = max_in_flight
        self._batch = min(max_in_flight, global_limit)
        self._lease = lease_seconds
        self._max_attempts = max_attempts
        self._poll = poll_interval
        self._leadership_interval = leadership_interval
        self._now = now
        self._rng = rng or random.Random()
        # A bot's budget is its own: one global window per channel.
        self._global = {
            channel: ArrivalWindowLimiter(global_limit, window, clock=clock, sleep=sleep)
            for channel in self._senders
        }
        self._per_chat = ChatLimiter(per_chat_burst, window, clock=clock, sleep=sleep)
        self._window = window
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._leading = leadership is None

    @property
    def in_flight(self) -> int:
        """Sends under way."""
        return len(self._in_flight)

    @contextlib.asynccontextmanager
    async def slot(self, channel: str, chat_id: int) -> AsyncIterator[None]:
        """Hold a send slot for a message sent outside the outbox (a command's direct reply),
        so it counts against the same per-chat and per-bot limits as the outbox's sends."""
        await self._per_chat.acquire(chat_id)
        budget = self._global.get(channel)
        if budget is None:
            yield
            return
        await budget.acquire()
        try:
            yield
        finally:
            budget.release()

    def wake(self) -> None:
        """New rows were enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set; finish the sends under way, then return."""
        if not self._senders:
            # Claiming would only fail every row for want of a channel (e.g. a missing token).
            log.warning("outbox: no channel is configured; messages stay queued")
            await stop.wait()
            return
        stopper = asyncio.ensure_future(stop.wait())
        stopper.add_done_callback(lambda _: self._wake.set())
        checked_at: float | None = None
        loop = asyncio.get_running_loop()
        dispatching = False
        try:
            while not stop.is_set():
                if checked_at is None or loop.time() - checked_at >= self._leadership_interval:
                    checked_at = loop.time()
                    await self._check_leadership()
                if not self._leading:
                    dispatching = False
                    await self._pause(stop, self._leadership_interval)
                    continue
                if not dispatching:
                    # What the process before this one (a restart, another replica) sent in its
                    # last window is unknown here: one window with nothing sent keeps every
                    # chat's and the bot's limit across the hand-over.
                    dispatching = True
                    await self._pause(stop, self._window + DEFAULT_MARGIN)
                    continue
                self._wake.clear()
                try:
                    await self._fill()
                except Exception:
                    log.exception("outbox: claiming failed; backing off")
                    await self._pause(stop, STORAGE_PAUSE)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
        finally:
            stopper.cancel()
            await self._drain()
            if self._leadership is not None:
                await self._leadership.release()
                self._leading = False

    async def run_until_idle(self, timeout: float = 10.0) -> None:
        """Dispatch until nothing is due and nothing is in flight (tests; ignores leadership)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._wake.clear()
                    claimed = await self._fill()
                    if not claimed and not self._in_flight:
                        return
                    if claimed < self._batch or not self._free_slots():
                        await self._wake.wait()
        except TimeoutError:
            for task in self._in_flight:
                task.cancel()
            await self._drain()
            raise

    def _free_slots(self) -> int:
        return self._max_in_flight - len(self._in_flight)

    async def _fill(self) -> int:
        """Claim rows for the free slots and start sending them; return how many."""
        limit = min(self._free_slots(), self._batch)
        if limit <= 0:
            return 0
        if self._channel is None:
            claimed = await self._store.claim(
                now=self._now(), limit=limit, lease_seconds=self._lease
            )
        else:
            claimed = await self._store.claim(
                now=self._now(), limit=limit, lease_seconds=self._lease, channel=self._channel
            )
        for message in claimed:
            task = asyncio.create_task(self._deliver(message), name=f"outbox-{message.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(claimed)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        # A freed slot, and perhaps the chat's next message is claimable now.
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox: delivery task crashed", exc_info=task.exception())

    async def _drain(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def _check_leadership(self) -> None:
        if self._leadership is None:
            return
        try:
            leading = await self._leadership.acquire()
        except Exception:
            log.exception("outbox: leadership check failed")
            leading = False
        if leading != self._leading:
            log.info("outbox: dispatching" if leading else "outbox: standing by")
        self._leading = leading

    async def _deliver(self, message: ClaimedMessage) -> None:
        """Send one claimed message within the limits and record the outcome."""
        sender = self._senders.get(message.channel)
        if sender is None:
            outcome: SendOutcome = Failed(f"no sender for channel {message.channel!r}")
        else:
            # The chat's window first: waiting on it must not hold a slot of the global budget.
            await self._per_chat.acquire(message.chat_id)
            prepare = getattr(sender, "prepare", None)
            ready: object = partial(sender.send, message)
            if prepare is not None:
                ready = await self._guard(partial(prepare, message), message)
            if callable(ready) and not isinstance(ready, OUTCOMES):
                budget = self._global[message.channel]
                await budget.acquire()
                try:
                    ready = await self._guard(ready, message)
                finally:
                    budget.release()
            outcome = _outcome(ready)
        await self._record(message, outcome)

    async def _guard(
        self, call: Callable[[], Awaitable[object]], message: ClaimedMessage
    ) -> object:
        """`call()` (a send, or a sender's preparation), a raised exception as `RetryLater`."""
        try:
            return await call()
        except Exception as exc:
            log.warning(
                "outbox: sender raised",
                exc_info=True,
                extra=_fields(message) | {"error": repr(exc)},
            )
            return RetryLater(f"{type(exc).__name__}: {exc}")

    def backoff(self, attempts: int) -> float:
        """Seconds before retry number `attempts + 1`: doubling, capped, ±20 % jitter."""
        base = min(2.0**attempts, MAX_BACKOFF)
        return base * self._rng.uniform(0.8, 1.2)

    async def _record(self, message: ClaimedMessage, outcome: SendOutcome) -> None:
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                await self._apply(message, outcome)
                return
            except Exception:
                log.exception(
                    "outbox: recording the outcome failed",
                    extra=_fields(message) | {"outcome": type(outcome).__name__},
                )
                if attempt < RECORD_TRIES:
                    await asyncio.sleep(STORAGE_PAUSE)

    async def _apply(self, message: ClaimedMessage, outcome: SendOutcome) -> None:
        now = self._now()
        fields = _fields(message)
        match outcome:
            case Sent(external_message_id=external_id, cost=cost):
                await self._store.sent(
                    message.id, now=now, external_message_id=external_id, cost=cost
                )
                log.info("outbox: sent", extra=fields | {"outcome": "sent", "cost": cost})
            case RetryLater(error=error) if message.attempts >= self._max_attempts:
                reason = f"gave up after {message.attempts} attempts: {error}"
                await self._store.failed(message.id, now=now, error=reason)
                log.error("outbox: failed", extra=fields | {"outcome": "failed", "error": error})
            case RetryLater(error=error, after=after):
                delay = after if after is not None else self.backoff(message.attempts)
                at = now + timedelta(seconds=max(delay, 0.0))
                await self._store.retry(message.id, now=now, at=at, error=error)
                log.warning(
                    "outbox: retry later",
                    extra=fields | {"outcome": "retry", "error": error, "retry_in": delay},
                )
            case Blocked(error=error):
                await self._store.blocked(message.id, now=now, error=error)
                log.info("outbox: chat blocked", extra=fields | {"outcome": "blocked"})
            case Failed(error=error, fallback=True):
                await self._store.failed(message.id, now=now, error=f"unreachable: {error}")
                log.info("outbox: unreachable here", extra=fields | {"outcome": "unreachable"})
                if self._fallback is not None:
                    await self._fallback(message, error)
            case Failed(error=error):
                await self._store.failed(message.id, now=now, error=error)
                log.error("outbox: failed", extra=fields | {"outcome": "failed", "error": error})


def _fields(message: ClaimedMessage) -> dict[str, object]:
    """Log fields of a message (no payload: it may carry personal data)."""
    return {
        "outbox_id": message.id,
        "chat_id": message.chat_id,
        "channel": message.channel,
        "kind": message.kind,
        "attempts": message.attempts,
    }


__all__ = [
    "Blocked",
    "Dispatcher",
    "Failed",
    "Leader",
    "Outbox",
    "RetryLater",
    "SendOutcome",
    "Sender",
    "Sent",
]
