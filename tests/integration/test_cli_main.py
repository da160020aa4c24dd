"""The `sipas` command line through `main(argv)`, in-process on a SQLite file (interfaces.md
"Command line"): output, files written and exit codes. tests/e2e/test_cli.py keeps what needs a
real process.

Each test runs in its own working directory (no developer `.env` is read) with an environment
holding no SIPAS_ or TELEGRAM_ setting but the test's own; the logging and umask a command
changes are put back afterwards.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main

REPORT_HEADER = (
    "MaCoQuan,responses,sipas,factor_1,factor_2,factor_3,factor_4,factor_5,"
    "cases,on_time_rate,late,overdue_open"
)
AGENCY = "000.00.01.H12"


class Sipas:
    """Calls `main([...])` in a working directory with its own database; the outcome is the
    exit code, with the output read from `capsys`."""

    def __init__(
        self, workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.workdir = workdir
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.database = workdir / "sipas.db"
        self.use_database(self.database)

    def use_database(self, path: Path) -> None:
        self.database = path
        self.monkeypatch.setenv("SIPAS_DATABASE_URL", f"sqlite+aiosqlite:///{path}")

    def __call__(self, *args: str) -> tuple[int, str, str]:
        """The exit code, stdout and stderr of `sipas ARGS` (argparse's own exits, --help and
        usage errors, raise `SystemExit`)."""
        self.capsys.readouterr()  # what came before is not this command's
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def restored_process_state() -> Iterator[None]:
    """Put back what a command changes for the whole process: logging and the umask."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        yield
    finally:
        os.umask(umask)
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


@pytest.fixture
def sipas(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restored_process_state: None,
) -> Sipas:
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    for name in list(os.environ):
        if name.startswith(("SIPAS_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SIPAS_LOG_FORMAT", "text")
    monkeypatch.setenv("SIPAS_LOG_LEVEL", "WARNING")
    return Sipas(workdir, monkeypatch, capsys)


@pytest.fixture
def migrated(sipas: Sipas) -> Sipas:
    code, _, err = sipas("migrate")
    assert code == 0, err
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


def test_help_lists_every_command(sipas: Sipas, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "migrate", "score", "report", "import-responses"):
        assert command in out


def test_migrate_creates_the_database(sipas: Sipas) -> None:
    code, out, err = sipas("migrate")
    assert code == 0, err
    assert out == "database is up to date\n"
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
    code, _, err = migrated("import-responses", "bad.csv")
    assert code != 0
    lines = err.strip().splitlines()
    assert "line 3: unknown case H12-0009" in lines
    assert "line 4: value '7' is not 1–5 for five-level question 1.2" in lines
    assert lines[-1].startswith("sipas import-responses: ")
    assert "nothing was imported" in lines[-1]
    with sqlite3.connect(migrated.database) as conn:
        assert conn.execute("SELECT count(*) FROM answers").fetchone() == (0,)


def test_a_missing_file_is_one_line(migrated: Sipas) -> None:
    code, _, err = migrated("import-responses", "nowhere.csv")
    assert code == 1
    assert err.strip().splitlines() == [
        "sipas import-responses: cannot read nowhere.csv: No such file or directory"
    ]


def test_import_then_report_and_score(migrated: Sipas) -> None:
    add_case(migrated.database, "H12-0001", "2026-10-02 08:00:00.000000")
    rows = [f"H12-0001,{AGENCY},F{f},{4 if f < 5 else 2},2026-10-05T08:30:00" for f in (1, 2)]
    rows += [f"H12-0001,{AGENCY},{code},5,2026-10-05T01:30:00Z" for code in ("3.1", "4.1", "5.1")]
    data = "\ufeffMaHoSo,MaCoQuan,question_code,value,answered_at\r\n" + "\r\n".join(rows)
    (migrated.workdir / "good.csv").write_text(data, encoding="utf-8")
    code, out, err = migrated("import-responses", "good.csv")
    assert code == 0, err
    assert "imported 5 answers for 1 cases" in out

    code, _, err = migrated("import-responses", "good.csv")
    assert code != 0
    assert "line 2: case H12-0001 question F1 is already stored" in err

    code, out, err = migrated(
        "report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "csv"
    )
    assert code == 0, err
    assert out.splitlines() == [
        REPORT_HEADER,
        f"{AGENCY},1,100.0,100.0,100.0,100.0,100.0,100.0,1,,0,1",
    ]

    code, out, err = migrated("score", "--date", "2026-10-05")
    assert code == 0, err
    assert out.startswith("2026-10-05: 5 count rows from 5 answers")


def test_report_csv_on_an_empty_database(migrated: Sipas) -> None:
    code, out, err = migrated(
        "report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "csv"
    )
    assert code == 0, err
    assert out.splitlines() == [REPORT_HEADER]


def test_report_xlsx_has_three_sheets(migrated: Sipas) -> None:
    add_case(migrated.database, "H12-0001", "2026-10-02 08:00:00.000000")
    code, out, err = migrated(
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
    assert code == 0, err
    path = migrated.workdir / "r.xlsx"
    assert str(path) in out
    book = load_workbook(path)
    assert book.sheetnames == ["Cơ quan", "Thủ tục", "Công chức"]
    assert book["Cơ quan"]["A3"].value == AGENCY
    assert [p.name for p in migrated.workdir.glob("*.xlsx")] == ["r.xlsx"]  # no temporary left


def test_report_xlsx_without_output_is_written_in_the_working_directory(migrated: Sipas) -> None:
    code, out, err = migrated(
        "report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "xlsx"
    )
    assert code == 0, err
    path = migrated.workdir / "sipas-report-2026-10-01-2026-10-31.xlsx"
    assert str(path) in out
    assert load_workbook(path).sheetnames == ["Cơ quan", "Thủ tục", "Công chức"]


def test_report_period_backwards_is_one_line_exit_1(migrated: Sipas) -> None:
    code, out, err = migrated(
        "report", "--from", "2026-10-31", "--to", "2026-10-01", "--format", "csv"
    )
    assert code == 1
    assert err.strip().splitlines() == ["sipas report: --from 2026-10-31 is after --to 2026-10-01"]
    assert out == ""


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "2026-13-01", "--to", "2026-10-31"),
        ("--from", "2026-10-01", "--to", "yesterday"),
        ("--from", "2026-10-01", "--to", "2026-10-31", "--format", "pdf"),
    ],
)
def test_report_bad_arguments_are_usage_errors(
    migrated: Sipas, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["report", *args])
    assert exited.value.code == 2
    assert "usage: sipas report" in capsys.readouterr().err


