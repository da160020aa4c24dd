"""Heads' commands without I/O: the /report period grammar and how a report reads."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands.head_report import Figure, ReportFigures, report_chart, report_text
from bot.commands.report_period import Period, PeriodError, is_period, parse_period
from scoring.indicators import Qd766

TODAY = date(2026, 11, 18)


@pytest.mark.parametrize(
    ("token", "start", "end"),
    [
        (None, date(2026, 11, 1), TODAY),
        ("thang", date(2026, 11, 1), TODAY),
        ("Tháng", date(2026, 11, 1), TODAY),
        ("quy", date(2026, 10, 1), TODAY),
        ("quý", date(2026, 10, 1), TODAY),
        ("nam", date(2026, 1, 1), TODAY),
        ("year", date(2026, 1, 1), TODAY),
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2024-2", date(2024, 2, 1), date(2024, 2, 29)),
        ("10/2025", date(2025, 10, 1), date(2025, 10, 31)),
        ("2026-11", date(2026, 11, 1), TODAY),  # the current month: to date only
    ],
)
def test_periods(token: str | None, start: date, end: date) -> None:
    assert parse_period(token, TODAY) == Period(start, end)


@pytest.mark.parametrize(
    ("token", "key"),
    [
        ("2026-13", "bad_period"),
        ("2026-00", "bad_period"),
        ("thangg", "bad_period"),
        ("2026-12", "future_period"),
        ("2027-01", "future_period"),
        ("1999-12", "too_old"),
        ("26-10", "bad_period"),
    ],
)
def test_bad_periods_name_the_reason(token: str, key: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(token, TODAY)
    assert caught.value.key == key


def test_period_words_and_agency_codes_are_told_apart() -> None:
    assert all(is_period(t) for t in ("thang", "quy", "nam", "2026-10", "10/2026", "abc"))
    assert not any(is_period(t) for t in ("000.00.01.H12", "H12", "G01.2"))


def _figures(**changes: object) -> ReportFigures:
    base = ReportFigures(
        agency="Sở Tư pháp",
        start=date(2026, 10, 1),
        end=date(2026, 10, 31),
        min_sample=30,
        threshold=90.0,
        sipas=Figure(84.25, 40, 78.0, 89.1, True),
        factors={
            1: Figure(90.0, 40, 80.0, 95.0, True),
            2: Figure(85.0, 40, 75.0, 92.0, True),
            3: Figure(70.0, 12, 50.0, 85.0, False),
            4: Figure(None, 0),
            5: Figure(88.0, 40, 80.0, 93.0, True),
        },
        ended=20,
        on_time=17,
        overdue_open=3,
        qd766=Qd766(80.0, 88.89),
        invited=50,
        completed=40,
        worst=[("Cấp phiếu lý lịch tư pháp", Figure(62.5, 31, 50.0, 75.0, True))],
        expectations=["Rút ngắn thời gian (45%)"],
        by_agency=[
            ("Sở Tư pháp", Figure(84.0, 35, 70.0, 90.0, True)),
            ("Phòng Công chứng số 1", Figure(90.0, 5, 50.0, 99.0, False)),
        ],
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_report_reads_in_vietnamese_with_n_interval_and_every_indicator() -> None:
    text = report_text(_figures(), "vi")
    assert text.startswith("📊 Báo cáo SIPAS — Sở Tư pháp\nKỳ: 01/10/2026 – 31/10/2026")
    assert "SIPAS: 84.3% (n=40 phiếu; khoảng tin cậy 95%: 78.0–89.1%)" in text
    assert "• Tiếp cận dịch vụ: 90.0% (n=40)" in text
    assert "• Công chức: chưa đủ mẫu (n=12)" in text  # a figure below the minimum is not shown
    assert "70.0" not in text
    assert "• Kết quả: chưa có ý kiến" in text
    assert "Giải quyết đúng hạn: 85.0% (17/20 hồ sơ đã kết thúc)" in text
    assert "Hồ sơ đang quá hạn: 3" in text
    assert "QĐ 766: 80.00% (điểm 88.89/100)" in text
    assert "Tỷ lệ trả lời khảo sát: 80.0% (40/50 phiếu mời)" in text
    assert "• Cấp phiếu lý lịch tư pháp: 62.5% (n=31)" in text
    assert "Rút ngắn thời gian (45%)" in text
    assert "• Phòng Công chứng số 1: chưa đủ mẫu (n=5)" in text


def test_report_in_english() -> None:
    text = report_text(_figures(), "en")
    assert "SIPAS: 84.3% (n=40 responses; 95% interval 78.0–89.1%)" in text
    assert "• Civil servants: too few answers (n=12)" in text


def test_below_the_minimum_sample_the_report_says_so_instead_of_a_figure() -> None:
    figures = _figures(sipas=Figure(66.7, 3, 20.0, 94.0, False))
    text = report_text(figures, "vi")
    assert "SIPAS: chưa đủ mẫu để công bố (mới có 3 phiếu, cần ít nhất 30)." in text
    assert "66.7" not in text
    assert report_chart(figures, "vi") is None  # no chart of a figure that is not published


def test_a_period_without_answers_or_cases() -> None:
    figures = _figures(
        sipas=Figure(None, 0),
        factors={f: Figure(None, 0) for f in range(1, 6)},
        ended=0,
        on_time=0,
        overdue_open=0,
        qd766=None,
        invited=0,
        completed=0,
        worst=[],
        expectations=[],
        by_agency=[],
    )
    text = report_text(figures, "vi")
    assert "SIPAS: chưa có ý kiến nào trong kỳ." in text
    assert "Giải quyết đúng hạn: chưa có hồ sơ kết thúc trong kỳ." in text
    assert "Theo yếu tố" not in text and "QĐ 766" not in text and "Tỷ lệ trả lời" not in text


def test_the_chart_is_a_png() -> None:
    chart = report_chart(_figures(), "vi")
    assert chart is not None and chart.startswith(b"\x89PNG\r\n\x1a\n")
    assert 5_000 < len(chart) < 200_000
