"""Store first, act after: how a channel adapter takes platform events (Zalo OA webhooks,
Zalo Bot updates).

`accept` stores the event once (a redelivery with the same dedupe key is recognised and not
acted on again) and returns within `ack_deadline` whatever the database does: if the write is
slow, the webhook is answered anyway and the write goes on; once stored, the event is handed to
the worker. Events of one user are acted on in the order they arrived, one at a time; different
users' in parallel. An event whose handling raised goes back to the pool, and a sweep picks up
whatever a crash or a slow write left behind, so nothing accepted is lost.

`stop` is prompt whatever the backlog: the events being acted on are finished, the writes under
way completed, and every other stored event is left (claims given back) for the next process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from storage.channel_events import ChannelEventStore, StoredEvent
from storage.errors import StorageError

log = logging.getLogger(__name__)
LATE_WRITE_TRIES = 12  # a write the platform was already answered for: about a minute of tries
MAX_WORKERS = 2  # users acted on at once: more only queues on the database the webhook writes to
Handler = Callable[[StoredEvent], Awaitable[None]]
Accepted = Literal["new", "duplicate", "pending"]


@dataclass
class InboxCounts:
    """What the inbox saw (exported to /metrics)."""

    new: int = 0
    duplicate: int = 0
    late_store: int = 0  # answered before the write finished
    lost: int = 0  # answered, then refused by the database however often it was tried
    handled: int = 0
    failed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class EventInbox:
    """One channel's stored events and the worker that acts on them."""

    def __init__(
        self,
        store: ChannelEventStore,
        channel: str,
        handle: Handler,
        *,
        now: Callable[[], datetime],
        ack_deadline: float = 1.5,
        sweep_interval: float = 5.0,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._store = store
        self._channel = channel
        self._handle = handle
        self._now = now
        self._deadline = ack_deadline
        self._sweep_interval = sweep_interval
        self._lease = lease
        self._queues: dict[str, deque[int]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._writes: set[asyncio.Task[int | None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._slots = asyncio.Semaphore(MAX_WORKERS)
        self._stopping = asyncio.Event()
        self.counts = InboxCounts()

    # -- taking events ---------------------------------------------------------------------

    async def accept(
        self,
        *,
        dedupe_key: str,
        kind: str,
        user: str,
        body: dict[str, Any],
        inert: bool = False,
    ) -> Accepted:
        """Store the event and queue it for its user; "duplicate" when it was stored before,
        "pending" when the write is still going on at the deadline (it will be queued once
        done). An `inert` event (one the handler would do nothing with: an echo, a receipt)
        is stored as processed and not queued. A database that refuses the write raises
        `StorageError`."""
        self.counts.by_kind[kind] = self.counts.by_kind.get(kind, 0) + 1
        body = {**body, "_user": user}
        answered = asyncio.Event()
        write = asyncio.create_task(self._persist(dedupe_key, kind, body, answered, inert))
        self._writes.add(write)
        write.add_done_callback(self._written(None if inert else user))
        try:
            event_id = await asyncio.wait_for(asyncio.shield(write), self._deadline)
        except TimeoutError:
            answered.set()
            self.counts.late_store += 1
            log.warning("inbox: slow write, answered first", extra={"channel": self._channel})
            return "pending"
        if event_id is None:
            self.counts.duplicate += 1
            return "duplicate"
        self.counts.new += 1
        return "new"

    async def _persist(
        self,
        dedupe_key: str,
        kind: str,
        body: dict[str, Any],
        answered: asyncio.Event,
        settled: bool,
    ) -> int | None:
        """Store the event. Before the platform was answered a refusal is raised (the
        webhook answers 503 and the platform sends again); after it, nobody will send it
        again, so the write is retried with backoff."""
        delay = 0.2
        for attempt in range(1, LATE_WRITE_TRIES + 1):
            try:
                return await self._store.store(
                    self._channel,
                    dedupe_key=dedupe_key,
                    kind=kind,
                    body=body,
                    now=self._now(),
                    settled=settled,
                )
            except StorageError as exc:
                if not answered.is_set():
                    raise
                if attempt == LATE_WRITE_TRIES:
                    self.counts.lost += 1
                    log.error(
                        "inbox: an answered event could not be stored",
                        extra={"channel": self._channel, "kind": kind, "error": str(exc)},
                    )
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        return None

    def _written(self, user: str | None) -> Callable[[asyncio.Task[int | None]], None]:
        """After the write: queue the new event for `user` (None: nothing acts on it)."""

        def done(write: asyncio.Task[int | None]) -> None:
            self._writes.discard(write)
            if write.cancelled():
                return
            error = write.exception()
            if error is not None:
                if not isinstance(error, StorageError):
                    log.error("inbox: storing an event failed", exc_info=error)
                return
            event_id = write.result()
            if event_id is not None and user is not None:
                self._enqueue(user, event_id)

        return done

    def _enqueue(self, user: str, event_id: int) -> None:
        if self._stopping.is_set():
            return  # stored: the next process acts on it
        self._queues.setdefault(user, deque()).append(event_id)
        if user not in self._workers:
            self._idle.clear()
            self._workers[user] = asyncio.create_task(self._work(user))

    # -- acting on them --------------------------------------------------------------------

    async def _work(self, user: str) -> None:
        queue = self._queues[user]
        try:
            while queue and not self._stopping.is_set():
                async with self._slots:
                    if self._stopping.is_set():
                        break
                    # Whatever this user sent meanwhile goes in one claim, in arrival order.
                    ids = list(queue)
                    queue.clear()
                    await self._run_all(await self._claim(ids=ids))
        finally:
            self._queues.pop(user, None)
            self._workers.pop(user, None)
            if not self._workers:
                self._idle.set()

    async def _claim(self, **where: Any) -> list[StoredEvent]:
        try:
            return await self._store.claim(
                self._channel, now=self._now(), lease=self._lease, **where
            )
        except StorageError as exc:
            log.warning("inbox: cannot claim events", extra={"error": str(exc)})
            return []

    async def _run_all(self, events: list[StoredEvent]) -> None:
        """Act on claimed events in order; once stopping, give the rest back."""
        for n, event in enumerate(events):
            if self._stopping.is_set():
                try:
                    await self._store.release([e.id for e in events[n:]])
                except StorageError as exc:
                    # Their claims lapse after the lease: acted on later all the same.
                    log.warning("inbox: cannot give claims back", extra={"error": str(exc)})
                return
            await self._run(event)

    async def _run(self, event: StoredEvent) -> None:
        try:
            await self._handle(event)
        except Exception as exc:
            self.counts.failed += 1
            log.exception("inbox: acting on an event failed", extra={"kind": event.kind})
            with contextlib.suppress(StorageError):
                await self._store.failed(event.id, f"{type(exc).__name__}: {exc}")
            return
        self.counts.handled += 1
        try:
            await self._store.done(event.id, now=self._now())
        except StorageError as exc:
            # Acted on but not marked: the claim lapses and it may be acted on again.
            log.warning("inbox: could not mark an event done", extra={"error": str(exc)})

    async def sweep(self) -> int:
        """Act on events left behind (a crash, a failed attempt, a slow write); how many."""
        before = self._now() - timedelta(seconds=self._sweep_interval)
        events = await self._claim(received_before=before)
        await self._run_all(events)
        return len(events)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_loop())

    async def _sweep_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._sweep_interval)
            if self._stopping.is_set():
                return
            try:
                await self.sweep()
            except Exception:
                log.exception("inbox: sweep failed")

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every accepted event was acted on (writes included); False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while self._writes or self._workers:
                    if self._writes:
                        await asyncio.wait(set(self._writes))
                    await self._idle.wait()
                    await asyncio.sleep(0)
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the events being acted on and the writes under way; leave the rest stored."""
        self._stopping.set()
        if self._sweeper is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._sweeper), timeout)
            except TimeoutError:
                self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.drain(timeout)
