"""The service's clock: real time, or a time read from a file (the end-to-end tests' seam).

With `SIPAS_CLOCK_FILE` set, the clock jumps to the ISO 8601 instant written in that file
whenever the file changes and runs on at real speed from there, so tests can move a running
service through quiet hours, reminders and expiry while retries and timeouts still elapse.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, tz: ZoneInfo, *, clock_file: str | None = None) -> None:
        self.tz = tz
        self._file = Path(clock_file) if clock_file else None
        self._text = ""
        self._base: datetime | None = None
        self._since = 0.0

    def now(self) -> datetime:
        """Aware now in UTC."""
        if self._file is None:
            return datetime.now(UTC)
        try:
            text = self._file.read_text(encoding="utf-8").strip()
        except OSError:
            text = self._text
        if text and text != self._text:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.tz)
            self._text, self._base, self._since = text, moment.astimezone(UTC), time.monotonic()
        if self._base is None:
            return datetime.now(UTC)
        return self._base + timedelta(seconds=time.monotonic() - self._since)

    def utcnow(self) -> datetime:
        """Naive UTC, as the database stores service-recorded times."""
        return self.now().replace(tzinfo=None)

    def local_now(self) -> datetime:
        """Naive local wall-clock time."""
        return self.now().astimezone(self.tz).replace(tzinfo=None)

    def to_utc(self, local: datetime) -> datetime:
        """Naive local wall-clock time → naive UTC."""
        return local.replace(tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None)
