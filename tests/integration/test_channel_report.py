"""Reports per channel on real SQLite and PostgreSQL: the response rate of each channel a survey
was carried by and the messages an agency pays for per month, in the storage query, the head's
`/report`, the monthly report's payload and `sipas report`'s workbook.

Surveys are opened, handed over and answered through the storage layer as the product does
(a chat survey opened on a Zalo OA chat still carries the column default `source` "telegram":
its channel is its chat's). Agency A's October, invited in the period and completed:

    telegram  T1 ✓, T2, EDGE_IN (01/10 01:00 local, 30/09 18:00 UTC)   1/3
    zalo_oa   O1 ✓                                                    1/1
    zalo_bot  ZB ✓ (opened on ZNS, handed to the Zalo Bot chat)         1/1
    zns       Z1                                                      0/1
    web       W1 ✓                                                    1/1

not counted: I1 (imported from paper), EDGE_OUT (30/09 23:00 local). Agency B: telegram BT1 ✓.
Paid: ZNS A 3 in October and 2 in September, ZNS B 1 in October; Zalo OA billable replies 2 to
O1's chat (agency A) and 1 to a chat that follows no case, in October.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.clock import Clock
from bot.commands.base import Caller
from bot.commands.head import HeadCommands
from bot.conversation.head_views import monthly_text
from bot.heads.reports import HeadReports
from bot.services import build_services
from scoring.frames import REPORT_COLUMNS
from scoring.sipas import DEFAULT_RULE
from storage import channel_report
from storage.alerts import AlertStore
from storage.case_links import CaseLinkStore
from storage.channel_report import ChannelResponses, PaidMessages
from storage.channel_state import BillableStore
from storage.chats import ChatStore
from storage.db import create_engine
from storage.models import Agency, Case, OutboxMessage, Procedure, RoleGrant, Survey
from storage.outbox import OutboxStore
from storage.roles import RoleStore
from storage.surveys import AnswerRow, SurveyStore
from storage.web_surveys import WebSurveyStore
from storage.zns import ZnsStore
from tests.conftest import make_settings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 10, 20, 3, 0)  # naive UTC: 10:00 on 20 October in Hà Nội
INVITED = datetime(2026, 10, 5, 3, 0)
P, A, B = "000.00.00.H12", "000.00.01.H12", "000.00.02.H12"
NAMES = {P: "UBND tỉnh", A: "Sở Tư pháp", B: "Sở Y tế"}
CASES = {
    "T1": A,
    "T2": A,
    "EDGE_IN": A,
    "EDGE_OUT": A,
    "O1": A,
    "ZB": A,
    "Z1": A,
    "W1": A,
    "I1": A,
    "BT1": B,
}
OCTOBER_UTC = (datetime(2026, 9, 30, 17, 0), datetime(2026, 10, 31, 17, 0))


class FixedClock(Clock):
    def __init__(self, moment: datetime) -> None:
        super().__init__(TZ)
        self.moment = moment.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


class NoDialogs:
    async def begin(self, caller: Caller, kind: str, state: dict[str, Any]) -> None:
        raise AssertionError("/report opens no conversation")


class NoAudit:
    async def record(self, *, actor: Caller, action: str, target: str, **values: Any) -> None:
        raise AssertionError("/report changes nothing")


def table(model: Any) -> Any:
    return model.__table__


async def seed_cases(engine: AsyncEngine) -> dict[str, int]:
    """Agencies P ⊃ {A, B}, the cases, and a head chat for A and for P; the heads' chat ids."""
    heads: dict[str, int] = {}
    chats = ChatStore(engine)
    async with engine.begin() as conn:
        for code in (P, A, B):
            parent = None if code == P else P
            await conn.execute(
                insert(table(Agency)).values(
                    code=code, name=NAMES[code], parent_code=parent, created_at=NOW
                )
            )
        await conn.execute(
            insert(table(Procedure)).values(code="PR1", name="Đăng ký khai sinh", created_at=NOW)
        )
        for code, agency in CASES.items():
            await conn.execute(
                insert(table(Case)).values(
                    code=code,
                    agency_code=agency,
                    procedure_code="PR1",
                    status=10,
                    received_at=datetime(2026, 10, 1, 8),
                    state_at=NOW,
                    events_count=1,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    for name, agency in (("head_a", A), ("head_p", P)):
        chat = await chats.chat(channel="telegram", external_id=name, language="vi", now=NOW)
        heads[name] = chat.id
        async with engine.begin() as conn:
            await conn.execute(
                insert(table(RoleGrant)).values(
                    chat_id=chat.id, role="head", agency_code=agency, granted_at=NOW
                )
            )
    return heads


async def seed_surveys(engine: AsyncEngine) -> None:
    chats, surveys = ChatStore(engine), SurveyStore(engine)
    zns = ZnsStore(engine, channel="zns", prefix="case:")

    async def chat(channel: str, external_id: str) -> int:
        return (
            await chats.chat(channel=channel, external_id=external_id, language="vi", now=NOW)
        ).id

    async def open_on(case: str, chat_id: int, at: datetime = INVITED) -> None:
        opened = await surveys.open_surveys(
            [(case, chat_id)],
            version=1,
            first_code="F1",
            now=at,
            expires_at=datetime(2026, 11, 30),
            intents_for=lambda *_: [],
        )
        assert opened == 1

    async def complete(case: str) -> None:
        async with engine.connect() as conn:
            survey_id = (
                await conn.execute(
                    select(table(Survey).c.id).where(table(Survey).c.case_code == case)
                )
            ).scalar_one()
        found = await surveys.survey(survey_id)
        assert found is not None
        done = await surveys.record_answer(
            found[0],
            question_code="F1",
            value_int=5,
            value_text=None,
            choices=None,
            skipped=False,
            answered_at=datetime(2026, 10, 6, 9),
            next_code=None,
            now=NOW,
            intents=[],
        )
        assert done

    telegram = await chat("telegram", "citizen-1")
    oa = await chat("zalo_oa", "oa-user-1")
    bot = await chat("zalo_bot", "bot-user-1")
    for case in ("T1", "T2", "BT1"):
        await open_on(case, telegram)
    await open_on("EDGE_IN", telegram, datetime(2026, 9, 30, 18, 0))
    await open_on("EDGE_OUT", telegram, datetime(2026, 9, 30, 16, 0))
    await open_on("O1", oa)
    assert await CaseLinkStore(engine).link("O1", oa, via="token", now=NOW) == oa
    assert await zns.open_surveys(
        ["Z1", "ZB"],
        version=1,
        first_code="F1",
        now=INVITED,
        expires_at=datetime(2026, 11, 30),
        intents_for=lambda *_: [],
    )
    async with engine.connect() as conn:
        zb = (
            await conn.execute(select(table(Survey).c.id).where(table(Survey).c.case_code == "ZB"))
        ).scalar_one()
    assert await surveys.hand_to_chat(zb, chat_id=bot, from_channel="zns", now=NOW)
    for case in ("T1", "BT1", "O1", "ZB"):
        await complete(case)
    web = await WebSurveyStore(engine).complete(
        "W1",
        None,
        version=1,
        answers=[AnswerRow("F1", 4, None, None, False)],
        answered_at=datetime(2026, 10, 5, 11),
        now=INVITED,
        expires_at=datetime(2026, 11, 30),
    )
    assert web is not None
    async with engine.begin() as conn:  # a paper survey imported later: no invitation
        await conn.execute(
            insert(table(Survey)).values(
                case_code="I1",
                source="import",
                questionnaire_version=1,
                status="completed",
                invited_at=INVITED,
                completed_at=INVITED,
                expires_at=INVITED,
                updated_at=INVITED,
            )
        )


async def seed_paid(engine: AsyncEngine) -> None:
    billable = BillableStore(engine)
    for agency, month, count in ((A, "2026-10", 3), (A, "2026-09", 2), (B, "2026-10", 1)):
        for _ in range(count):
            await billable.add_for_agency("zns", agency, month=month)
    for _ in range(2):
        assert await billable.add("zalo_oa", "oa-user-1", month="2026-10") == A
    assert await billable.add("zalo_oa", "oa-user-unlinked", month="2026-10") == ""


@dataclass
class Seeded:
    engine: AsyncEngine
    chats: dict[str, int]  # the heads' chats


@dataclass
class World:
    engine: AsyncEngine
    heads: HeadCommands
    chats: dict[str, int]


@pytest.fixture
async def seeded(migrated_url: str) -> AsyncIterator[Seeded]:
    engine = create_engine(migrated_url)
    try:
        heads = await seed_cases(engine)
        await seed_surveys(engine)
        await seed_paid(engine)
        yield Seeded(engine, heads)
    finally:
        await engine.dispose()


@pytest.fixture
async def world(seeded: Seeded, migrated_url: str) -> AsyncIterator[World]:
    """The seeded database with the heads' commands on it."""
    services = await build_services(make_settings(migrated_url), seeded.engine)
    commands = HeadCommands(
        engine=seeded.engine,
        alerts=services.alerts,
        forms=services.surveys.forms,
        audit=NoAudit(),
        dialogs=NoDialogs(),
        clock=FixedClock(NOW),
        rule=DEFAULT_RULE,
    )
    try:
        yield World(seeded.engine, commands, seeded.chats)
    finally:
        await services.close()


def figures(rows: list[ChannelResponses]) -> dict[str, tuple[int, int]]:
    return {row.channel: (row.invited, row.completed) for row in rows}


# -- the query ------------------------------------------------------------------------------------


async def test_each_response_counts_for_the_channel_that_carried_it(seeded: Seeded) -> None:
    low, high = OCTOBER_UTC
    rows = await channel_report.responses_by_channel(
        seeded.engine, low=low, high=high, agency_codes=[A]
    )
    assert [row.channel for row in rows] == list(channel_report.CHANNELS)
    assert figures(rows) == {
        "telegram": (3, 1),
        "zalo_oa": (1, 1),
        "zalo_bot": (1, 1),
        "zns": (1, 0),
        "web": (1, 1),
    }
    assert [row.rate for row in rows] == pytest.approx([100 / 3, 100.0, 100.0, 0.0, 100.0])

    whole = await channel_report.responses_by_channel(
        seeded.engine, low=low, high=high, agency_codes=[P, A, B]
    )
    assert figures(whole)["telegram"] == (4, 2)
    nothing = await channel_report.responses_by_channel(
        seeded.engine, low=low, high=high, agency_codes=[]
    )
    assert all(row.invited == 0 and row.rate is None for row in nothing)


async def test_per_agency_rows_cover_every_agency_or_a_scope(seeded: Seeded) -> None:
    low, high = OCTOBER_UTC
    every = await channel_report.responses_by_agency(seeded.engine, low=low, high=high)
    assert [(r.agency_code, r.channel, r.invited, r.completed) for r in every] == [
        (A, "telegram", 3, 1),
        (A, "zalo_oa", 1, 1),
        (A, "zalo_bot", 1, 1),
        (A, "zns", 1, 0),
        (A, "web", 1, 1),
        (B, "telegram", 1, 1),
    ]
    only_b = await channel_report.responses_by_agency(
        seeded.engine, low=low, high=high, agency_codes=[B]
    )
    assert only_b == [ChannelResponses("telegram", 1, 1, agency_code=B)]


async def test_paid_messages_per_agency_and_month(seeded: Seeded) -> None:
    october = await channel_report.paid_messages(
        seeded.engine, first_month="2026-10", last_month="2026-10"
    )
    assert october == [
        PaidMessages("", "2026-10", 0, 1),
        PaidMessages(A, "2026-10", 3, 2),
        PaidMessages(B, "2026-10", 1, 0),
    ]
    scoped = await channel_report.paid_messages(
        seeded.engine, first_month="2026-09", last_month="2026-10", agency_codes=[A]
    )
    assert scoped == [PaidMessages(A, "2026-09", 2, 0), PaidMessages(A, "2026-10", 3, 2)]
    assert channel_report.month_span(date(2026, 9, 15), date(2026, 10, 1)) == (
        "2026-09",
        "2026-10",
    )


# -- /report --------------------------------------------------------------------------------------


def head(world: World, name: str, agency: str, *, language: str = "vi") -> Caller:
    scope = frozenset({agency}) | (frozenset({A, B}) if agency == P else frozenset())
    return Caller(
        chat_id=world.chats[name],
        channel="telegram",
        external_id=name,
        language=language,
        label=name,
        head_of=frozenset({agency}),
        scope=scope,
    )


def lines_after(text: str, first: str, count: int) -> list[str]:
    lines = text.splitlines()
    start = lines.index(first)
    return lines[start : start + count]


# Agency A's October by channel, as its head reads it (in /report and the monthly report).
A_CHANNEL_LINES = [
    "• Telegram: 33.3% (1/3 phiếu mời)",
    "• Zalo OA: 100.0% (1/1 phiếu mời)",
    "• Zalo Bot: 100.0% (1/1 phiếu mời)",
    "• ZNS: 0.0% (0/1 phiếu mời)",
    "• Trang web: 100.0% (1/1 phiếu mời)",
]


async def test_report_shows_the_section_by_channel_for_the_scope_only(world: World) -> None:
    replies = list(await world.heads.report(head(world, "head_a", A), ["2026-10"]))
    text = replies[0].text
    assert "Tỷ lệ trả lời khảo sát: 57.1% (4/7 phiếu mời)" in text  # the channels add up
    assert lines_after(text, "Theo kênh:", 6) == ["Theo kênh:", *A_CHANNEL_LINES]
    assert lines_after(text, "Tin ZNS đã gửi (cơ quan trả phí):", 2)[1] == (
        "• 10/2026 — Sở Tư pháp: 3 tin"
    )
    assert lines_after(text, "Tin trả lời Zalo OA tính phí (sau 48 giờ):", 2)[1] == (
        "• 10/2026 — Sở Tư pháp: 2 tin"
    )
    assert "Sở Y tế" not in text  # B's message and response are not A's head's business

    whole = (await world.heads.report(head(world, "head_p", P), ["2026-10"]))[0].text
    assert "• Telegram: 50.0% (2/4 phiếu mời)" in whole
    assert "• 10/2026 — Sở Y tế: 1 tin" in whole


async def test_report_by_channel_in_english_and_without_figures(world: World) -> None:
    replies = list(await world.heads.report(head(world, "head_a", A, language="en"), ["2026-10"]))
    text = replies[0].text
    assert "By channel:\n• Telegram: 33.3% (1/3 invitations)" in text
    assert "• Web form: 100.0% (1/1 invitations)" in text
    assert "ZNS messages sent (paid by the agency):\n• 10/2026 — Sở Tư pháp: 3 messages" in text

    august = (await world.heads.report(head(world, "head_a", A), ["2026-08"]))[0].text
    assert "Theo kênh" not in august and "Tin ZNS" not in august and "Zalo OA" not in august


# -- the monthly report -------------------------------------------------------------------------


async def test_the_monthly_report_carries_the_subtree_figures_by_channel(seeded: Seeded) -> None:
    reports = HeadReports(
        store=AlertStore(seeded.engine),
        roles=RoleStore(seeded.engine),
        outbox=OutboxStore(seeded.engine),
        clock=FixedClock(datetime(2026, 11, 1, 0, 30)),
    )
    assert await reports.send_monthly_reports() == 2
    outbox = table(OutboxMessage)
    async with seeded.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.chat_id, outbox.c.payload).where(outbox.c.kind == "monthly")
            )
        ).all()
    payloads = {chat: payload for chat, payload in rows}
    of_a = payloads[seeded.chats["head_a"]]
    assert of_a["month"] == "10/2026"
    assert of_a["channels"] == [
        {"channel": "telegram", "invited": 3, "completed": 1},
        {"channel": "zalo_oa", "invited": 1, "completed": 1},
        {"channel": "zalo_bot", "invited": 1, "completed": 1},
        {"channel": "zns", "invited": 1, "completed": 0},
        {"channel": "web", "invited": 1, "completed": 1},
    ]
    assert (of_a["zns_messages"], of_a["oa_billable"]) == (3, 2)
    of_p = payloads[seeded.chats["head_p"]]
    assert of_p["channels"][0] == {"channel": "telegram", "invited": 4, "completed": 2}
    assert (of_p["zns_messages"], of_p["oa_billable"]) == (4, 2)
    # What the head reads: the rate per channel and what the agency pays for.
    shown = monthly_text(of_a, "vi").splitlines()
    assert shown[-8:] == [
        "Theo kênh:",
        *A_CHANNEL_LINES,
        "Tin ZNS đã gửi trong tháng (cơ quan trả phí): 3",
        "Tin trả lời Zalo OA tính phí trong tháng (sau 48 giờ): 2",
    ]
    assert "ZNS messages sent this month (paid by the agency): 3" in monthly_text(of_a, "en")
    quiet = {**of_a, "channels": [], "zns_messages": 0, "oa_billable": 0}
    assert monthly_text(quiet, "vi").splitlines()[-1].startswith("Đang quá hạn")


