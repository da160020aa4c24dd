"""Roles, scope over a deep agency tree, the audit log, open dialogs and runtime settings,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.channels.links import ChannelLinks
from bot.commands.admin_settings import TUNABLES
from bot.commands.base import Caller
from bot.services import Services, build_services
from bot.telegram.links import TelegramLinks
from storage.db import create_engine
from storage.models import Agency
from tests.conftest import make_settings

agencies_t = Agency.__table__  # type: ignore[attr-defined]

# P → D1 → D2 → D3 → D4 (a deep chain), D1 → E2, and a second root Q.
TREE = [
    ("P", "Ủy ban nhân dân tỉnh", None),
    ("D1", "Sở Tư pháp", "P"),
    ("D2", "Phòng Hộ tịch", "D1"),
    ("D3", "Tổ Chứng thực", "D2"),
    ("D4", "Bộ phận Một cửa", "D3"),
    ("E2", "Phòng Công chứng", "D1"),
    ("Q", "Ủy ban nhân dân huyện khác", None),
]


@pytest.fixture
async def services(migrated_url: str) -> AsyncIterator[Services]:
    engine = create_engine(migrated_url)
    settings = make_settings(
        migrated_url, admin_telegram_ids=["900"], inspector_telegram_ids=["800"]
    )
    # The deep links as `sipas serve` gives them before Telegram told the bot its username.
    links = ChannelLinks({"telegram": TelegramLinks()})
    built = await build_services(settings, engine, links=links)
    async with engine.begin() as conn:
        for code, name, parent in TREE:
            await conn.execute(agencies_t.insert().values(code=code, name=name, parent_code=parent))
    yield built
    await built.close()
    await engine.dispose()


async def who(services: Services, external_id: str, name: str = "") -> Caller:
    return await services.commands.access.caller(
        channel="telegram", external_id=external_id, language="vi", name=name
    )


async def grant(services: Services, chat: Caller, role: str, agency: str | None = None) -> None:
    payload = await services.invites.invite(role, agency)
    await services.linking.on_invite(chat.chat_id, payload)  # type: ignore[misc]


async def test_a_head_sees_every_descendant_at_any_depth_and_nothing_else(
    services: Services,
) -> None:
    head = await who(services, "101", "Nguyễn Văn A")
    assert head.roles == {"everyone"} and head.scope == frozenset()
    assert head.label == "tg:101"  # a citizen is never named in the audit log
    await grant(services, head, "head", "D1")
    head = await who(services, "101", "Nguyễn Văn A")
    assert head.head_of == {"D1"}
    assert head.scope == {"D1", "D2", "D3", "D4", "E2"}
    assert not head.sees("P") and not head.sees("Q")
    assert head.label == "Nguyễn Văn A (tg:101)"
    await grant(services, head, "head", "Q")
    head = await who(services, "101")
    assert head.scope == {"D1", "D2", "D3", "D4", "E2", "Q"}


async def test_revocation_applies_to_the_next_message(services: Services) -> None:
    head = await who(services, "102")
    await grant(services, head, "head", "D3")
    assert (await who(services, "102")).scope == {"D3", "D4"}
    roles = services.commands.roles
    assert await roles.revoke(head.chat_id, "head", "D3", now=services.clock.utcnow())
    after = await who(services, "102")
    assert after.roles == {"everyone"} and after.scope == frozenset()
    assert not await roles.revoke(head.chat_id, "head", "D3", now=services.clock.utcnow())


async def test_admins_and_inspectors_from_the_environment(services: Services) -> None:
    admin = await who(services, "900")
    inspector = await who(services, "800")
    assert admin.admin and admin.sees("Q") and not admin.inspector
    assert inspector.inspector and not inspector.admin and not inspector.sees("D1")
    invited = await who(services, "103")
    await grant(services, invited, "admin")
    assert (await who(services, "103")).admin


async def test_a_redeemed_invite_is_audited_as_a_grant(services: Services) -> None:
    head = await who(services, "104", "Trần Thị B")
    await grant(services, head, "head", "E2")
    rows = await services.commands.dispatcher.audit.store.last(5)
    assert [(r.action, r.target, r.actor_label) for r in rows] == [("grant", "head:E2", "tg:104")]
    assert rows[0].after == {"role": "head", "agency": "E2", "via": "invite"}


async def test_the_audit_log_keeps_before_and_after_newest_first(services: Services) -> None:
    admin = await who(services, "900", "Lê Quản Trị")
    audit = services.commands.dispatcher.audit
    await audit.record(
        actor=admin,
        action="agency_rename",
        target="D2",
        before="Phòng Hộ tịch",
        after="Phòng Hộ tịch – Chứng thực",
    )
    await audit.record(actor=admin, action="setting", target="reminder_hours", before=24, after=12)
    await audit.record(actor=admin, action="refused", target="/invite", after={"reason": "role"})
    store = audit.store
    rows = await store.last(20, exclude=["refused"])
    assert [r.action for r in rows] == ["setting", "agency_rename"]
    assert rows[1].before == "Phòng Hộ tịch" and rows[1].after == "Phòng Hộ tịch – Chứng thực"
    assert rows[0].before == 24 and rows[0].after == 12
    assert rows[0].actor_chat_id == admin.chat_id
    assert rows[0].at <= services.clock.utcnow()
    refused = await store.last(20, actions=["refused"])
    assert [r.after for r in refused] == [{"reason": "role"}]
    assert len(await store.last(2)) == 2


async def test_a_chat_has_one_open_dialog_with_its_state(services: Services) -> None:
    store = services.commands.dispatcher.dialog_store
    chat = await who(services, "105")
    now = services.clock.utcnow()
    assert await store.get(chat.chat_id) is None
    await store.put(chat.chat_id, "q_add", {"step": "text", "draft": {"vi": "Câu hỏi"}}, now=now)
    assert await store.get(chat.chat_id) == ("q_add", {"step": "text", "draft": {"vi": "Câu hỏi"}})
    await store.put(chat.chat_id, "preview", {"index": 2}, now=now + timedelta(seconds=1))
    assert await store.get(chat.chat_id) == ("preview", {"index": 2})
    assert await store.clear(chat.chat_id)
    assert await store.get(chat.chat_id) is None
    assert not await store.clear(chat.chat_id)


async def test_set_parent_refuses_cycles_and_unknown_codes(services: Services) -> None:
    roles = services.commands.roles
    assert await roles.set_parent("D1", "D4") == "cycle"
    assert await roles.set_parent("D1", "D1") == "cycle"
    assert await roles.set_parent("D1", "NOPE") == "unknown"
    assert await roles.set_parent("NOPE", None) == "unknown"
    assert await roles.set_parent("D3", "Q") == "ok"
    assert (await roles.agency("D3")).parent_code == "Q"  # type: ignore[union-attr]
    assert await roles.descendants(["Q"]) == {"Q", "D3", "D4"}
    assert await roles.set_parent("D3", None) == "ok"
    assert await roles.descendants(["Q"]) == {"Q"}


async def test_runtime_settings_reach_the_running_services_and_survive_a_restart(
    services: Services, migrated_url: str
) -> None:
    runtime = services.commands.runtime
    by = {t.key: t for t in TUNABLES}
    assert services.surveys.reminder_after == timedelta(hours=24)
    assert await runtime.change(by["nhac"], "12", by="tg:900") == (24.0, 12)
    assert await runtime.change(by["yenlang"], "22:00-06:30", by="tg:900") == (
        "21:00-07:00",
        "22:00-06:30",
    )
    assert await runtime.change(by["trangthai"], "9", by="tg:900") == (10, 9)
    assert await runtime.change(by["leothang"], "4", by="tg:900") == (8.0, 4)
    await runtime.change(by["hethan"], "3", by="tg:900")
    for tunable, bad in [(by["nhac"], "0"), (by["trangthai"], "8"), (by["yenlang"], "25:00-01:00")]:
        with pytest.raises(ValueError):
            await runtime.change(tunable, bad, by="tg:900")
    expect: dict[str, Any] = {
        "reminder_after": timedelta(hours=12),
        "expiry": timedelta(days=3),
        "survey_statuses": (9, 10),
    }
    for name, value in expect.items():
        assert getattr(services.surveys, name) == value
    assert str(services.surveys.quiet_window) == "(datetime.time(22, 0), datetime.time(6, 30))"
    assert services.alerts.escalate_after_seconds == 4 * 3600

    engine = create_engine(migrated_url)
    try:
        again = await build_services(make_settings(migrated_url), engine)
        for name, value in expect.items():
            assert getattr(again.surveys, name) == value
        assert again.alerts.escalate_after_seconds == 4 * 3600
        assert again.commands.runtime.overridden == {
            "reminder_hours",
            "quiet_hours",
            "survey_status",
            "escalation_hours",
            "survey_expiry_days",
        }
        await again.close()
    finally:
        await engine.dispose()


async def test_audit_command_shows_local_time_who_what_before_and_after(
    services: Services,
) -> None:
    admin = await who(services, "900", "Lê Quản Trị")
    store = services.commands.dispatcher.audit.store
    await store.append(
        at=datetime(2026, 11, 30, 1, 5),  # naive UTC → 08:05 in Hà Nội
        actor_chat_id=admin.chat_id,
        actor_label=admin.label,
        action="agency_threshold",
        target="D2",
        before=None,
        after=85.0,
    )
    await store.append(
        at=datetime(2026, 11, 30, 1, 6),
        actor_chat_id=None,
        actor_label="tg:555",
        action="refused",
        target="/invite",
        after={"reason": "role"},
    )
    dispatcher = services.commands.dispatcher
    [reply] = await dispatcher.command(admin, "audit", [])
    assert "30/11/2026 08:05 · Lê Quản Trị (tg:900) · agency_threshold D2: ∅ → 85" in reply.text
    assert "/invite" not in reply.text  # refusals are listed apart
    [refusals] = await dispatcher.command(admin, "nhatky", ["tuchoi"])
    assert "30/11/2026 08:06 · tg:555 · refused /invite" in refusals.text
    [usage] = await dispatcher.command(admin, "audit", ["xoa", "1"])
    assert usage.text.startswith("Cách dùng: /audit")


async def run(services: Services, caller: Caller, line: str) -> str:
    name, *args = line.split()
    replies = await services.commands.dispatcher.command(caller, name.lstrip("/"), args)
    return "\n".join(r.text for r in replies)


async def test_an_invite_links_through_each_channel_that_has_deep_links(
    migrated_url: str,
) -> None:
    engine = create_engine(migrated_url)
    settings = make_settings(migrated_url, admin_telegram_ids=["900"])
    telegram = TelegramLinks()
    built = await build_services(settings, engine, links=ChannelLinks({"telegram": telegram}))
    bare = await build_services(settings, engine, links=ChannelLinks())
    try:
        admin = await who(built, "900")
        draft = await run(built, admin, "/invite admin")
        assert "https://t.me/<bot>?start=i" in draft and "thay <bot> bằng tên bot" in draft
        telegram.know("sipas_bot")
        ready = await run(built, admin, "/invite admin")
        assert "\nhttps://t.me/sipas_bot?start=i" in ready and "<bot>" not in ready
        # No channel with deep links: the bare code, which `/start` takes.
        code = (await run(bare, await who(bare, "900"), "/invite admin")).split("\n")[1]
        assert code.startswith("i") and "/" not in code
    finally:
        await built.close()
        await bare.close()
        await engine.dispose()


async def test_admin_commands_validate_change_and_audit(services: Services) -> None:
    admin = await who(services, "900", "Lê Quản Trị")
    head = await who(services, "106", "Phạm Thủ Trưởng")
    await grant(services, head, "head", "D1")
    await who(services, "106", "Phạm Thủ Trưởng")  # a staff member's name is remembered

    assert (await run(services, admin, "/invite")).startswith("Cách dùng: /invite head")
    assert (await run(services, admin, "/invite head")).startswith("Cách dùng")
    assert await run(services, admin, "/invite head NOPE") == "Không có cơ quan mã NOPE."
    link = await run(services, admin, "/invite inspector")
    assert "https://t.me/<bot>?start=i" in link and "thanh tra" in link

    people = await run(services, admin, "/nguoi")
    assert "D1 — Sở Tư pháp: Phạm Thủ Trưởng (tg:106)" in people
    assert (await run(services, admin, "/thuhoi admin 900")).startswith("Quyền này được cấu hình")
    assert (
        await run(services, admin, "/thuhoi head D2 106") == "Không tìm thấy quyền này để thu hồi."
    )
    assert "Đã thu hồi" in await run(services, admin, "/thuhoi head D1 tg:106")
    assert (await who(services, "106")).roles == {"everyone"}

    tree = await run(services, admin, "/coquan")
    assert "\nP — Ủy ban nhân dân tỉnh\n  D1 — Sở Tư pháp\n    D2 — Phòng Hộ tịch\n" in tree
    assert "\n        D4 — Bộ phận Một cửa" in tree
    assert "Không đặt được" in await run(services, admin, "/coquan_cha D1 D4")
    assert "D1 → Q" in await run(services, admin, "/coquan_cha D2 Q")
    assert (await run(services, admin, "/nguong D2 101")).startswith("Cách dùng: /nguong")
    assert "mặc định → 85%" in await run(services, admin, "/nguong D2 85")
    assert "mặc định → 40" in await run(services, admin, "/comau D2 40")
    assert "[ngưỡng 85, mẫu 40]" in await run(services, admin, "/coquan Q")
    assert (await run(services, admin, "/coquan_zns D2 sms")).startswith("Cách dùng: /coquan_zns")
    assert (await run(services, admin, "/coquan_zns D9 web")) == "Không có cơ quan mã D9."
    web = await run(services, admin, "/coquan_zns D2 web")
    assert web.startswith("Đã đặt cách mời khảo sát qua ZNS của D2: theo cấp trên → phiếu")
    assert "ZNS chưa được cấu hình" in web  # these services run without ZALO_ZNS_TEMPLATES
    assert "D2 — Phòng Hộ tịch [ZNS: phiếu khảo sát trên web] [ngưỡng 85" in await run(
        services, admin, "/coquan Q"
    )
    assert "→ theo cấp trên" in await run(services, admin, "/agency_zns D2 -")
    renamed = await run(services, admin, "/coquan_ten D2 Phòng Hộ tịch mới")
    assert renamed == "Đã đổi tên D2: Phòng Hộ tịch → Phòng Hộ tịch mới"
    assert "nhac = 24 — nhắc lại sau" in await run(services, admin, "/caidat")
    assert "Đã đổi nhac: 24 → 12" in await run(services, admin, "/settings reminder 12")
    assert "(đã đổi qua bot)" in await run(services, admin, "/caidat")
    assert "Giá trị không hợp lệ" in await run(services, admin, "/caidat trangthai 8")
    assert "Khóa không hợp lệ" in await run(services, admin, "/caidat gio 1")

    rows = await services.commands.dispatcher.audit.store.last(20, exclude=["refused"])
    changes = [(r.action, r.target, r.before, r.after) for r in rows]
    assert ("agency_parent", "D2", "D1", "Q") in changes
    assert ("agency_threshold", "D2", None, 85) in changes
    assert ("agency_min_sample", "D2", None, 40) in changes
    assert ("agency_zns_survey", "D2", None, "invite") in changes
    assert ("agency_zns_survey", "D2", "invite", None) in changes
    assert ("agency_rename", "D2", "Phòng Hộ tịch", "Phòng Hộ tịch mới") in changes
    assert ("setting", "reminder_hours", 24, 12) in changes
    assert (
        "revoke",
        "head:D1@tg:106",
        {"role": "head", "agency": "D1", "chat": "tg:106"},
        None,
    ) in changes
    assert sum(action == "invite" for action, *_ in changes) == 1  # the refused ones are not
    assert all(r.actor_label == "Lê Quản Trị (tg:900)" for r in rows if r.action != "grant")
