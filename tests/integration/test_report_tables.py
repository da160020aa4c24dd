"""`sipas report --table agencies|channels|messages` in-process on real SQLite and PostgreSQL:
the CSV of the workbook's per-channel and paid-messages tables, and the contract's CSV
(`agencies`, the default) unchanged.

Surveys are stored rows (the channel of a survey is its chat's when it has one, else its
`source`), invited at 10:00 local on 10 October 2026 unless said otherwise; the period is
15/09/2026 – 31/10/2026 (it touches September and October):

    A telegram  16 invited, 1 completed      6.25 % → 6.3 (half up, not 6.2)
    A zalo_oa    3 invited, 2 completed
    A zns        2 invited (no chat)
    A web        1 invited, completed
    B zalo_bot   1 invited, completed        stored before B's telegram one
    B telegram   1 invited (a ZNS survey handed to a Telegram chat: counts for Telegram)

not counted: A's imported paper survey, A's Telegram survey invited on 10 September. Agency C
has no invitation (an agency row, no channel row). Paid messages (ZNS, billable Zalo OA): A
September 2 ZNS, A October 3 ZNS and 2 OA, B September 1 OA, B October 1 ZNS, October 1 OA reply
to a chat that follows no case; outside the months: A August 5 ZNS, B November 4 ZNS.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import report_output
from bot.cli import main
from bot.cli.reports import REPORT_TABLES
from scoring.frames import REPORT_COLUMNS
from storage.channel_state import BillableStore
from storage.db import create_engine
from storage.models import Agency, Case, Chat, Procedure, Survey

A, B, C = "000.00.01.H12", "000.00.02.H12", "000.00.03.H12"
NAMES = {A: "Sở Tư pháp", B: "Sở Y tế", C: "Sở Xây dựng"}
NOW = datetime(2026, 10, 20, 3, 0)  # naive UTC
INVITED = datetime(2026, 10, 10, 3, 0)  # 10:00 local
PERIOD = ("--from", "2026-09-15", "--to", "2026-10-31")

CHANNELS_CSV = [
    "MaCoQuan,channel,invited,completed,response_rate",
    f"{A},telegram,16,1,6.3",
    f"{A},zalo_oa,3,2,66.7",
    f"{A},zns,2,0,0.0",
    f"{A},web,1,1,100.0",
    f"{B},telegram,1,0,0.0",
    f"{B},zalo_bot,1,1,100.0",
]
MESSAGES_CSV = [
    "month,MaCoQuan,zns_messages,oa_billable",
    f"2026-09,{A},2,0",
    f"2026-09,{B},0,1",
    "2026-10,,0,1",
    f"2026-10,{A},3,2",
    f"2026-10,{B},1,0",
]


def table(model: Any) -> Any:
    return model.__table__


async def seed(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for code, name in NAMES.items():
            await conn.execute(insert(table(Agency)).values(code=code, name=name, created_at=NOW))
        await conn.execute(
            insert(table(Procedure)).values(code="PR1", name="Đăng ký khai sinh", created_at=NOW)
        )
        chats: dict[str, int] = {}
        for channel in ("telegram", "zalo_oa", "zalo_bot"):
            inserted = await conn.execute(
                insert(table(Chat))
                .values(channel=channel, external_id=f"{channel}-citizen", created_at=NOW)
                .returning(table(Chat).c.id)
            )
            chats[channel] = int(inserted.scalar_one())

        surveys: list[tuple[str, str, int | None, str, bool, datetime]] = []
        # (agency, source, chat, case prefix, completed, invited_at)
        surveys += [(A, "telegram", chats["telegram"], "AT", i == 0, INVITED) for i in range(16)]
        surveys += [(A, "telegram", chats["zalo_oa"], "AO", i < 2, INVITED) for i in range(3)]
        surveys += [(A, "zns", None, "AZ", False, INVITED) for _ in range(2)]
        surveys += [(A, "web", None, "AW", True, INVITED)]
        surveys += [(A, "import", None, "AI", True, INVITED)]
        surveys += [(A, "telegram", chats["telegram"], "AS", True, datetime(2026, 9, 10, 3))]
        surveys += [(B, "telegram", chats["zalo_bot"], "BB", True, INVITED)]
        surveys += [(B, "zns", chats["telegram"], "BT", False, INVITED)]
        for number, (agency, source, chat, prefix, completed, invited_at) in enumerate(surveys):
            case = f"{prefix}-{number:03d}"
            await conn.execute(
                insert(table(Case)).values(
                    code=case,
                    agency_code=agency,
                    procedure_code="PR1",
                    status=10,
                    received_at=datetime(2026, 9, 1, 8),
                    state_at=NOW,
                    events_count=1,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            await conn.execute(
                insert(table(Survey)).values(
                    case_code=case,
                    chat_id=chat,
                    source=source,
                    questionnaire_version=1,
                    status="completed" if completed else "expired",
                    invited_at=invited_at,
                    completed_at=invited_at if completed else None,
                    expires_at=datetime(2026, 11, 30),
                    updated_at=NOW,
                )
            )

    billable = BillableStore(engine)
    paid = [
        ("zns", A, "2026-09", 2),
        ("zns", A, "2026-10", 3),
        ("zalo_oa", A, "2026-10", 2),
        ("zalo_oa", B, "2026-09", 1),
        ("zns", B, "2026-10", 1),
        ("zns", A, "2026-08", 5),
        ("zns", B, "2026-11", 4),
    ]
    for channel, agency, month, count in paid:
        for _ in range(count):
            await billable.add_for_agency(channel, agency, month=month)
    assert await billable.add("zalo_oa", "oa-user-unlinked", month="2026-10") == ""


@pytest.fixture
async def seeded(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    try:
        await seed(engine)
        yield engine
    finally:
        await engine.dispose()


async def report(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The stdout of `sipas report ARGS` in-process (in a thread: the command runs its own
    event loop); the command must succeed."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["report", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def lines(*rows: str) -> str:
    return "".join(f"{row}\n" for row in rows)


async def test_channels_table(
    seeded: AsyncEngine, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = await report(capsys, *PERIOD, "--format", "csv", "--table", "channels")
    assert out == lines(*CHANNELS_CSV)

    # One row per agency and channel: their order is the agency rows' order.
    agencies = (await report(capsys, *PERIOD)).splitlines()[1:]
    agency_order = [row.split(",")[0] for row in agencies]
    assert agency_order == [A, B, C]
    first_seen = list(dict.fromkeys(row.split(",")[0] for row in CHANNELS_CSV[1:]))
    assert first_seen == [code for code in agency_order if code in first_seen]


async def test_messages_table(
    seeded: AsyncEngine, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = await report(capsys, *PERIOD, "--table", "messages")
    assert out == lines(*MESSAGES_CSV)

    # --output writes the same text; only the months of the period are read.
    assert await report(capsys, *PERIOD, "--table", "messages", "--output", "m.csv") != ""
    assert (cli_env / "m.csv").read_text("utf-8") == out
    october = await report(
        capsys, "--from", "2026-10-01", "--to", "2026-10-01", "--table", "messages"
    )
    assert october == lines(MESSAGES_CSV[0], *MESSAGES_CSV[3:])


async def test_the_default_table_is_the_contract_csv_unchanged(
    seeded: AsyncEngine, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    default = await report(capsys, *PERIOD, "--format", "csv")
    assert await report(capsys, *PERIOD, "--format", "csv", "--table", "agencies") == default
    assert await report(capsys, *PERIOD) == default
    rows = default.splitlines()
    assert rows[0] == ",".join(REPORT_COLUMNS)
    assert [row.split(",")[0] for row in rows[1:]] == [A, B, C]
    assert all(len(row.split(",")) == len(REPORT_COLUMNS) for row in rows)


async def test_an_empty_period_prints_only_the_header(
    seeded: AsyncEngine, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    july = ("--from", "2026-07-01", "--to", "2026-07-31")
    assert await report(capsys, *july, "--table", "channels") == lines(CHANNELS_CSV[0])
    assert await report(capsys, *july, "--table", "messages") == lines(MESSAGES_CSV[0])


@pytest.mark.parametrize("name", ["channels", "messages"])
def test_xlsx_with_another_table_is_a_usage_error(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["report", *PERIOD, "--format", "xlsx", "--table", name])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert err[0].startswith("usage: sipas report")
    assert err[-1] == (
        f"sipas report: error: --table {name} is only for --format csv: "
        "the workbook already holds every table"
    )
    assert list(tmp_path.iterdir()) == []  # no workbook written


def test_bad_table_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", *PERIOD, "--table", "officers"])
    assert exited.value.code == 2
    assert "invalid choice: 'officers'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["report", "--help"])
    assert exited.value.code == 0
    assert "--table {agencies,channels,messages}" in capsys.readouterr().out
    assert report_output.CSV_TABLES == REPORT_TABLES


def test_table_cells_are_formatted_like_the_contract_csv() -> None:
    """No invitation: an empty rate; formula-like text neutralised, numbers kept."""
    channels = pd.DataFrame(
        [("=HYPERLINK(1)", "", "Telegram", 0, 0, float("nan"), "telegram")],
        columns=report_output.CHANNEL_KEYS,
    )
    paid = pd.DataFrame([("-1", "", "10/2026", 1, 0, "2026-10")], columns=report_output.PAID_KEYS)
    data = report_output.ReportData(
        start=date(2026, 10, 1),
        end=date(2026, 10, 31),
        agencies=pd.DataFrame(columns=[*REPORT_COLUMNS, "name"]),
        procedures=pd.DataFrame(),
        officers=pd.DataFrame(),
        channels=channels,
        paid=paid,
    )
    assert report_output.table_csv(data, "channels").splitlines()[1] == (
        "'=HYPERLINK(1),telegram,0,0,"
    )
    assert report_output.table_csv(data, "messages").splitlines()[1] == "2026-10,'-1,1,0"
    assert report_output.table_csv(data, "agencies") == lines(",".join(REPORT_COLUMNS))
    empty = report_output.ReportData(
        start=data.start,
        end=data.end,
        agencies=data.agencies,
        procedures=data.procedures,
        officers=data.officers,
    )
    assert report_output.table_csv(empty, "channels") == lines(CHANNELS_CSV[0])
    with pytest.raises(ValueError, match="no such report table"):
        report_output.table_csv(data, "officers")
