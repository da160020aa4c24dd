"""The service clock: real time, or jumps written to a file that then run at real speed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import Clock

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_without_a_file_the_clock_is_real_time() -> None:
    clock = Clock(HCM)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    assert clock.local_now().utcoffset() is None
    assert abs(clock.local_now() - datetime.now(HCM).replace(tzinfo=None)) < timedelta(seconds=1)


def test_a_written_instant_is_jumped_to_and_time_then_runs(tmp_path: Path) -> None:
    path = tmp_path / "clock.txt"
    path.write_text("2026-10-05T22:30:00+07:00")
    clock = Clock(HCM, clock_file=str(path))
    assert clock.local_now().replace(microsecond=0) == datetime(2026, 10, 5, 22, 30)
    assert clock.utcnow().replace(microsecond=0) == datetime(2026, 10, 5, 15, 30)
    first = clock.now()
    time.sleep(0.05)
    assert clock.now() - first >= timedelta(seconds=0.05)
    path.write_text("2026-10-06T07:01:00")  # naive: local time
    assert clock.local_now().replace(microsecond=0) == datetime(2026, 10, 6, 7, 1)


def test_local_to_utc() -> None:
    assert Clock(HCM).to_utc(datetime(2026, 1, 1, 7, 0)) == datetime(2026, 1, 1, 0, 0)
