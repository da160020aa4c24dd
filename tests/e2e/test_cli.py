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


def test_init_env_writes_a_private_file_with_a_strong_secret_key(sipas: Sipas) -> None:
    os.umask(0o022)  # the usual umask: a plain write would be world-readable
    done = sipas("init-env")
    assert done.returncode == 0, done.stderr
    env = sipas.workdir / ".env"
    assert env.stat().st_mode & 0o777 == 0o600
    values = dict(line.split("=", 1) for line in env.read_text("utf-8").splitlines() if "=" in line)
    key = values["SIPAS_SECRET_KEY"]
    assert len(key) >= 43 and len(set(key)) > 16  # token_urlsafe(32): 256 random bits
    again = sipas("init-env")
    assert again.returncode == 0 and "left unchanged" in again.stdout


def test_init_env_refuses_to_write_through_a_symbolic_link(sipas: Sipas, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "stolen"
    (sipas.workdir / ".env").symlink_to(target)  # dangling: `exists()` said no
    done = sipas("init-env")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "symbolic link" in done.stderr
    assert not target.exists()


def test_serve_refuses_to_start_without_a_secret_key(migrated: Sipas) -> None:
    done = migrated("serve")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("sipas serve: SIPAS_SECRET_KEY is not set")


def test_serve_refuses_webhook_mode_without_its_secret(sipas: Sipas) -> None:
    sipas.env.update(
        {"TELEGRAM_MODE": "webhook", "TELEGRAM_BOT_TOKEN": "123:abc", "SIPAS_SECRET_KEY": "x" * 32}
    )
    done = sipas("serve")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "TELEGRAM_WEBHOOK_SECRET" in done.stderr


def test_the_sqlite_database_is_private(sipas: Sipas) -> None:
    os.umask(0o022)
    sipas.database = sipas.workdir / "var" / "sipas.db"
    sipas.env["SIPAS_DATABASE_URL"] = f"sqlite+aiosqlite:///{sipas.database}"
    done = sipas("migrate")
    assert done.returncode == 0, done.stderr
    assert sipas.database.parent.stat().st_mode & 0o777 == 0o700
    files = [p for p in sipas.database.parent.iterdir() if p.name.startswith("sipas.db")]
    assert sipas.database in files
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, path


def test_an_existing_readable_database_is_made_private(migrated: Sipas) -> None:
    migrated.database.chmod(0o644)
    done = migrated("migrate")
    assert done.returncode == 0, done.stderr
    assert migrated.database.stat().st_mode & 0o777 == 0o600


def test_an_answer_time_that_overflows_is_a_line_error(migrated: Sipas) -> None:
    add_case(migrated.database, "H12-0001", "2026-10-02 08:00:00.000000")
    path = migrated.workdir / "answers.csv"
    path.write_text(
        "MaHoSo,MaCoQuan,question_code,value,answered_at\n"
        f"H12-0001,{AGENCY},1.1,5,0001-01-01T00:00:00+14:00\n",
        encoding="utf-8",
    )
    done = migrated("import-responses", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "line 2: answered_at '0001-01-01T00:00:00+14:00' is out of range" in done.stderr
