"""The agency report and daily scoring on real databases (SQLite and PostgreSQL).

Cases enter through the intake endpoint; surveys and answers are inserted as rows, so every
figure below is computed by hand from the table at the top of each scenario.
"""

from __future__ import annotations

import io
import math
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import report_output, report_workbook
from bot.scoring_setup import question_meta
from scheduler.scoring_jobs import QuestionMeta, report, score_day
from scoring.frames import REPORT_COLUMNS
from scoring.sipas import sipas_index
from storage.db import create_engine
from storage.models import Answer, Survey
from storage.scores import stored_counts
from tests.support import dossier, signed

surveys_t = Survey.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]

START, END = date(2026, 10, 1), date(2026, 10, 31)
A, B, C = "000.00.01.H12", "000.00.02.H12", "000.00.03.H12"
P1, P2 = "1.001612", "1.000001"
DUC, TAM = "Trần Văn Đức", "Lê Minh Tâm"

# code: (agency, procedure, officer, status, received, promised, finished, returned)
# A1 early, A2 on time, A3 late, A4 open and overdue on 31/10, A5 received in September and
# ended late in October, A6 open and not yet due, A7 ended before the period, B1 early,
# C1 received after the period.
CASES: dict[str, tuple[str, str, str, int, str, str, str | None, str | None]] = {
    "A1": (A, P1, DUC, 10, "20261001083000", "20261008170000", "20261006160000", "20261007100000"),
    "A2": (A, P2, TAM, 9, "20261002090000", "20261009170000", "20261009150000", None),
    "A3": (A, P1, DUC, 10, "20261003090000", "20261007170000", "20261010100000", "20261011090000"),
    "A4": (A, P1, DUC, 4, "20261005090000", "20261020170000", None, None),
    "A5": (A, P1, DUC, 9, "20260920090000", "20260925170000", "20261002100000", None),
    "A6": (A, P1, DUC, 4, "20261025090000", "20261105170000", None, None),
    "A7": (A, P1, DUC, 10, "20260901090000", "20260910170000", "20260909100000", "20260909110000"),
    "B1": (B, P1, DUC, 10, "20261010090000", "20261015170000", "20261014100000", "20261014110000"),
    "C1": (C, P2, TAM, 2, "20261102090000", "20261110170000", None, None),
}
NAMES = {A: "Sở Tư pháp", B: "UBND phường Ba Đình", C: "UBND xã Tây Hồ"}
PROCEDURES = {P1: "Cấp giấy chứng nhận đăng ký hộ kinh doanh", P2: "Đăng ký khai sinh"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# case: [(question, value, answered_at local)]
ANSWERS: dict[str, list[tuple[str, int, datetime]]] = {
    "A1": [
        ("F1", 5, at("2026-10-07 10:00")),
        ("F2", 4, at("2026-10-07 10:01")),
        ("F3", 3, at("2026-10-07 10:02")),
        ("F4", 2, at("2026-10-07 10:03")),
        ("F5", 5, at("2026-10-07 10:04")),
        ("OVERALL", 1, at("2026-10-07 10:05")),  # five-level, but no factor
        ("MONEY", 1, at("2026-10-07 10:06")),  # yes/no: never a level
    ],
    "A2": [
        ("F1", 4, at("2026-10-10 09:00")),
        ("F2", 2, at("2026-10-10 09:00")),
        ("F3", 4, at("2026-10-10 09:00")),
        ("F4", 5, at("2026-10-10 09:00")),
        ("F5", 1, at("2026-10-10 09:00")),
    ],
    "A3": [  # one answer on the last evening of the period, the rest after midnight
        ("F1", 1, at("2026-10-31 23:30")),
        ("F2", 5, at("2026-11-01 00:10")),
        ("F3", 5, at("2026-11-01 00:10")),
        ("F4", 5, at("2026-11-01 00:10")),
        ("F5", 5, at("2026-11-01 00:10")),
    ],
    "A5": [(f"F{f}", 5, at("2026-09-30 23:59")) for f in range(1, 6)],  # before the period
    "B1": [(f"F{f}", 4, at("2026-10-15 11:00")) for f in range(1, 5)],  # no F5 answer
}


def event(code: str) -> dict[str, Any]:
    agency, procedure, officer, status, received, promised, finished, returned = CASES[code]
    return dossier(
        code,
        MaCoQuan=agency,
        TenCoQuan=NAMES[agency],
        MaTTHC=procedure,
        TenTTHC=PROCEDURES[procedure],
        NguoiXuLy=officer,
        TrangThaiHoSo=status,
        NgayTiepNhan=received,
        NgayHenTra=promised,
        NgayKetThucXuLy=finished,
        NgayTra=returned,
        ThoiDiemXuLy=returned or finished or received,
    )


async def add_survey(engine: AsyncEngine, case: str, answers: list[tuple[str, int, datetime]]):
    now = datetime(2026, 11, 2, 3, 0)
    async with engine.begin() as conn:
        survey_id = (
            await conn.execute(
                insert(surveys_t)
                .values(
                    case_code=case,
                    chat_id=None,
                    source="import",
                    questionnaire_version=1,
                    status="completed",
                    current_code=None,
                    invited_at=now,
                    completed_at=now,
                    expires_at=now,
                    updated_at=now,
                )
                .returning(surveys_t.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(answers_t),
            [
                {
                    "survey_id": survey_id,
                    "question_code": code,
                    "value_int": value,
                    "skipped": False,
                    "answered_at": when,
                }
                for code, value, when in answers
            ],
        )


@pytest.fixture
async def seeded(client: TestClient, migrated_url: str) -> AsyncIterator[AsyncEngine]:
    for code in CASES:
        body, headers = signed(event(code))
        response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
        assert response.status == 202, await response.text()
    engine = create_engine(migrated_url)
    for case, answers in ANSWERS.items():
        await add_survey(engine, case, answers)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def meta(seeded: AsyncEngine) -> QuestionMeta:
    return await question_meta(seeded)


def row(frame: pd.DataFrame, column: str, value: str) -> dict[str, Any]:
    found = frame[frame[column] == value]
    assert len(found) == 1, f"{value}: {len(found)} rows in\n{frame}"
    return dict(found.iloc[0])


def same(actual: Any, expected: float | None) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    return actual == pytest.approx(expected)


async def test_report_figures_match_hand_computation(
    seeded: AsyncEngine, meta: QuestionMeta
) -> None:
    frame = await report(seeded, START, END, meta)
    assert list(frame.columns) == list(REPORT_COLUMNS)
    assert list(frame["MaCoQuan"]) == [A, B, C]

    a = row(frame, "MaCoQuan", A)
    # responses: A1, A2 and A3 (one answer on 31/10 23:30); A5 answered on 30/09.
    assert a["responses"] == 3
    # F1 = 5, 4, 1 → 2 of 3 satisfied; F2..F5 = (4,2) (3,4) (2,5) (5,1) → 1 of 2 each.
    expected_a = {"factor_1": 66.7, "factor_2": 50.0, "factor_3": 50.0, "factor_4": 50.0}
    expected_a |= {"factor_5": 50.0, "sipas": 53.3}  # (66.67 + 4 × 50) / 5
    for column, value in expected_a.items():
        assert same(a[column], value), (column, a[column])
    # received in October: A1, A2, A3, A4, A6; ended in October: A1 early, A2 on time,
    # A3 late, A5 late; open on 31/10 with a promised date before it: A4.
    assert (a["cases"], a["late"], a["overdue_open"]) == (5, 2, 1)
    assert same(a["on_time_rate"], 50.0)

    b = row(frame, "MaCoQuan", B)
    assert (b["responses"], b["cases"], b["late"], b["overdue_open"]) == (1, 1, 0, 0)
    for factor in range(1, 5):
        assert same(b[f"factor_{factor}"], 100.0)
    assert same(b["factor_5"], None)
    assert same(b["sipas"], None)  # a factor without answers leaves SIPAS empty
    assert same(b["on_time_rate"], 100.0)

    c = row(frame, "MaCoQuan", C)
    assert (c["responses"], c["cases"], c["late"], c["overdue_open"]) == (0, 0, 0, 0)
    for column in ("sipas", "factor_1", "factor_5", "on_time_rate"):
        assert same(c[column], None)


async def test_csv_has_the_contract_columns_one_decimal_and_empty_cells(
    seeded: AsyncEngine, meta: QuestionMeta
) -> None:
    data = await report_output.collect(seeded, START, END, meta)
    lines = report_output.to_csv(data.agencies).splitlines()
    assert lines[0] == (
        "MaCoQuan,responses,sipas,factor_1,factor_2,factor_3,factor_4,factor_5,"
        "cases,on_time_rate,late,overdue_open"
    )
    assert lines[1:] == [
        f"{A},3,53.3,66.7,50.0,50.0,50.0,50.0,5,50.0,2,1",
        f"{B},1,,100.0,100.0,100.0,100.0,,1,100.0,0,0",
        f"{C},0,,,,,,,0,,0,0",
    ]


async def test_procedure_and_officer_levels(seeded: AsyncEngine, meta: QuestionMeta) -> None:
    data = await report_output.collect(seeded, START, END, meta)
    assert row(data.agencies, "MaCoQuan", B)["name"] == NAMES[B]

    procedures = data.procedures
    assert list(procedures["procedure_code"]) == [P2, P1]  # natural order: 1.000001 first
    p1 = row(procedures, "procedure_code", P1)
    # A1, A3 (F1 only in the period) and B1: F1 = 5,1,4; F2 = 4,4; F3 = 3,4; F4 = 2,4; F5 = 5.
    assert p1["name"] == PROCEDURES[P1]
    assert p1["n"] == 10
    for column, value in {
        "factor_1": 66.7,
        "factor_2": 100.0,
        "factor_3": 50.0,
        "factor_4": 50.0,
        "factor_5": 100.0,
        "sipas": 73.3,
    }.items():
        assert same(p1[column], value), (column, p1[column])
    p2 = row(procedures, "procedure_code", P2)  # A2 only: 4, 2, 4, 5, 1
    assert (p2["n"], p2["sipas"], p2["factor_2"], p2["factor_5"]) == (5, 60.0, 0.0, 0.0)

    officers = data.officers
    keyed = {(r.agency_code, r.officer_name): r for r in officers.itertuples(index=False)}
    assert set(keyed) == {(A, DUC), (A, TAM), (B, DUC)}
    duc = keyed[(A, DUC)]  # A1 and A3: F1 = 5,1; F2 = 4; F3 = 3; F4 = 2; F5 = 5
    assert (duc.n, duc.sipas, duc.factor_1, duc.factor_3) == (6, 50.0, 50.0, 0.0)
    assert duc.agency_name == NAMES[A]
    assert keyed[(A, TAM)].sipas == 60.0
    assert same(keyed[(B, DUC)].sipas, None)


async def test_workbook_has_three_printable_sheets(seeded: AsyncEngine, meta: QuestionMeta) -> None:
    data = await report_output.collect(seeded, START, END, meta)
    buffer = io.BytesIO()
    report_workbook.build_workbook(data).save(buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["Cơ quan", "Thủ tục", "Công chức"]

    agencies = book["Cơ quan"]
    assert "01/10/2026" in agencies["A1"].value and "31/10/2026" in agencies["A1"].value
    headers = [cell.value for cell in agencies[2]]
    assert headers[:4] == ["Mã cơ quan", "Tên cơ quan", "Số phiếu khảo sát", "SIPAS (%)"]
    assert len(headers) == len(REPORT_COLUMNS) + 1
    values = {agencies.cell(row=r, column=1).value: r for r in range(3, agencies.max_row + 1)}
    assert set(values) == {A, B, C}
    a_row = [cell.value for cell in agencies[values[A]]]
    assert a_row == [A, NAMES[A], 3, 53.3, 66.7, 50.0, 50.0, 50.0, 50.0, 5, 50.0, 2, 1]
    assert agencies.cell(row=values[B], column=4).value is None  # no SIPAS for B
    assert agencies.cell(row=values[A], column=4).number_format == "0.0"

    for sheet in book.worksheets:
        assert all(cell.font.bold for cell in sheet[2])
        assert sheet["A2"].fill.fill_type == "solid"
        assert sheet.freeze_panes == "A3"
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == "$1:$2"
        assert sheet.column_dimensions["A"].width > 10
    assert [c.value for c in book["Thủ tục"][3]][:4] == [P2, PROCEDURES[P2], 5, 60.0]
    officer_headers = [c.value for c in book["Công chức"][2]]
    assert officer_headers[:4] == ["Mã cơ quan", "Cơ quan", "Công chức", "Số câu trả lời"]


async def test_score_day_stores_counts_that_sum_to_the_report(
    seeded: AsyncEngine, meta: QuestionMeta
) -> None:
    day = START
    while day <= END:
        await score_day(seeded, day, meta)
        day += timedelta(days=1)
    stored = await stored_counts(seeded, START, END)
    levels = ["n1", "n2", "n3", "n4", "n5"]
    totals = stored.groupby("agency_code")[levels].sum().sum(axis=1).to_dict()
    # A: 11 factor answers + OVERALL (MONEY is yes/no and never counted); B: 4.
    assert totals == {A: 12, B: 4}
    assert set(stored["day"].map(str)) == {"2026-10-07", "2026-10-10", "2026-10-15", "2026-10-31"}

    for column in levels:
        stored[column] = stored[column].astype("int64")
    indices = sipas_index(stored, "agency_code").set_index("agency_code")
    assert round(float(indices.loc[A, "sipas"]), 1) == 53.3
    assert round(float(indices.loc[A, "factor_1"]), 1) == 66.7
    assert math.isnan(indices.loc[B, "sipas"])

    before = len(stored)
    again = await score_day(seeded, date(2026, 10, 7), meta)
    assert again.startswith("2026-10-07: ")
    assert len(await stored_counts(seeded, START, END)) == before


async def test_an_empty_period_reports_every_agency_with_no_figures(
    seeded: AsyncEngine, meta: QuestionMeta
) -> None:
    frame = await report(seeded, date(2027, 1, 1), date(2027, 1, 31), meta)
    assert list(frame["MaCoQuan"]) == [A, B, C]
    assert frame["responses"].tolist() == [0, 0, 0]
    assert frame["sipas"].isna().all()
    # Still open at the end of January and promised before it: A4, A6 and C1.
    assert frame["overdue_open"].tolist() == [2, 0, 1]
