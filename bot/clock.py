"""The service's clock: real time, or a time read from a file (the end-to-end tests' seam).

With `SIPAS_CLOCK_FILE` set, "now" is the ISO 8601 instant written in that file (re-read on
every call), so tests can move a running service through quiet hours, reminders and expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, tz: ZoneInfo, *, clock_file: str | None = None) -> None:
        self.tz = tz
        self._file = Path(clock_file) if clock_file else None

    def now(self) -> datetime:
        """Aware now in UTC."""
        if self._file is not None:
            text = self._file.read_text(encoding="utf-8").strip()
            if text:
                moment = datetime.fromisoformat(text)
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=self.tz)
                return moment.astimezone(UTC)
        return datetime.now(UTC)

    def utcnow(self) -> datetime:
        """Naive UTC, as the database stores service-recorded times."""
        return self.now().replace(tzinfo=None)

    def local_now(self) -> datetime:
        """Naive local wall-clock time."""
        return self.now().astimezone(self.tz).replace(tzinfo=None)

    def to_utc(self, local: datetime) -> datetime:
        """Naive local wall-clock time → naive UTC."""
        return local.replace(tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None)
