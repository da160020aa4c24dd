"""Request limits of the citizen's pages: per link token and per client address.

Fixed one-minute windows counted in this process's memory: the limits only have to stop a
script hammering one link or guessing tokens, and a restart or a second replica resetting a
counter changes nothing that matters. The per-address limit stays generous (a one-stop desk's
Wi-Fi is one address for many citizens: interfaces.md asks for at least 300 a minute).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

PER_TOKEN_PER_MINUTE = 30
PER_ADDRESS_PER_MINUTE = 600
WINDOW_SECONDS = 60.0
# Counters kept before the expired ones are swept (bounds memory under a token-guessing run).
SWEEP_AT = 50_000


@dataclass
class WindowCounter:
    """At most `limit` hits per key in each window of `window` seconds."""

    limit: int
    window: float = WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    _counts: dict[str, tuple[float, int]] = field(default_factory=dict)

    def hit(self, key: str) -> float:
        """Count one hit; 0 if it is allowed, else the seconds until the window ends."""
        now = self.clock()
        start, count = self._counts.get(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        if count >= self.limit:
            return max(self.window - (now - start), 0.001)
        if len(self._counts) >= SWEEP_AT and key not in self._counts:
            self._sweep(now)
        self._counts[key] = (start, count + 1)
        return 0.0

    def _sweep(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self.window}


@dataclass
class PageLimits:
    """The two limits of the survey page; `check` counts a request against both."""

    per_token: WindowCounter = field(default_factory=lambda: WindowCounter(PER_TOKEN_PER_MINUTE))
    per_address: WindowCounter = field(
        default_factory=lambda: WindowCounter(PER_ADDRESS_PER_MINUTE)
    )

    def check(self, token: str, address: str) -> float:
        """0 if the request may go on, else the seconds to wait (for `Retry-After`)."""
        wait = self.per_address.hit(address)
        if wait:
            return wait
        return self.per_token.hit(token)
