"""`sipas import-responses` on real databases (SQLite and PostgreSQL): all rows or none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.importer import ImportRejected, import_file
from storage.db import create_engine
from storage.imports import ImportConflict, NewAnswer, write_answers
from tests.support import bearer, dossier, signed

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 3, 2, 0)  # naive UTC
A, B = "000.00.01.H12", "000.00.02.H12"
HEADER = "MaHoSo,MaCoQuan,question_code,value,answered_at"
CASES = {"H-1": A, "H-2": B, "H-3": A, "H-4": A}


@pytest.fixture
async def engine(client: TestClient, migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """Cases H-1, H-3, H-4 of agency A and H-2 of agency B, received through intake."""
    for code, agency in CASES.items():
        body, headers = signed(dossier(code, MaCoQuan=agency, TrangThaiHoSo=10))
        response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
        assert response.status == 202, await response.text()
    engine = create_engine(migrated_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def csv_bytes(*lines: str, newline: str = "\n") -> bytes:
    return newline.join([HEADER, *lines]).encode("utf-8") + newline.encode()


async def run(engine: AsyncEngine, data: bytes) -> str:
    return str(await import_file(engine, data, tz=TZ, now=NOW))


async def rejected(engine: AsyncEngine, data: bytes) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        await import_file(engine, data, tz=TZ, now=NOW)
    return caught.value.errors


async def survey(client: TestClient, code: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{code}", headers=bearer())
    assert response.status == 200, await response.text()
    return dict((await response.json())["survey"])


async def query(engine: AsyncEngine, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(text(sql), params)]


def as_time(value: Any) -> datetime:
    """A timestamp read by raw SQL (SQLite hands back text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


async def answer_count(engine: AsyncEngine) -> int:
    return int((await query(engine, "SELECT count(*) AS n FROM answers"))[0]["n"])


VALID = csv_bytes(
    f"H-1,{A},1.1,5,2026-10-05T08:30:00+07:00",
    f"H-1,{A},1.2,4,2026-10-05T01:31:00Z",  # UTC → 08:31 local
    f"H-1,{A},F3,3,2026-10-05 08:32:00",  # a short-form code: the active form
    f"H-1,{A},MONEY,0,2026-10-05T08:33:00",
    f"H-2,{B},5.3,1,2026-10-06",
)


async def test_a_valid_file_is_imported(client: TestClient, engine: AsyncEngine) -> None:
    active = await client.get("/api/v1/questionnaire", headers=bearer())
    version = (await active.json())["version"]
    assert "1.1" not in {q["code"] for q in (await active.json())["questions"]}

    assert await run(engine, VALID) == "imported 5 answers for 2 cases (2 new surveys)"

    assert await survey(client, "H-1") == {"status": "completed", "answers": 4}
    assert await survey(client, "H-2") == {"status": "completed", "answers": 1}
    assert await survey(client, "H-3") == {"status": "none", "answers": 0}
    surveys = await query(
        engine,
        "SELECT case_code, chat_id, source, status, questionnaire_version, current_code,"
        " completed_at FROM surveys ORDER BY case_code",
    )
    assert [s["case_code"] for s in surveys] == ["H-1", "H-2"]
    for row in surveys:
        assert (row["chat_id"], row["source"], row["status"]) == (None, "import", "completed")
        assert (row["questionnaire_version"], row["current_code"]) == (version, None)
        assert as_time(row["completed_at"]) == NOW
    stored = await query(
        engine,
        "SELECT s.case_code, a.question_code, a.value_int, a.answered_at, a.skipped"
        " FROM answers a JOIN surveys s ON s.id = a.survey_id"
        " ORDER BY s.case_code, a.answered_at",
    )
    assert [
        (r["case_code"], r["question_code"], r["value_int"], as_time(r["answered_at"]))
        for r in stored
    ] == [
        ("H-1", "1.1", 5, datetime(2026, 10, 5, 8, 30)),
        ("H-1", "1.2", 4, datetime(2026, 10, 5, 8, 31)),
        ("H-1", "F3", 3, datetime(2026, 10, 5, 8, 32)),
        ("H-1", "MONEY", 0, datetime(2026, 10, 5, 8, 33)),
        ("H-2", "5.3", 1, datetime(2026, 10, 6, 0, 0)),
    ]
    assert not any(r["skipped"] for r in stored)


async def test_importing_the_same_file_again_fails_and_changes_nothing(
    engine: AsyncEngine,
) -> None:
    await run(engine, VALID)
    errors = await rejected(engine, VALID)
    assert errors == [
        "line 2: case H-1 question 1.1 is already stored",
        "line 3: case H-1 question 1.2 is already stored",
        "line 4: case H-1 question F3 is already stored",
        "line 5: case H-1 question MONEY is already stored",
        "line 6: case H-2 question 5.3 is already stored",
    ]
    assert await answer_count(engine) == 5


async def test_answers_are_added_to_a_case_that_has_a_survey(
    client: TestClient, engine: AsyncEngine
) -> None:
    await run(engine, csv_bytes(f"H-1,{A},1.1,5,2026-10-05T08:30:00"))
    summary = await run(engine, csv_bytes(f"H-1,{A},2.1,4,2026-10-05T08:40:00"))
    assert summary == "imported 1 answers for 1 cases (0 new surveys)"
    assert await survey(client, "H-1") == {"status": "completed", "answers": 2}
    rows = await query(engine, "SELECT count(*) AS n FROM surveys WHERE case_code = 'H-1'")
    assert rows[0]["n"] == 1


async def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(
    client: TestClient, engine: AsyncEngine
) -> None:
    await run(engine, csv_bytes(f"H-3,{A},3.1,4,2026-10-05T08:30:00"))
    data = csv_bytes(
        f"H-1,{A},1.1,5,2026-10-05T08:30:00",  # 2: fine on its own
        f"H-1,{A},1.2,4",  # 3
        f"H-404,{A},1.1,4,2026-10-05T08:30:00",  # 4
        f"H-1,{B},1.3,4,2026-10-05T08:30:00",  # 5
        f"H-1,{A},9.9,4,2026-10-05T08:30:00",  # 6
        f"H-1,{A},1.4,6,2026-10-05T08:30:00",  # 7
        f"H-1,{A},MONEY,2,2026-10-05T08:30:00",  # 8
        f"H-1,{A},COMMENT,1,2026-10-05T08:30:00",  # 9: free text
        f"H-1,{A},2.1,4,05/10/2026",  # 10
        f"H-1,{A},1.1,3,2026-10-05T09:00:00",  # 11: repeats line 2
        "",  # 12: a blank line is skipped
        f'H-2,{B},2.2,4,"2026-10-05T08:30:00',  # 13–14: one record over two lines
        '"',
        f"H-2,{B},2.2,5,2026-10-05T08:31:00",  # 15: repeats line 13
        f"H-3,{A},3.1,4,2026-10-05T08:30:00",  # 16: stored by the first import
        f"H-4,{A},F1.WHY,1,2026-10-05T08:30:00",  # 17: a choice
        f"H-4,{A},4.1,,2026-10-05T08:30:00",  # 18: empty value
    )
    errors = await rejected(engine, data)
    assert errors == [
        "line 3: expected 5 columns, found 4",
        "line 4: unknown case H-404",
        f"line 5: MaCoQuan {B} is not the agency of case H-1 ({A})",
        "line 6: unknown question code 9.9",
        "line 7: value '6' is not 1–5 for five-level question 1.4",
        "line 8: value '2' is not 0 (no) or 1 (yes) for yes/no question MONEY",
        "line 9: question COMMENT (text) cannot be imported",
        "line 10: answered_at '05/10/2026' is not an ISO 8601 date and time",
        "line 11: case H-1 question 1.1 repeats line 2",
        "line 15: case H-2 question 2.2 repeats line 13",
        "line 16: case H-3 question 3.1 is already stored",
        "line 17: question F1.WHY (choice) cannot be imported",
        "line 18: value empty is not 1–5 for five-level question 4.1",
    ]
    assert await answer_count(engine) == 1  # only the earlier import
    assert await survey(client, "H-1") == {"status": "none", "answers": 0}
    assert await survey(client, "H-2") == {"status": "none", "answers": 0}


async def test_one_bad_row_rejects_the_whole_file(client: TestClient, engine: AsyncEngine) -> None:
    data = csv_bytes(
        f"H-1,{A},1.1,5,2026-10-05T08:30:00",
        f"H-2,{B},1.1,5,2026-10-05T08:30:00",
        f"H-4,{A},1.1,0,2026-10-05T08:30:00",
    )
    assert await rejected(engine, data) == [
        "line 4: value '0' is not 1–5 for five-level question 1.1"
    ]
    assert await answer_count(engine) == 0
    assert (await query(engine, "SELECT count(*) AS n FROM surveys"))[0]["n"] == 0


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "line 1: the file is empty"),
        (b"MaHoSo;MaCoQuan;question_code;value;answered_at\n", "line 1: the header must be"),
        (
            f"{HEADER},extra\nH-1,{A},1.1,5,2026-10-05T08:30:00,x\n".encode(),
            "line 1: the header must be",
        ),
        (f"{HEADER}\n".encode(), "line 2: no answers"),
        (
            f"{HEADER}\nH-1,{A},1.1,5,2026-10-05T08:30:00\nH-2,\xff".encode("latin-1"),
            "line 3: the file is not UTF-8",
        ),
    ],
)
async def test_unreadable_files(engine: AsyncEngine, data: bytes, error: str) -> None:
    errors = await rejected(engine, data)
    assert len(errors) == 1 and errors[0].startswith(error), errors


