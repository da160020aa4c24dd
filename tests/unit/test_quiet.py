"""Quiet hours (scheduler/quiet.py): no unprompted message to a citizen at night."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from scheduler.quiet import in_quiet_hours, next_allowed

NIGHT = (time(21, 0), time(7, 0))
LUNCH = (time(12, 0), time(13, 0))


def at(hour: int, minute: int = 0, second: int = 0, *, day: int = 15) -> datetime:
    return datetime(2026, 3, day, hour, minute, second)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (at(20, 59), False),
        (at(20, 59, 59), False),
        (at(21, 0), True),
        (at(23, 30), True),
        (at(0, 0), True),
        (at(3, 0), True),
        (at(6, 59), True),
        (at(6, 59, 59), True),
        (at(7, 0), False),
        (at(12, 0), False),
    ],
)
def test_night_window_crossing_midnight(moment: datetime, quiet: bool) -> None:
    assert in_quiet_hours(moment, NIGHT) is quiet


def test_next_allowed_late_evening_waits_for_next_morning() -> None:
    assert next_allowed(at(22, 15), NIGHT) == at(7, 0, day=16)
    assert next_allowed(at(21, 0), NIGHT) == at(7, 0, day=16)


def test_next_allowed_small_hours_wait_for_same_morning() -> None:
    assert next_allowed(at(3, 0), NIGHT) == at(7, 0)
    assert next_allowed(at(6, 59, 30), NIGHT) == at(7, 0)


def test_next_allowed_across_month_end() -> None:
    assert next_allowed(datetime(2026, 3, 31, 23, 0), NIGHT) == datetime(2026, 4, 1, 7, 0)


@pytest.mark.parametrize("moment", [at(7, 0), at(12, 34, 56), at(20, 59, 59)])
def test_next_allowed_outside_is_unchanged(moment: datetime) -> None:
    assert next_allowed(moment, NIGHT) == moment


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [(at(11, 59), False), (at(12, 0), True), (at(12, 30), True), (at(13, 0), False),
     (at(22, 0), False), (at(3, 0), False)],
)  # fmt: skip
def test_same_day_window(moment: datetime, quiet: bool) -> None:
    assert in_quiet_hours(moment, LUNCH) is quiet


def test_same_day_window_next_allowed() -> None:
    assert next_allowed(at(12, 30), LUNCH) == at(13, 0)
    assert next_allowed(at(12, 0), LUNCH) == at(13, 0)
    assert next_allowed(at(13, 0), LUNCH) == at(13, 0)
    assert next_allowed(at(23, 0), LUNCH) == at(23, 0)


def test_non_round_end_minute() -> None:
    window = (time(22, 30), time(6, 45))
    assert in_quiet_hours(at(6, 44), window)
    assert not in_quiet_hours(at(6, 45), window)
    assert next_allowed(at(23, 0), window) == at(6, 45, day=16)


@pytest.mark.parametrize("moment", [at(0, 0), at(3, 0), at(12, 0), at(21, 0), at(23, 59)])
def test_no_window_is_never_quiet(moment: datetime) -> None:
    assert not in_quiet_hours(moment, None)
    assert next_allowed(moment, None) == moment


@pytest.mark.parametrize("moment", [at(0, 0), at(8, 0), at(8, 0, 1), at(23, 59)])
def test_empty_window_is_never_quiet(moment: datetime) -> None:
    window = (time(8, 0), time(8, 0))
    assert not in_quiet_hours(moment, window)
    assert next_allowed(moment, window) == moment