def test_score_a_day(migrated: Sipas) -> None:
    code, out, err = migrated("score", "--date", "2026-10-05")
    assert code == 0, err
    assert out.startswith("2026-10-05: ")


def test_init_env_writes_a_private_file_with_a_strong_secret_key(sipas: Sipas) -> None:
    os.umask(0o022)  # the usual umask: a plain write would be world-readable
    code, out, err = sipas("init-env")
    assert code == 0, err
    assert out == "wrote .env with new random secrets\n"
    env = sipas.workdir / ".env"
    assert env.stat().st_mode & 0o777 == 0o600
    values = dict(line.split("=", 1) for line in env.read_text("utf-8").splitlines() if "=" in line)
    key = values["SIPAS_SECRET_KEY"]
    assert len(key) >= 43 and len(set(key)) > 16  # token_urlsafe(32): 256 random bits
    code, out, _ = sipas("init-env")
    assert code == 0 and "left unchanged" in out


def test_init_env_refuses_to_write_through_a_symbolic_link(sipas: Sipas, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "stolen"
    (sipas.workdir / ".env").symlink_to(target)  # dangling: `exists()` said no
    code, _, err = sipas("init-env")
    assert code == 1
    assert err.strip().count("\n") == 0 and "symbolic link" in err
    assert not target.exists()


def test_serve_refuses_to_start_without_a_secret_key(migrated: Sipas) -> None:
    code, _, err = migrated("serve")
    assert code == 1
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("sipas serve: SIPAS_SECRET_KEY is not set")


def test_serve_refuses_webhook_mode_without_its_secret(sipas: Sipas) -> None:
    sipas.monkeypatch.setenv("TELEGRAM_MODE", "webhook")
    sipas.monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    sipas.monkeypatch.setenv("SIPAS_SECRET_KEY", "x" * 32)
    code, _, err = sipas("serve")
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "TELEGRAM_WEBHOOK_SECRET" in err


def test_the_sqlite_database_is_private(sipas: Sipas) -> None:
    os.umask(0o022)
    sipas.use_database(sipas.workdir / "var" / "sipas.db")
    code, _, err = sipas("migrate")
    assert code == 0, err
    assert sipas.database.parent.stat().st_mode & 0o777 == 0o700
    files = [p for p in sipas.database.parent.iterdir() if p.name.startswith("sipas.db")]
    assert sipas.database in files
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, path


def test_an_existing_readable_database_is_made_private(migrated: Sipas) -> None:
    migrated.database.chmod(0o644)
    code, _, err = migrated("migrate")
    assert code == 0, err
    assert migrated.database.stat().st_mode & 0o777 == 0o600


def test_an_answer_time_that_overflows_is_a_line_error(migrated: Sipas) -> None:
    add_case(migrated.database, "H12-0001", "2026-10-02 08:00:00.000000")
    path = migrated.workdir / "answers.csv"
    path.write_text(
        "MaHoSo,MaCoQuan,question_code,value,answered_at\n"
        f"H12-0001,{AGENCY},1.1,5,0001-01-01T00:00:00+14:00\n",
        encoding="utf-8",
    )
    code, _, err = migrated("import-responses", str(path))
    assert code == 1
    assert "Traceback" not in err
    assert "line 2: answered_at '0001-01-01T00:00:00+14:00' is out of range" in err
