"""Requests in flight, counted so shutdown can wait for them; uploads bounded in time.

On SIGTERM the server stops listening and waits (`drained`) for the requests already started,
bodies still uploading included, before it cancels what is left. A body upload runs inside
`upload(seconds)`: it ends with `TimeoutError` after its own limit, or, once the drain has begun,
early enough that its handler can still answer (408) inside the drain instead of being
cancelled without an answer.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

# Share of the drain an upload in progress may still take; the rest is left for its handler
# to store the delivery and answer.
UPLOAD_SHARE_OF_DRAIN = 0.8


class _Upload:
    """`async with`: a deadline on reading one body, shortened if a drain begins meanwhile."""

    __slots__ = ("_in_flight", "_scope")

    def __init__(self, in_flight: InFlight, when: float) -> None:
        self._in_flight = in_flight
        self._scope = asyncio.timeout_at(when)

    async def __aenter__(self) -> None:
        await self._scope.__aenter__()
        self._in_flight._uploads.add(self._scope)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._in_flight._uploads.discard(self._scope)
        # Turns the cancellation of an expired deadline into TimeoutError.
        await self._scope.__aexit__(exc_type, exc, tb)


class InFlight:
    """Counts requests being handled, so shutdown can wait for them to finish."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._uploads: set[asyncio.Timeout] = set()
        self._uploads_end_by: float | None = None  # loop time, once a drain has begun

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    def upload(self, seconds: float) -> _Upload:
        """Bound reading a request body to `seconds` (`TimeoutError` after), or less once
        shutdown is draining."""
        when = asyncio.get_running_loop().time() + seconds
        if self._uploads_end_by is not None:
            when = min(when, self._uploads_end_by)
        return _Upload(self, when)

    async def drained(self, timeout: float) -> bool:
        """Wait until no request is in flight; False if `timeout` ran out first.

        Uploads still in progress are cut at `UPLOAD_SHARE_OF_DRAIN` of `timeout`, so a
        stalled client cannot hold shutdown until its requests are cancelled unanswered.
        """
        end_by = asyncio.get_running_loop().time() + timeout * UPLOAD_SHARE_OF_DRAIN
        self._uploads_end_by = end_by
        for scope in list(self._uploads):
            when = scope.when()
            if not scope.expired() and (when is None or when > end_by):
                scope.reschedule(end_by)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
