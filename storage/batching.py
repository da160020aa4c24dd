"""Group commit: concurrent requests that arrive while the database is busy share one statement.

A request is sent at once when fewer than `max_inflight` batches are running, so a quiet service
adds no latency; under load, requests queue while the running batches finish and then go
together, up to `max_batch` at a time, as one statement and one commit. That amortises the round
trip, the statement's fixed cost and the WAL flush over the whole batch.

Items that must not share a statement (the same idempotency key, or the same case, which one
`INSERT … ON CONFLICT DO UPDATE` may not touch twice) are told apart by `keys`: an item whose
keys clash with an item already in the forming batch waits for the next one, keeping arrival
order.

If a batch fails for a reason other than the database being unavailable (a deadlock between two
batches, or one item the database refuses), its items are retried one by one, so a single bad
item fails alone and a transient conflict costs a retry, not an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")


@dataclass(slots=True)
class _Pending(Generic[P, R]):
    item: P
    keys: tuple[Hashable, ...]
    future: asyncio.Future[R]


class GroupCommit(Generic[P, R]):
    """Runs `run_batch(items) -> results` (same length and order) for queued items."""

    def __init__(
        self,
        run_batch: Callable[[Sequence[P]], Awaitable[Sequence[R]]],
        *,
        keys: Callable[[P], tuple[Hashable, ...]],
        max_batch: int = 64,
        max_inflight: int = 1,
    ) -> None:
        self._run_batch = run_batch
        self._keys = keys
        self._max_batch = max_batch
        self._max_inflight = max_inflight
        self._pending: deque[_Pending[P, R]] = deque()
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: P) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(item, self._keys(item), future))
        self._kick()
        return await future

    def _kick(self) -> None:
        while self._pending and self._inflight < self._max_inflight:
            batch = self._take()
            if not batch:
                return
            self._inflight += 1
            task = asyncio.create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[_Pending[P, R]]:
        batch: list[_Pending[P, R]] = []
        seen: set[Hashable] = set()
        later: list[_Pending[P, R]] = []
        while self._pending and len(batch) < self._max_batch:
            pending = self._pending.popleft()
            if pending.future.done():  # the request was cancelled while it waited
                continue
            if seen.isdisjoint(pending.keys):
                seen.update(pending.keys)
                batch.append(pending)
            else:
                later.append(pending)
        self._pending.extendleft(reversed(later))
        return batch

    async def _run(self, batch: list[_Pending[P, R]]) -> None:
        try:
            await self._settle(batch)
        finally:
            self._inflight -= 1
            self._kick()

    async def _settle(self, batch: list[_Pending[P, R]]) -> None:
        try:
            results = await self._run_batch([pending.item for pending in batch])
        except StorageUnavailable as exc:
            for pending in batch:
                _fail(pending, exc)
            return
        except Exception as exc:
            if len(batch) == 1:
                _fail(batch[0], exc)
                return
            log.info(
                "batch failed; retrying its items one by one",
                extra={"size": len(batch), "error": repr(exc)},
            )
            for pending in batch:
                await self._settle([pending])
            return
        for pending, result in zip(batch, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)

    async def drain(self) -> None:
        """Wait until every queued and running batch has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _fail(pending: _Pending[P, R], exc: BaseException) -> None:
    if not pending.future.done():
        pending.future.set_exception(exc)
