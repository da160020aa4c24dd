"""On time, early, late, overdue, open (domain.md §3)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.timeliness import (
    EARLY,
    LATE,
    ON_TIME,
    OPEN,
    OVERDUE,
    classify,
    classify_end,
    classify_frame,
)

TODAY = date(2026, 10, 20)

# (ended, due, expected on TODAY); datetimes carry hours to show only the calendar date counts.
CASES: list[tuple[datetime | None, datetime | None, str]] = [
    # ended cases
    (datetime(2026, 10, 14, 10, 0), datetime(2026, 10, 15, 17, 0), EARLY),
    (datetime(2026, 10, 1, 8, 0), datetime(2026, 10, 15, 17, 0), EARLY),
    (datetime(2026, 10, 15, 9, 0), datetime(2026, 10, 15, 17, 0), ON_TIME),
    (datetime(2026, 10, 15, 23, 59), datetime(2026, 10, 15, 0, 0), ON_TIME),  # later hour
    (datetime(2026, 10, 16, 0, 0), datetime(2026, 10, 15, 23, 59), LATE),  # next day
    (datetime(2026, 10, 19, 8, 0), datetime(2026, 10, 15, 17, 0), LATE),
    (datetime(2026, 10, 16, 8, 0), None, ON_TIME),  # no promised date
    (datetime(2026, 10, 25, 8, 0), datetime(2026, 10, 30, 8, 0), EARLY),  # ended "in future"
    # open cases
    (None, datetime(2026, 10, 19, 17, 0), OVERDUE),
    (None, datetime(2026, 9, 1, 17, 0), OVERDUE),
    (None, datetime(2026, 10, 20, 0, 0), OPEN),  # promised today
    (None, datetime(2026, 10, 20, 23, 59), OPEN),
    (None, datetime(2026, 10, 21, 8, 0), OPEN),
    (None, None, OPEN),
]


def as_date(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@pytest.mark.parametrize(("ended", "due", "expected"), CASES)
def test_classify_follows_the_rule(
    ended: datetime | None, due: datetime | None, expected: str
) -> None:
    assert classify(ended=as_date(ended), due=as_date(due), today=TODAY) == expected


def test_an_ended_case_is_never_overdue_even_if_the_promise_is_long_past() -> None:
    assert classify(ended=date(2026, 10, 19), due=date(2026, 9, 1), today=TODAY) == LATE


def test_overdue_depends_on_today() -> None:
    due = date(2026, 10, 19)
    assert classify(ended=None, due=due, today=date(2026, 10, 19)) == OPEN
    assert classify(ended=None, due=due, today=date(2026, 10, 20)) == OVERDUE


@pytest.mark.parametrize(
    ("ended", "due", "expected"),
    [
        (date(2026, 10, 14), date(2026, 10, 15), EARLY),
        (date(2026, 10, 15), date(2026, 10, 15), ON_TIME),
        (date(2026, 10, 16), date(2026, 10, 15), LATE),
        (date(2026, 10, 16), None, ON_TIME),
    ],
)
def test_classify_end(ended: date, due: date | None, expected: str) -> None:
    assert classify_end(ended, due) == expected


def test_supplement_that_moved_the_promise_is_judged_against_the_new_date() -> None:
    # Promised 15 Oct, a supplement request moved it to 22 Oct, finished 20 Oct.
    original, moved, ended = date(2026, 10, 15), date(2026, 10, 22), date(2026, 10, 20)
    assert classify_end(ended, original) == LATE  # what it would be without the supplement
    assert classify_end(ended, moved) == EARLY
    assert classify(ended=date(2026, 10, 22), due=moved, today=TODAY) == ON_TIME
    # Still open on 20 Oct: not overdue against the new date, overdue after it.
    assert classify(ended=None, due=moved, today=TODAY) == OPEN
    assert classify(ended=None, due=moved, today=date(2026, 10, 23)) == OVERDUE


def test_classify_frame_agrees_with_the_table() -> None:
    frame = pd.DataFrame(
        {"ended": [c[0] for c in CASES], "due": [c[1] for c in CASES]},
        index=pd.RangeIndex(100, 100 + len(CASES)),
    )
    result = classify_frame(frame, today=TODAY)
    assert list(result.index) == list(frame.index)
    assert result.tolist() == [c[2] for c in CASES]


def test_classify_frame_accepts_dates_and_nat() -> None:
    frame = pd.DataFrame(
        {
            "ended": [pd.NaT, date(2026, 10, 14), pd.NaT, date(2026, 10, 16), None],
            "due": [date(2026, 10, 1), date(2026, 10, 15), pd.NaT, pd.NaT, date(2026, 10, 20)],
        }
    )
    assert classify_frame(frame, today=TODAY).tolist() == [OVERDUE, EARLY, OPEN, ON_TIME, OPEN]


def test_classify_frame_with_all_dates_missing_is_open() -> None:
    frame = pd.DataFrame({"ended": [None, None], "due": [None, None]})
    assert classify_frame(frame, today=TODAY).tolist() == [OPEN, OPEN]


def test_classify_frame_of_no_cases_is_empty() -> None:
    frame = pd.DataFrame(
        {
            "ended": pd.Series([], dtype="datetime64[ns]"),
            "due": pd.Series([], dtype="datetime64[ns]"),
        }
    )
    assert classify_frame(frame, today=TODAY).tolist() == []


moments = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2026, 11, 30)),
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(moments, moments), min_size=1, max_size=30),
    today=st.dates(min_value=date(2026, 9, 1), max_value=date(2026, 11, 30)),
)
def test_classify_frame_agrees_with_classify(
    rows: list[tuple[datetime | None, datetime | None]], today: date
) -> None:
    frame = pd.DataFrame(
        {
            "ended": pd.Series([r[0] for r in rows], dtype="datetime64[ns]"),
            "due": pd.Series([r[1] for r in rows], dtype="datetime64[ns]"),
        }
    )
    expected = [classify(ended=as_date(e), due=as_date(d), today=today) for e, d in rows]
    assert classify_frame(frame, today=today).tolist() == expected
