"""Working days around Tết and weekends; office hours for escalation deadlines."""

from __future__ import annotations

from datetime import date, datetime

from scheduler.workdays import WorkCalendar

CAL = WorkCalendar()


def test_weekends_and_tet_are_not_working_days() -> None:
    assert CAL.is_working_day(date(2027, 2, 3))  # Wednesday before Tết
    assert not CAL.is_working_day(date(2027, 2, 6))  # Tết Đinh Mùi (1st day)
    assert not CAL.is_working_day(date(2027, 2, 8))  # a Monday inside the Tết break
    assert not CAL.is_working_day(date(2026, 11, 21))  # Saturday
    assert CAL.is_working_day(date(2026, 11, 23))  # Monday


def test_next_working_day_skips_tet() -> None:
    after = CAL.next_working_day(date(2027, 2, 3))
    assert after > date(2027, 2, 10)
    assert CAL.is_working_day(after)
    assert CAL.next_working_day(date(2026, 11, 20)) == date(2026, 11, 23)  # Friday → Monday


def test_due_within_one_working_day() -> None:
    friday = date(2026, 11, 20)
    assert CAL.due_within_one_working_day(date(2026, 11, 23), friday)  # Monday is next
    assert not CAL.due_within_one_working_day(date(2026, 11, 24), friday)
    assert not CAL.due_within_one_working_day(date(2026, 11, 19), friday)  # already overdue


def test_extra_days_off_and_make_up_saturdays() -> None:
    cal = WorkCalendar(days_off=[date(2026, 11, 23)], make_up_days=[date(2026, 11, 21)])
    assert not cal.is_working_day(date(2026, 11, 23))
    assert cal.is_working_day(date(2026, 11, 21))


def test_working_seconds_counts_office_hours_only() -> None:
    # Friday 16:00 → Monday 09:30: 1 h on Friday + 1.5 h on Monday.
    seconds = CAL.working_seconds(datetime(2026, 11, 20, 16, 0), datetime(2026, 11, 23, 9, 30))
    assert seconds == 2.5 * 3600
    # Lunch is not working time.
    assert CAL.working_seconds(datetime(2026, 11, 23, 11, 0), datetime(2026, 11, 23, 14, 0)) == (
        2 * 3600
    )
