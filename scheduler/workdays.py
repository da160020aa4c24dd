"""Working days and hours in Vietnam: weekends and public holidays (incl. Tết) excluded.

Public holidays come from the `holidays` package; provinces also move days (extra days off,
and Saturdays worked to make up for them), which are given explicitly. Office hours are
08:00–12:00 and 13:00–17:00 local time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import holidays

OFFICE_HOURS = ((time(8, 0), time(12, 0)), (time(13, 0), time(17, 0)))


class WorkCalendar:
    def __init__(self, *, days_off: Iterable[date] = (), make_up_days: Iterable[date] = ()) -> None:
        self._holidays = holidays.country_holidays("VN")
        self._days_off = set(days_off)
        self._make_up = set(make_up_days)

    def is_working_day(self, day: date) -> bool:
        if day in self._make_up:
            return True
        if day in self._days_off or day.weekday() >= 5:
            return False
        return day not in self._holidays

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        following = day + timedelta(days=1)
        while not self.is_working_day(following):
            following += timedelta(days=1)
        return following

    def due_within_one_working_day(self, due: date, today: date) -> bool:
        """Open and due today or on the next working day (not yet overdue)."""
        return today <= due <= self.next_working_day(today)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Office-hours seconds between two local naive times."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                for opens, closes in OFFICE_HOURS:
                    low = max(start, datetime.combine(day, opens))
                    high = min(end, datetime.combine(day, closes))
                    if high > low:
                        total += (high - low).total_seconds()
            day += timedelta(days=1)
        return total
