"""`sipas report`: the figures of a period's agency report, and its CSV (interfaces.md "Report").

`collect` gathers them from stored data into `ReportData`: the agency report of the contract
(`scheduler.scoring_jobs.report`) and the SIPAS indices per procedure and per officer from the
same counts, and by channel (`storage.channel_report`) the surveys invited and completed per
agency and the messages each agency pays for per month (ZNS, billable Zalo OA replies; whole
months, those the period touches). `to_csv` renders the contract columns exactly, and
`table_csv` the table `sipas report --table` names: "agencies" (that contract CSV), "channels"
(`CHANNEL_CSV`: per agency and channel, channel codes as stored) or "messages" (`MESSAGE_CSV`:
per month `YYYY-MM` and agency) — the same frames the workbook's sheets show, no total rows (a
sum over a filtered column stays right). `csv_cell` writes one cell, neutralising text a
spreadsheet would run as a formula. `Column` and the channel and paid sheets' columns
(`CHANNEL_SHEET`, `PAID_SHEET`) are here because they also define those frames' keys
(`CHANNEL_KEYS`, `PAID_KEYS`); the printable workbook itself is `bot.report_workbook`.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands import head_texts
from scheduler.scoring_jobs import QuestionMeta, counts_between, report
from scoring.frames import (
    FACTOR_COLUMNS,
    REPORT_COLUMNS,
    natural_key,
    round_half_up,
    round_series,
)
from scoring.sipas import DEFAULT_RULE, SIPAS, IndexRule, N, sipas_index
from storage import channel_report, scores
from storage.errors import translate_errors
from storage.models import Procedure

procedures_t = Procedure.__table__  # type: ignore[attr-defined]

PERCENT_COLUMNS = frozenset({"sipas", *FACTOR_COLUMNS, "on_time_rate", "response_rate"})
NO_OFFICER = "(không ghi tên)"
NO_AGENCY = "(chưa gắn hồ sơ)"  # a billable reply to a chat that follows no case
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

Kind = Literal["text", "int", "pct"]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    width: float
    kind: Kind


# The channel and paid sheets' columns (bot.report_workbook) are the frames' keys too, so here.
CHANNEL_SHEET = [
    Column("agency_code", "Mã cơ quan", 18, "text"),
    Column("name", "Tên cơ quan", 40, "text"),
    Column("channel", "Kênh", 14, "text"),
    Column("invited", "Phiếu mời khảo sát", 12, "int"),
    Column("completed", "Phiếu đã trả lời", 12, "int"),
    Column("response_rate", "Tỷ lệ trả lời (%)", 11, "pct"),
]
PAID_SHEET = [
    Column("agency_code", "Mã cơ quan", 18, "text"),
    Column("name", "Tên cơ quan", 40, "text"),
    Column("month", "Tháng", 10, "text"),
    Column("zns", "Tin ZNS đã gửi", 12, "int"),
    Column("zalo_oa", "Tin Zalo OA tính phí", 12, "int"),
]


# Beside the sheets' columns, the channel and paid frames keep the codes the CSV tables print:
# the channel as stored (the sheet shows its name) and the month `YYYY-MM` (the sheet: MM/YYYY).
CHANNEL_CODE = "channel_code"
MONTH_CODE = "month_code"
CHANNEL_KEYS = [*(c.key for c in CHANNEL_SHEET), CHANNEL_CODE]
PAID_KEYS = [*(c.key for c in PAID_SHEET), MONTH_CODE]


def _frame(keys: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=list(keys))


@dataclass(frozen=True)
class ReportData:
    start: date
    end: date
    agencies: pd.DataFrame  # REPORT_COLUMNS + name
    procedures: pd.DataFrame  # procedure_code, name, n, sipas, factor_1..5
    officers: pd.DataFrame  # agency_code, agency_name, officer_name, n, sipas, factor_1..5
    # CHANNEL_KEYS, per agency and channel with invitations in the period
    channels: pd.DataFrame = field(default_factory=lambda: _frame(CHANNEL_KEYS))
    # PAID_KEYS, per month and agency (the months the period touches)
    paid: pd.DataFrame = field(default_factory=lambda: _frame(PAID_KEYS))


async def _procedure_names(engine: AsyncEngine) -> dict[str, str]:
    with translate_errors():
        async with engine.connect() as conn:
            rows = (await conn.execute(select(procedures_t.c.code, procedures_t.c.name))).all()
    return {str(code): str(name) for code, name in rows}


def _indices(counts: pd.DataFrame, by: list[str], rule: IndexRule) -> pd.DataFrame:
    """sipas_index rounded like the agency report (one decimal, half up)."""
    frame = sipas_index(counts, by, rule)
    out = frame[[*by, N]].copy()
    out[N] = out[N].fillna(0).astype("int64")
    for column in (SIPAS, *FACTOR_COLUMNS):
        out[column] = round_series(frame[column], 1)
    return out.reset_index(drop=True)


async def _channel_frames(
    engine: AsyncEngine, start: date, end: date, tz: tzinfo, names: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The channel sheet's rows (per agency and channel with invitations, by agency code then
    channel) and the paid messages' (per month and agency, in that order whatever the
    database's collation). No total rows: a sum over a filtered column stays right."""
    low, high = (
        local.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
        for local in scores.day_bounds(start, end)
    )
    responses = await channel_report.responses_by_agency(engine, low=low, high=high)
    channels = pd.DataFrame(
        [
            (
                r.agency_code,
                names.get(r.agency_code, ""),
                head_texts.channel_name("vi", r.channel),
                r.invited,
                r.completed,
                round_half_up(r.rate, 1),
                r.channel,
            )
            for r in responses
        ],
        columns=CHANNEL_KEYS,
    )
    first, last = channel_report.month_span(start, end)
    paid = await channel_report.paid_messages(engine, first_month=first, last_month=last)
    messages = pd.DataFrame(
        [
            (
                m.agency_code,
                names.get(m.agency_code, "") if m.agency_code else NO_AGENCY,
                f"{m.month[5:]}/{m.month[:4]}",
                m.zns,
                m.zalo_oa,
                m.month,
            )
            for m in sorted(paid, key=lambda m: (m.month, m.agency_code))
        ],
        columns=PAID_KEYS,
    )
    return channels, messages