async def test_bom_and_windows_line_ends_are_accepted(
    client: TestClient, engine: AsyncEngine
) -> None:
    data = b"\xef\xbb\xbf" + csv_bytes(
        f"H-1,{A},OVERALL,5,2026-10-05T08:30:00",
        f"H-1,{A},HARASS,1,2026-10-05T08:30:00",
        newline="\r\n",
    )
    assert await run(engine, data) == "imported 2 answers for 1 cases (1 new surveys)"
    assert await survey(client, "H-1") == {"status": "completed", "answers": 2}


async def test_without_an_active_form_the_short_form_is_seeded(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM questionnaires"))
    await run(engine, csv_bytes(f"H-1,{A},F1,5,2026-10-05T08:30:00"))
    forms = await query(engine, "SELECT version, status, base FROM questionnaires")
    assert forms == [{"version": 1, "status": "active", "base": "short"}]
    versions = await query(engine, "SELECT questionnaire_version FROM surveys")
    assert versions == [{"questionnaire_version": 1}]


async def test_a_pair_stored_meanwhile_rolls_the_whole_write_back(engine: AsyncEngine) -> None:
    await run(engine, csv_bytes(f"H-1,{A},1.1,5,2026-10-05T08:30:00"))
    late = [
        NewAnswer("H-2", "1.1", 4, datetime(2026, 10, 5, 9, 0)),  # a new survey for H-2
        NewAnswer("H-1", "1.1", 3, datetime(2026, 10, 5, 9, 0)),  # clashes with the stored one
    ]
    with pytest.raises(ImportConflict):
        await write_answers(engine, late, version=1, now=NOW)
    assert await answer_count(engine) == 1
    surveys = await query(engine, "SELECT case_code FROM surveys")
    assert surveys == [{"case_code": "H-1"}]  # H-2's survey was rolled back too


async def test_times_that_overflow_or_are_implausible_are_line_errors(
    client: TestClient, engine: AsyncEngine
) -> None:
    # Converting year 1 at +14:00 (or year 9999 west of UTC) to local time overflowed: the
    # command printed a traceback instead of a line error.
    data = csv_bytes(
        f"H-1,{A},1.1,5,0001-01-01T00:00:00+14:00",  # 2
        f"H-1,{A},1.2,5,9999-12-31T23:59:59-12:00",  # 3
        f"H-1,{A},1.3,5,9999-12-31T23:00:00+00:00",  # 4: past 9999 in local time
        f"H-1,{A},1.4,5,0001-01-01",  # 5: a typing error, and before pandas' dates
        f"H-1,{A},2.1,5,2026-11-05T08:00:00",  # 6: after tomorrow (NOW is 3/11)
        f"H-1,{A},2.2,5,2026-11-03T20:00:00",  # 7: fine (today, local)
    )
    errors = await rejected(engine, data)
    assert errors == [
        "line 2: answered_at '0001-01-01T00:00:00+14:00' is out of range",
        "line 3: answered_at '9999-12-31T23:59:59-12:00' is out of range",
        "line 4: answered_at '9999-12-31T23:00:00+00:00' is out of range",
        "line 5: answered_at '0001-01-01' is not between 2000-01-01 and tomorrow",
        "line 6: answered_at '2026-11-05T08:00:00' is not between 2000-01-01 and tomorrow",
    ]
    assert await answer_count(engine) == 0