# -- sipas report ---------------------------------------------------------------------------------


def sheet_rows(path: Path, title: str) -> list[list[Any]]:
    sheet = load_workbook(path)[title]
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]


async def sipas(*args: str) -> int:
    """`sipas ARGS` in-process (in a thread: the command runs its own event loop)."""
    return await asyncio.to_thread(main, list(args))


async def test_sipas_report_workbook_has_the_channel_and_paid_sheets(
    seeded: Seeded, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli_env / "october.xlsx"
    args = ["report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "xlsx"]
    assert await sipas(*args, "--output", str(path)) == 0, capsys.readouterr().err
    book = load_workbook(path)
    assert book.sheetnames == ["Cơ quan", "Thủ tục", "Công chức", "Theo kênh", "Tin nhắn tính phí"]
    assert "01/10/2026" in book["Theo kênh"]["A1"].value
    assert sheet_rows(path, "Theo kênh") == [
        [
            "Mã cơ quan",
            "Tên cơ quan",
            "Kênh",
            "Phiếu mời khảo sát",
            "Phiếu đã trả lời",
            "Tỷ lệ trả lời (%)",
        ],
        [A, NAMES[A], "Telegram", 3, 1, 33.3],
        [A, NAMES[A], "Zalo OA", 1, 1, 100.0],
        [A, NAMES[A], "Zalo Bot", 1, 1, 100.0],
        [A, NAMES[A], "ZNS", 1, 0, 0.0],
        [A, NAMES[A], "Trang web", 1, 1, 100.0],
        [B, NAMES[B], "Telegram", 1, 1, 100.0],
    ]
    assert sheet_rows(path, "Tin nhắn tính phí") == [
        ["Mã cơ quan", "Tên cơ quan", "Tháng", "Tin ZNS đã gửi", "Tin Zalo OA tính phí"],
        [None, "(chưa gắn hồ sơ)", "10/2026", 0, 1],
        [A, NAMES[A], "10/2026", 3, 2],
        [B, NAMES[B], "10/2026", 1, 0],
    ]

    # The contract's CSV keeps exactly its columns; a period without such figures has no sheets.
    csv_args = ["report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "csv"]
    capsys.readouterr()
    assert await sipas(*csv_args) == 0
    assert capsys.readouterr().out.splitlines()[0] == ",".join(REPORT_COLUMNS)
    august = cli_env / "august.xlsx"
    quiet = ["report", "--from", "2026-08-01", "--to", "2026-08-31", "--format", "xlsx"]
    assert await sipas(*quiet, "--output", str(august)) == 0
    assert load_workbook(august).sheetnames == ["Cơ quan", "Thủ tục", "Công chức"]