async def collect(
    engine: AsyncEngine,
    start: date,
    end: date,
    meta: QuestionMeta,
    *,
    rule: IndexRule = DEFAULT_RULE,
    tz: tzinfo = DEFAULT_TZ,
) -> ReportData:
    """Every figure of the report for [start, end] (local days in `tz`), from stored data."""
    names = await scores.agency_rows(engine)
    agencies = await report(engine, start, end, meta, rule=rule)
    agency_name = {str(c): str(n) for c, n in zip(names["code"], names["name"], strict=True)}
    agencies = agencies.copy()
    agencies["name"] = [agency_name.get(str(code), "") for code in agencies["MaCoQuan"]]

    counts = await counts_between(engine, start, end, meta)
    procedure_name = await _procedure_names(engine)
    procedures = _indices(counts, ["procedure_code"], rule)
    procedures["name"] = [procedure_name.get(str(c), "") for c in procedures["procedure_code"]]
    procedures = procedures.sort_values(
        "procedure_code", key=lambda s: s.map(natural_key), kind="stable"
    ).reset_index(drop=True)

    officers = _indices(counts, ["agency_code", "officer_name"], rule)
    officers["officer_name"] = [
        str(name) if isinstance(name, str) and name.strip() else NO_OFFICER
        for name in officers["officer_name"]
    ]
    officers["agency_name"] = [agency_name.get(str(c), "") for c in officers["agency_code"]]
    officers = officers.sort_values(["agency_code", "officer_name"], kind="stable")
    channels, paid = await _channel_frames(engine, start, end, tz, agency_name)
    return ReportData(
        start=start,
        end=end,
        agencies=agencies,
        procedures=procedures,
        officers=officers.reset_index(drop=True),
        channels=channels,
        paid=paid,
    )


# --- CSV -------------------------------------------------------------------------------------


def missing_value(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


# A text cell starting with one of these is a formula to a spreadsheet (OWASP "CSV
# injection"); names come from one-stop systems, so `=HYPERLINK(…)` is only a delivery away.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as text: a formula-like start gets a leading single quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(column: str, value: Any) -> str:
    """One decimal for percentages, whole numbers for counts, empty where there is no data;
    text that a spreadsheet would run as a formula is neutralised (numbers stay numbers)."""
    if missing_value(value):
        return ""
    if column in PERCENT_COLUMNS:
        return f"{float(value):.1f}"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, numbers.Real):  # numpy numbers too: a negative count is no formula
        return str(value)
    return neutralise(str(value))


def _csv_line(cells: Sequence[str]) -> str:
    """One CSV line ending in LF; a field holding CR or LF is quoted (the csv module quotes
    only the characters of its line terminator, and an unquoted CR splits the row)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()[:-2] + "\n"


# The CSV tables besides the contract's: (header, frame key) per column, in order.
CHANNEL_CSV = (
    ("MaCoQuan", "agency_code"),
    ("channel", CHANNEL_CODE),
    ("invited", "invited"),
    ("completed", "completed"),
    ("response_rate", "response_rate"),
)
MESSAGE_CSV = (
    ("month", MONTH_CODE),
    ("MaCoQuan", "agency_code"),
    ("zns_messages", "zns"),
    ("oa_billable", "zalo_oa"),
)
CSV_TABLES = ("agencies", "channels", "messages")  # `sipas report --table`, the default first


def _table_csv(frame: pd.DataFrame, columns: Sequence[tuple[str, str]]) -> str:
    """The header, then one line per row of `frame` in its order (cells as `csv_cell`)."""
    keys = [key for _, key in columns]
    lines = [_csv_line([header for header, _ in columns])]
    for row in frame[keys].itertuples(index=False):
        lines.append(_csv_line([csv_cell(k, v) for k, v in zip(keys, row, strict=True)]))
    return "".join(lines)


def to_csv(frame: pd.DataFrame) -> str:
    """The contract's CSV: exactly REPORT_COLUMNS, one row per agency."""
    return _table_csv(frame, [(column, column) for column in REPORT_COLUMNS])


def table_csv(data: ReportData, table: str = "agencies") -> str:
    """One table of the report as CSV: "agencies" the contract's (`to_csv`), "channels" the
    surveys invited and completed per agency and channel (`CHANNEL_CSV`; the rate empty when
    nothing was invited), "messages" the ZNS messages and billable Zalo OA replies per month
    and agency (`MESSAGE_CSV`; MaCoQuan empty for replies to a chat that follows no case)."""
    if table == "agencies":
        return to_csv(data.agencies)
    if table == "channels":
        return _table_csv(data.channels, CHANNEL_CSV)
    if table == "messages":
        return _table_csv(data.paid, MESSAGE_CSV)
    raise ValueError(f"no such report table: {table!r}")


__all__ = [
    "CHANNEL_CSV",
    "CHANNEL_KEYS",
    "CHANNEL_SHEET",
    "CSV_TABLES",
    "MESSAGE_CSV",
    "PAID_KEYS",
    "PAID_SHEET",
    "ReportData",
    "collect",
    "csv_cell",
    "table_csv",
    "to_csv",
]
