"""The fallback for lost rating webhooks: every `ZALO_ZNS_POLL_SECONDS`, read `GET
/rating/get` for the rating template over the last days, page by page, and hand each row to
the `RatingIntake` (which takes a rating already applied — by the webhook or an earlier pass —
as nothing new).

Only the holder of the leader lock (`storage.leader.Leadership`, role `LEADER_ROLE`) polls,
so one replica does. A pass stops at its first failure (Zalo unreachable or refusing, no
usable token, the database down) and the next pass reads the whole window again, so a failure
loses nothing but time. The first pass runs at start: what was lost while the service was
down is found at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.metrics import Sample
from bot.zalo_oa.client import ZaloOAError
from bot.zns.client import MAX_RATING_LIMIT, RatingPage, ZnsError
from bot.zns.ratings import RatingIntake
from bot.zns.templates import RATING
from storage.errors import StorageError
from storage.leader import Leadership

log = logging.getLogger(__name__)

LEADER_ROLE = "zns-rating-poll"
DEFAULT_INTERVAL = 300.0  # seconds
DEFAULT_LOOKBACK = timedelta(days=3)
MAX_PAGES = 1000  # a pass reads at most this many pages (100,000 ratings)


class RatingSource(Protocol):
    """Where ratings are read (`bot.zns.client.ZnsClient` is one)."""

    async def ratings(
        self, template_id: str, from_ms: int, to_ms: int, offset: int = 0, limit: int = 100
    ) -> RatingPage: ...


class Leader(Protocol):
    """Who may poll (`storage.leader.Leadership` is one)."""

    async def acquire(self) -> bool: ...

    async def release(self) -> None: ...


class PollFailed(Exception):
    """Zalo refused a page of ratings."""


class RatingPoll:
    """Reads recent ratings back from Zalo on a timer (see the module docstring)."""

    def __init__(
        self,
        source: RatingSource,
        intake: RatingIntake,
        *,
        template_id: str,
        interval: float = DEFAULT_INTERVAL,
        first_delay: float | None = None,
        lookback: timedelta = DEFAULT_LOOKBACK,
        leadership: Leader | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        page_size: int = MAX_RATING_LIMIT,
    ) -> None:
        self._source = source
        self._intake = intake
        self._template_id = template_id
        self._interval = interval
        # The first pass waits one interval unless told otherwise (a test, a catch-up).
        self._first_delay = interval if first_delay is None else first_delay
        self._lookback = lookback
        self._leadership = leadership
        self._now = now
        self._page_size = max(1, min(page_size, MAX_RATING_LIMIT))
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._changed = asyncio.Event()
        self.passes = 0  # passes that read the whole window
        self.failures = 0  # passes that stopped early
        self.skipped = 0  # passes left to the replica that holds the role
        self.rows = 0  # ratings read

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: AsyncEngine,
        *,
        source: RatingSource,
        intake: RatingIntake,
        now: Callable[[], datetime],
    ) -> RatingPoll | None:
        """The poll of the configured rating template, every `ZALO_ZNS_POLL_SECONDS`, behind
        the replicas' leader lock; None while no rating template is named."""
        template_id = settings.zns_templates.get(RATING)
        if not template_id:
            return None
        return cls(
            source,
            intake,
            template_id=template_id,
            interval=settings.zalo_zns_poll_seconds,
            leadership=Leadership(engine, LEADER_ROLE),
            now=now,
        )

    async def poll_once(self) -> int:
        """Read the window once and take every rating in it; how many were read. Raises what
        stopped the pass (`ZnsError`, `PollFailed`, `ZaloOAError`, `StorageError`)."""
        to_ms = int(self._now().timestamp() * 1000)
        from_ms = to_ms - int(self._lookback.total_seconds() * 1000)
        offset, read = 0, 0
        for _ in range(MAX_PAGES):
            page = await self._source.ratings(
                self._template_id, from_ms, to_ms, offset=offset, limit=self._page_size
            )
            if not page.ok:
                raise PollFailed(f"error {page.error}: {page.message}")
            for row in page.rows:
                await self._intake.take_row(row)
            read += len(page.rows)
            self.rows += len(page.rows)
            offset += len(page.rows)
            if not page.rows or offset >= page.total:
                break
        return read

    def start(self) -> None:
        """Poll in the background until `stop`."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="zns-rating-poll")

    async def stop(self) -> None:
        """Finish the pass under way, give the leader lock up."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task

    async def _run(self) -> None:
        try:
            # The first pass waits one interval too: webhooks are the way ratings come, the
            # poll only picks up what they lost (over the last days, so nothing is missed).
            delay = self._first_delay
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = self._interval
                if self._stopping.is_set():
                    break
                await self._pass()
        finally:
            if self._leadership is not None:
                await self._leadership.release()

    async def _pass(self) -> None:
        try:
            if self._leadership is not None and not await self._leadership.acquire():
                self.skipped += 1
                return
            read = await self.poll_once()
        except (ZnsError, PollFailed, ZaloOAError, StorageError) as exc:
            self.failures += 1
            log.warning("zns rating poll stopped", extra={"error": str(exc)[:200]})
        except Exception:
            # Whatever went wrong, the loop must live on to the next pass.
            self.failures += 1
            log.exception("zns rating poll failed")
        else:
            self.passes += 1
            log.debug("zns rating poll", extra={"ratings": read})
        finally:
            self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for_passes(self, count: int, timeout: float = 5.0) -> None:
        """Wait until `count` passes ended: read through, stopped or skipped (for tests)."""
        deadline = time.monotonic() + timeout
        while self.passes + self.failures + self.skipped < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"fewer than {count} poll passes within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def samples(self) -> Iterable[Sample]:
        """The poll's counters for /metrics."""
        yield Sample("zns_rating_polls", "ZNS rating poll passes read through", self.passes)
        yield Sample("zns_rating_poll_failures", "ZNS rating poll passes stopped", self.failures)
        yield Sample("zns_rating_poll_rows", "ZNS ratings read by the poll", self.rows)


__all__ = ["DEFAULT_INTERVAL", "DEFAULT_LOOKBACK", "LEADER_ROLE", "PollFailed", "RatingPoll"]
