"""Quiet hours: when an unprompted message to a citizen may go out."""

from __future__ import annotations

from datetime import datetime, time, timedelta


def in_quiet_hours(local: datetime, window: tuple[time, time] | None) -> bool:
    """Whether local wall-clock time `local` falls inside the quiet window [start, end)."""
    if window is None:
        return False
    start, end = window
    moment = local.time()
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def next_allowed(local: datetime, window: tuple[time, time] | None) -> datetime:
    """`local` itself, or the end of the quiet window it falls in (same naive local clock)."""
    if not in_quiet_hours(local, window):
        return local
    assert window is not None
    end = window[1]
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate
