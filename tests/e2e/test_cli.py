"""The real `sipas` command line as a subprocess on a SQLite file (interfaces.md "Command line")."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e

REPORT_HEADER = (
    "MaCoQuan,responses,sipas,factor_1,factor_2,factor_3,factor_4,factor_5,"
    "cases,on_time_rate,late,overdue_open"
)
AGENCY = "000.00.01.H12"


class Sipas:
    """Runs `python -m bot.cli …` in a working directory with its own database."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.database = workdir / "sipas.db"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "TELEGRAM_"))},
            "SIPAS_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "SIPAS_LOG_FORMAT": "text",
            "SIPAS_LOG_LEVEL": "WARNING",
            "PYTHONIOENCODING": "utf-8",
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )


@pytest.fixture
def sipas(tmp_path: Path) -> Sipas:
    return Sipas(tmp_path)


@pytest.fixture
def migrated(sipas: Sipas) -> Sipas:
    done = sipas("migrate")
    assert done.returncode == 0, done.stderr
    return sipas


def add_case(database: Path, code: str, received: str) -> None:
    """A case as intake stores it (only the columns the report and the import read)."""
    now = "2026-10-01 00:00:00.000000"
    with sqlite3.connect(database) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO agencies (code, name, created_at) VALUES (?, ?, ?)",
            (AGENCY, "Trung tâm Phục vụ hành chính công tỉnh", now),
        )
        conn.execute(
            "INSERT OR IGNORE INTO procedures (code, name, created_at) VALUES (?, ?, ?)",
            ("1.001612", "Cấp giấy chứng nhận đăng ký hộ kinh doanh", now),
        )
        conn.execute(
            "INSERT INTO cases (code, agency_code, procedure_code, officer_name, status,"
            " received_at, due_at, state_at, events_count, created_at, updated_at)"
            " VALUES (?, ?, '1.001612', 'Trần Văn Đức', 4, ?, '2026-10-20 17:00:00.000000',"
            " ?, 1, ?, ?)",
            (code, AGENCY, received, received, now, now),
        )


def test_help_lists_every_command(sipas: Sipas) -> None:
    shown = sipas("--help")
    assert shown.returncode == 0, shown.stderr
    for command in ("serve", "migrate", "score", "report", "import-responses"):
        assert command in shown.stdout


def test_migrate_creates_the_database(sipas: Sipas) -> None:
    done = sipas("migrate")
    assert done.returncode == 0, done.stderr
    assert sipas.database.exists()
    with sqlite3.connect(sipas.database) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"cases", "surveys", "answers", "daily_scores"} <= tables


def test_a_bad_file_is_rejected_with_line_numbers(migrated: Sipas) -> None:
    add_case(migrated.database, "H12-0001", "2026-10-02 08:00:00.000000")
    (migrated.workdir / "bad.csv").write_text(
        "MaHoSo,MaCoQuan,question_code,value,answered_at\n"
        f"H12-0001,{AGENCY},1.1,5,2026-10-05T08:30:00\n"
        f"H12-0009,{AGENCY},1.1,5,2026-10-05T08:30:00\n"
        f"H12-0001,{AGENCY},1.2,7,2026-10-05T08:30:00\n",
        encoding="utf-8",
    )
    done = migrated("import-responses", "bad.csv")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert "line 3: unknown case H12-0009" in lines
    assert "line 4: value '7' is not 1–5 for five-level question 1.2" in lines
    assert lines[-1].startswith("sipas import-responses: ")
    assert "nothing was imported" in lines[-1]
    with sqlite3.connect(migrated.database) as conn:
        assert conn.execute("SELECT count(*) FROM answers").fetchone() == (0,)


def test_a_missing_file_is_one_line(migrated: Sipas) -> None:
    done = migrated("import-responses", "nowhere.csv")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "sipas import-responses: cannot read nowhere.csv: No such file or directory"
    ]


def test_import_then_report_and_score(migrated: Sipas) -> None:
    add_case(migrated.database, "H12-0001", "2026-10-02 08:00:00.000000")
    rows = [f"H12-0001,{AGENCY},F{f},{4 if f < 5 else 2},2026-10-05T08:30:00" for f in (1, 2)]
    rows += [f"H12-0001,{AGENCY},{code},5,2026-10-05T01:30:00Z" for code in ("3.1", "4.1", "5.1")]
    data = "\ufeffMaHoSo,MaCoQuan,question_code,value,answered_at\r\n" + "\r\n".join(rows)
    (migrated.workdir / "good.csv").write_text(data, encoding="utf-8")
    done = migrated("import-responses", "good.csv")
    assert done.returncode == 0, done.stderr
    assert "imported 5 answers for 1 cases" in done.stdout

    again = migrated("import-responses", "good.csv")
    assert again.returncode != 0
    assert "line 2: case H12-0001 question F1 is already stored" in again.stderr

    report = migrated("report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "csv")
    assert report.returncode == 0, report.stderr
    assert report.stdout.splitlines() == [
        REPORT_HEADER,
        f"{AGENCY},1,100.0,100.0,100.0,100.0,100.0,100.0,1,,0,1",
    ]

    scored = migrated("score", "--date", "2026-10-05")
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.startswith("2026-10-05: 5 count rows from 5 answers")


def test_report_csv_on_an_empty_database(migrated: Sipas) -> None:
    done = migrated("report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [REPORT_HEADER]


def test_report_xlsx_has_three_sheets(migrated: Sipas) -> None:
    add_case(migrated.database, "H12-0001", "2026-10-02 08:00:00.000000")
    done = migrated(
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--format",
        "xlsx",
        "--output",
        "r.xlsx",
    )
    assert done.returncode == 0, done.stderr
    path = migrated.workdir / "r.xlsx"
    assert str(path) in done.stdout
    book = load_workbook(path)
    assert book.sheetnames == ["Cơ quan", "Thủ tục", "Công chức"]
    assert book["Cơ quan"]["A3"].value == AGENCY
    assert [p.name for p in migrated.workdir.glob("*.xlsx")] == ["r.xlsx"]  # no temporary left


def test_report_xlsx_without_output_is_written_in_the_working_directory(migrated: Sipas) -> None:
    done = migrated("report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "xlsx")
    assert done.returncode == 0, done.stderr
    path = migrated.workdir / "sipas-report-2026-10-01-2026-10-31.xlsx"
    assert str(path) in done.stdout
    assert load_workbook(path).sheetnames == ["Cơ quan", "Thủ tục", "Công chức"]


def test_report_period_backwards_is_one_line_exit_1(migrated: Sipas) -> None:
    done = migrated("report", "--from", "2026-10-31", "--to", "2026-10-01", "--format", "csv")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "sipas report: --from 2026-10-31 is after --to 2026-10-01"
    ]
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "2026-13-01", "--to", "2026-10-31"),
        ("--from", "2026-10-01", "--to", "yesterday"),
        ("--from", "2026-10-01", "--to", "2026-10-31", "--format", "pdf"),
    ],
)
def test_report_bad_arguments_are_usage_errors(migrated: Sipas, args: tuple[str, ...]) -> None:
    done = migrated("report", *args)
    assert done.returncode == 2
    assert "usage: sipas report" in done.stderr


def test_score_a_day(migrated: Sipas) -> None:
    done = migrated("score", "--date", "2026-10-05")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2026-10-05: ")
