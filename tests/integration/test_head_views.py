"""Heads' views on real SQLite and PostgreSQL: scope over an agency tree, late cases on the
work calendar, /report for a subtree only, /alerts, and /mute holding alerts (not complaints)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from bot.clock import Clock
from bot.commands.base import Caller, Refused, Reply, UsageError
from bot.commands.head import HeadCommands
from bot.services import Services, build_services
from bot.survey.service import ChatRef
from scoring.sipas import DEFAULT_RULE
from storage import head_views
from storage.alerts import AlertStore
from storage.db import create_engine
from storage.models import (
    Agency,
    AlertMute,
    Answer,
    Case,
    Chat,
    OutboxMessage,
    Procedure,
    RoleGrant,
    Survey,
)
from storage.mutes import MuteStore
from storage.outbox import OutboxIntent
from tests.conftest import make_settings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Friday 9 October 2026, 10:00 in Hà Nội; the next working day is Monday the 12th.
NOW_UTC = datetime(2026, 10, 9, 3, 0)
T = Agency.__table__  # type: ignore[attr-defined]


class FixedClock(Clock):
    def __init__(self, moment: datetime) -> None:
        super().__init__(TZ)
        self.moment = moment.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


@dataclass
class RecordingAudit:
    entries: list[dict[str, Any]] = field(default_factory=list)

    async def record(self, *, actor: Caller, action: str, target: str, **values: Any) -> None:
        self.entries.append({"actor": actor.chat_id, "action": action, "target": target, **values})


class NoDialogs:
    async def begin(self, caller: Caller, kind: str, state: dict[str, Any]) -> None:
        raise AssertionError("heads' commands open no conversation")


def table(model: Any) -> Any:
    return model.__table__


def local(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour)


@dataclass
class World:
    services: Services
    heads: HeadCommands
    audit: RecordingAudit
    chats: dict[str, int]


AGENCIES = [
    ("P1", "UBND tỉnh", None),
    ("A2", "Sở Tư pháp", "P1"),
    ("A21", "Phòng Công chứng số 1", "A2"),
    ("B3", "Sở Y tế", "P1"),
]
CASES = [  # code, agency, status, due (local), ended (local)
    ("A-OLD", "A2", 4, local("2026-10-01", 17), None),
    ("A1-SOON", "A21", 4, local("2026-10-12", 10), None),
    ("A-TODAY", "A2", 2, local("2026-10-09", 17), None),
    ("A-LATER", "A2", 4, local("2026-10-13", 17), None),
    ("A-DONE", "A2", 10, local("2026-10-02", 17), local("2026-10-05", 9)),
    ("A-STOP", "A2", 8, local("2026-10-01", 17), local("2026-10-02", 9)),
    ("B-OLD", "B3", 4, local("2026-09-30", 17), None),
    ("A-S1", "A2", 10, local("2026-10-06", 17), local("2026-10-05", 9)),
    ("A1-S1", "A21", 10, local("2026-10-06", 17), local("2026-10-05", 9)),
    ("B-S1", "B3", 10, local("2026-10-03", 17), local("2026-10-05", 9)),
]
ANSWERED = {"A-S1": 5, "A1-S1": 4, "B-S1": 1}  # every five-level question at this level
EXPECTED = {"A-S1": ["E2", "E1"], "A1-S1": ["E1"], "B-S1": ["E3"]}  # what most needs improving


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[World]:
    engine = create_engine(migrated_url)
    services = await build_services(make_settings(migrated_url), engine)
    chats: dict[str, int] = {}
    async with engine.begin() as conn:
        for code, name, _parent in AGENCIES:
            await conn.execute(
                insert(T).values(code=code, name=name, parent_code=None, created_at=NOW_UTC)
            )
        for code, _, parent in AGENCIES:
            if parent:
                await conn.execute(T.update().where(T.c.code == code).values(parent_code=parent))
        await conn.execute(T.update().values(min_sample=1))
        await conn.execute(
            insert(table(Procedure)).values(
                code="PR1", name="Cấp phiếu lý lịch tư pháp", created_at=NOW_UTC
            )
        )
        for code, agency, status, due, ended in CASES:
            await conn.execute(
                insert(table(Case)).values(
                    code=code,
                    agency_code=agency,
                    procedure_code="PR1",
                    status=status,
                    received_at=local("2026-09-28", 9),
                    due_at=due,
                    ended_at=ended,
                    timeliness=None if ended is None else ("late" if ended > due else "on_time"),
                    state_at=NOW_UTC,
                    events_count=1,
                    created_at=NOW_UTC,
                    updated_at=NOW_UTC,
                )
            )
        for name, external in (("head_a", "501"), ("head_p", "502"), ("head_b", "503")):
            chats[name] = (
                await conn.execute(
                    insert(table(Chat))
                    .values(
                        channel="telegram",
                        external_id=external,
                        language="vi",
                        opted_out=False,
                        created_at=NOW_UTC,
                        updated_at=NOW_UTC,
                    )
                    .returning(table(Chat).c.id)
                )
            ).scalar_one()
        for chat, agency in (("head_a", "A2"), ("head_p", "P1"), ("head_b", "B3")):
            await conn.execute(
                insert(table(RoleGrant)).values(
                    chat_id=chats[chat], role="head", agency_code=agency, granted_at=NOW_UTC
                )
            )
        for case, level in ANSWERED.items():
            survey = (
                await conn.execute(
                    insert(table(Survey))
                    .values(
                        case_code=case,
                        source="telegram",
                        questionnaire_version=1,
                        status="completed",
                        invited_at=datetime(2026, 10, 5, 3),
                        expires_at=datetime(2026, 10, 12),
                        updated_at=NOW_UTC,
                    )
                    .returning(table(Survey).c.id)
                )
            ).scalar_one()
            await conn.execute(
                insert(table(Answer)).values(
                    survey_id=survey,
                    question_code="EXPECT",
                    choices=EXPECTED[case],
                    skipped=False,
                    answered_at=datetime(2026, 10, 5, 11),
                )
            )
            for code in ("F1", "F2", "F3", "F4", "F5", "OVERALL"):
                await conn.execute(
                    insert(table(Answer)).values(
                        survey_id=survey,
                        question_code=code,
                        value_int=level,
                        skipped=False,
                        answered_at=datetime(2026, 10, 5, 4),
                    )
                )
    audit = RecordingAudit()
    heads = HeadCommands(
        engine=engine,
        alerts=services.alerts,
        forms=services.surveys.forms,
        audit=audit,
        dialogs=NoDialogs(),
        clock=FixedClock(NOW_UTC),
        rule=DEFAULT_RULE,
    )
    yield World(services, heads, audit, chats)
    await services.close()
    await engine.dispose()


def head_of(world: World, chat: str, *agencies: str, scope: tuple[str, ...] = ()) -> Caller:
    return Caller(
        chat_id=world.chats[chat],
        channel="telegram",
        external_id=chat,
        language="vi",
        label=chat,
        head_of=frozenset(agencies),
        scope=frozenset(agencies) | frozenset(scope),
    )


def texts(replies: Reply | Any) -> str:
    return "\n".join(r.text for r in ([replies] if isinstance(replies, Reply) else replies))


async def test_subtree_follows_the_tree_at_any_depth(world: World) -> None:
    rows = await head_views.agencies(world.services.engine)
    assert head_views.subtree(rows, ["A2"]) == {"A2", "A21"}
    assert head_views.subtree(rows, ["P1"]) == {"P1", "A2", "A21", "B3"}
    assert head_views.subtree(rows, ["A21", "B3"]) == {"A21", "B3"}


async def test_late_lists_open_cases_of_the_scope_oldest_promise_first(world: World) -> None:
    cases, total = await head_views.late_cases(
        world.services.engine, ["A2", "A21"], horizon=local("2026-10-13", 0)
    )
    assert [c.code for c in cases] == ["A-OLD", "A-TODAY", "A1-SOON"] and total == 3

    reply = texts(await world.heads.late(head_of(world, "head_a", "A2", scope=("A21",)), []))
    lines = reply.splitlines()
    assert lines[0] == "⏰ Hồ sơ quá hạn và sắp đến hạn — Sở Tư pháp"
    assert lines[1:] == [
        "• A-OLD — Cấp phiếu lý lịch tư pháp — hẹn trả 01/10/2026 (quá hạn)",
        "• A-TODAY — Cấp phiếu lý lịch tư pháp — hẹn trả 09/10/2026",
        "• A1-SOON — Cấp phiếu lý lịch tư pháp — hẹn trả 12/10/2026",
    ]
    assert "B-OLD" not in reply and "A-LATER" not in reply and "A-STOP" not in reply

    only_b = texts(await world.heads.late(head_of(world, "head_b", "B3"), []))
    assert "B-OLD" in only_b and "A-" not in only_b


async def test_out_of_scope_agency_is_refused_like_a_missing_role(world: World) -> None:
    caller = head_of(world, "head_a", "A2", scope=("A21",))
    for run, args in (
        (world.heads.late, ["B3"]),
        (world.heads.report, ["2026-10", "P1"]),
        (world.heads.open_alerts, ["NO-SUCH-9"]),
    ):
        with pytest.raises(Refused) as refused:
            await run(caller, args)
        assert refused.value.reason == "scope"
    narrowed = texts(await world.heads.late(caller, ["A21"]))
    assert "A1-SOON" in narrowed and "A-OLD" not in narrowed


async def test_report_covers_the_subtree_only_with_its_chart(world: World) -> None:
    caller = head_of(world, "head_a", "A2", scope=("A21",))
    replies = list(await world.heads.report(caller, ["2026-10"]))
    text = replies[0].text
    assert "Kỳ: 01/10/2026 – 09/10/2026" in text  # the current month: to date
    assert "SIPAS: 100.0% (n=2 phiếu" in text  # B's very dissatisfied answers are not mixed in
    assert "Sở Tư pháp" in text and "Phòng Công chứng số 1" in text
    assert "Sở Y tế" not in text and "B-" not in text
    assert "Hồ sơ đang quá hạn: 1" in text  # A-OLD; B-OLD is not theirs
    assert "Giải quyết đúng hạn: 50.0% (2/4 hồ sơ đã kết thúc)" in text
    assert "Mức độ hài lòng theo QĐ 766: 50.00% (điểm 55.56/100)" in text
    assert "Tỷ lệ trả lời khảo sát: 100.0% (2/2 phiếu mời)" in text
    assert "• Cấp phiếu lý lịch tư pháp: 100.0% (n=2)" in text  # the worst procedure
    assert (
        "Người dân mong muốn cải thiện nhất: Cung cấp thông tin tốt hơn (100%); "
        "Cải thiện trụ sở, trang thiết bị (50%)"
    ) in text  # B's pick (E3) is not theirs
    assert replies[1].photo is not None and replies[1].photo.startswith(b"\x89PNG")

    whole = texts(
        await world.heads.report(head_of(world, "head_p", "P1", scope=("A2", "A21", "B3")), [])
    )
    assert "Sở Y tế" in whole and "SIPAS: " in whole


async def test_report_below_the_minimum_sample_shows_no_figure(world: World) -> None:
    async with world.services.engine.begin() as conn:
        await conn.execute(T.update().values(min_sample=30))
    replies = list(await world.heads.report(head_of(world, "head_b", "B3"), ["thang"]))
    assert "SIPAS: chưa đủ mẫu để công bố (mới có 1 phiếu, cần ít nhất 30)." in replies[0].text
    assert "0.0%" not in replies[0].text.split("Giải quyết")[0]
    assert len(replies) == 1  # no chart of an unpublishable figure


async def test_bad_arguments_get_a_polite_usage_reply(world: World) -> None:
    caller = head_of(world, "head_a", "A2")
    for args, expected in (
        (["2026-13"], "Không hiểu kỳ báo cáo «2026-13»"),
        (["2027-01"], "chưa bắt đầu"),
        (["thang", "quy"], "quá nhiều tham số"),
        (["abc"], "Không hiểu kỳ báo cáo «abc»"),
    ):
        with pytest.raises(UsageError) as usage:
            await world.heads.report(caller, args)
        assert expected in usage.value.text


async def test_alerts_lists_the_scope_open_alerts_with_their_buttons(world: World) -> None:
    store = AlertStore(world.services.engine)
    ids: dict[str, int] = {}
    raised = [("A2-1", "A2", False), ("A21-1", "A21", True), ("B3-1", "B3", False)]
    raised += [(f"A2-{n}", "A2", False) for n in range(2, 5)]
    for minute, (key, agency, complaint) in enumerate(raised):
        found = await store.raise_alert(
            kind="low_score",
            agency_code=agency,
            dedupe_key=f"t:{key}",
            payload={
                "kind": "low_score",
                "agency": agency,
                "code": f"HS-{key}",
                "procedure": "Cấp phiếu lý lịch tư pháp",
                "money": complaint,
            },
            complaint=complaint,
            survey_id=None,
            now=NOW_UTC + timedelta(minutes=minute),
            intents_for=lambda _id: [],
        )
        assert found is not None
        ids[key] = found
    head_a = head_of(world, "head_a", "A2", scope=("A21",))
    replies = list(await world.heads.open_alerts(head_a, []))
    assert len(replies) == 3  # the oldest three, one message each with its own buttons
    assert replies[0].text.startswith("🔔 Cảnh báo chưa xử lý: 5\n\n")
    assert [r.buttons[0][0].data for r in replies] == [
        f"k:{ids['A2-1']}:a",
        f"k:{ids['A21-1']}:a",
        f"k:{ids['A2-2']}:a",
    ]
    assert [b.label for b in replies[1].buttons[0]] == ["Đã tiếp nhận", "Đã xử lý"]
    assert [b.data for b in replies[1].buttons[0]][1] == f"k:{ids['A21-1']}:d"
    assert "HS-A21-1" in replies[1].text and "HS-B3-1" not in texts(replies)
    assert replies[2].text.endswith(
        "… và 2 cảnh báo khác; xử lý xong các cảnh báo trên rồi gõ /alerts để xem tiếp."
    )

    # The head two levels up may act on it too (their /alerts shows it); once handled it
    # leaves the list.
    head_p = ChatRef(channel="telegram", external_id="502", language="vi")
    assert await world.services.loop.on_alert_press(head_p, ids["A21-1"], "a") == "acked"
    assert await world.services.loop.take_note(world.chats["head_p"], "Đã xử lý") is False
    assert await world.services.loop.on_alert_press(head_p, ids["A21-1"], "d") == "ask_note_sent"
    assert await world.services.loop.take_note(world.chats["head_p"], "Đã làm việc với cán bộ")
    after = texts(await world.heads.open_alerts(head_a, []))
    assert after.startswith("🔔 Cảnh báo chưa xử lý: 4") and "HS-A21-1" not in after
    only_b = texts(await world.heads.open_alerts(head_of(world, "head_b", "B3"), []))
    assert "HS-B3-1" in only_b and "HS-A2" not in only_b
    # A head of a sibling agency may not act on it.
    head_b = ChatRef(channel="telegram", external_id="503", language="vi")
    assert await world.services.loop.on_alert_press(head_b, ids["A2-2"], "a") == "not_yours"
    assert texts(await world.heads.open_alerts(head_of(world, "head_b", "B3"), [])).count("#") == 1


async def _outbox(world: World, chat: int) -> list[tuple[int, datetime]]:
    o = table(OutboxMessage)
    async with world.services.engine.connect() as conn:
        rows = await conn.execute(
            select(o.c.payload, o.c.not_before).where(o.c.chat_id == chat).order_by(o.c.id)
        )
        return [(int(p["alert_id"]), nb) for p, nb in rows.all()]


async def test_mute_holds_low_scores_but_never_complaints(world: World) -> None:
    store = AlertStore(world.services.engine)
    head = world.chats["head_a"]
    caller = head_of(world, "head_a", "A2", scope=("A21",))

    async def alert(key: str, complaint: bool, at: datetime) -> int:
        found = await store.raise_alert(
            kind="low_score",
            agency_code="A2",
            dedupe_key=key,
            payload={"kind": "low_score", "money": complaint},
            complaint=complaint,
            survey_id=None,
            now=at,
            intents_for=lambda i: [
                OutboxIntent(chat_id=head, kind="alert", payload={"alert_id": i})
            ],
        )
        assert found is not None
        return found

    queued_before = await alert("before", False, NOW_UTC)  # still pending when the mute starts
    reply = await world.heads.mute(caller, ["4"])
    assert "🔕 Đã tạm hoãn cảnh báo thường đến 14:00 09/10/2026" in reply.text
    until = NOW_UTC + timedelta(hours=4)
    low = await alert("low", False, NOW_UTC + timedelta(minutes=5))
    money = await alert("money", True, NOW_UTC + timedelta(minutes=6))
    held = dict(await _outbox(world, head))
    assert held[queued_before] == until and held[low] == until  # held, not lost
    assert held[money] == NOW_UTC + timedelta(minutes=6)  # a complaint arrives at once
    assert world.audit.entries[-1] == {
        "actor": head,
        "action": "alerts.mute",
        "target": f"chat:{head}",
        "before": None,
        "after": until.isoformat(),
    }
    # Another head is not muted by it.
    assert (
        await MuteStore(world.services.engine).muted_until(world.chats["head_b"], now=NOW_UTC)
        is None
    )

    status = await world.heads.mute(caller, [])
    assert "đang được tạm hoãn đến 14:00 09/10/2026" in status.text
    assert "bật lại" in (await world.heads.mute(caller, ["0"])).text
    released = dict(await _outbox(world, head))
    assert released[low] == NOW_UTC and released[queued_before] == NOW_UTC
    assert world.audit.entries[-1]["action"] == "alerts.unmute"
    async with world.services.engine.connect() as conn:
        assert (await conn.execute(select(table(AlertMute)))).all() == []


@pytest.mark.parametrize("raw", ["abc", "0.5", "73", "-1", "1000000", "4 giờ nữa"])
async def test_mute_refuses_bad_hours_politely(world: World, raw: str) -> None:
    with pytest.raises(UsageError) as usage:
        await world.heads.mute(head_of(world, "head_a", "A2"), raw.split())
    assert "hãy nhập một số nguyên từ 1 đến 72" in usage.value.text
    assert world.audit.entries == []


async def test_mute_accepts_hours_with_a_unit(world: World) -> None:
    reply = await world.heads.mute(head_of(world, "head_a", "A2"), ["72h"])
    assert "10:00 12/10/2026" in reply.text


async def test_an_admin_names_the_agency_and_sees_any(world: World) -> None:
    admin = Caller(
        chat_id=world.chats["head_p"],
        channel="telegram",
        external_id="502",
        language="en",
        label="admin",
        admin=True,
    )
    with pytest.raises(UsageError) as usage:
        await world.heads.late(admin, [])
    assert "/late 000.00.01.H12" in usage.value.text
    everything = texts(await world.heads.late(admin, ["P1"]))
    assert everything.startswith("⏰ Cases overdue or due soon — UBND tỉnh")
    assert "B-OLD" in everything and "A-OLD" in everything
    with pytest.raises(Refused):
        await world.heads.late(admin, ["NO-SUCH-1"])  # refused like any unknown scope
    report = list(await world.heads.report(admin, ["2026-10", "B3"]))
    assert report[0].text.startswith("📊 SIPAS report — Sở Y tế")
