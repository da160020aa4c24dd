"""Every command of every module × every role, in and out of agency scope: allowed or refused
as designed, refusals polite, identical whatever the reason, and written to the audit log.

Runs through the real dispatcher on real storage (SQLite and PostgreSQL); replies are the
channel-neutral `Reply` values the Telegram layer renders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.commands.admin_texts import admin_text
from bot.commands.base import Callback, Caller, Command, Dialog, Refused, Reply, UsageError
from bot.services import Services, build_services
from storage.db import create_engine
from storage.models import Agency, Alert
from tests.conftest import make_settings

agencies_t = Agency.__table__  # type: ignore[attr-defined]

TREE = [
    ("P", "Ủy ban nhân dân tỉnh", None),
    ("D1", "Sở Tư pháp", "P"),
    ("D2", "Phòng Hộ tịch", "D1"),
    ("Q", "Ủy ban nhân dân huyện Q", None),
]
TARGET = "D2"  # inside head_in's scope (D1 → D2), outside head_out's (Q)

# Arguments each command is tried with; commands not listed run without arguments. Commands
# that name an agency name TARGET, so a head of another agency must be refused (scope).
ARGS: dict[str, list[str]] = {
    "invite": ["head", TARGET],
    "thuhoi": ["inspector", "55555"],
    "coquan": [TARGET],
    "coquan_ten": [TARGET, "Phòng", "Hộ", "tịch"],
    "coquan_cha": [TARGET, "D1"],
    "nguong": [TARGET, "85"],
    "comau": [TARGET, "30"],
    "coquan_zns": [TARGET, "web"],
    "report": [TARGET],
    "late": [TARGET],
    "alerts": [TARGET],
    "mute": ["2"],
    "q_edit": ["Q1", "Anh/chị có hài lòng không?"],
}
SCOPED = {"report", "late", "alerts"}
# head_inspector heads Q (outside TARGET's tree) and is an inspector too.
ROLES = ("citizen", "head_in", "head_out", "inspector", "head_inspector", "admin")


def expected(command: Command, role: str) -> bool:
    """The design: everyone's commands for all; admin commands for admins; head commands for
    heads (and admins, who see every agency), refused when the agency is outside the scope —
    also for a head who is an inspector too (`/alerts` acts on what one heads); read-only views
    (/report, /late) also for inspectors, across agencies."""
    if command.role == "everyone":
        return True
    if command.role == "admin":
        return role == "admin"
    if command.role == "head":
        if role in ("head_out", "head_inspector") and command.name in SCOPED:
            return False
        return role in ("head_in", "head_out", "head_inspector", "admin")
    if command.role == "inspector":
        return role in ("inspector", "head_inspector")
    if command.role == "reader":  # read-only views: heads in scope, inspectors and admins anywhere
        if role == "head_out" and command.name in SCOPED:
            return False
        return role in ("head_in", "head_out", "inspector", "head_inspector", "admin")
    raise AssertionError(f"unknown role {command.role}")


@pytest.fixture
async def services(migrated_url: str) -> AsyncIterator[Services]:
    engine = create_engine(migrated_url)
    built = await build_services(make_settings(migrated_url, admin_telegram_ids=["900"]), engine)
    await built.surveys.ensure_form()
    async with engine.begin() as conn:
        for code, name, parent in TREE:
            await conn.execute(agencies_t.insert().values(code=code, name=name, parent_code=parent))
    yield built
    await built.close()
    await engine.dispose()


async def callers(services: Services) -> dict[str, Caller]:
    access = services.commands.access

    async def who(external: str) -> Caller:
        return await access.caller(channel="telegram", external_id=external, language="vi")

    for external, role, agency in [
        ("201", "head", "D1"),
        ("202", "head", "Q"),
        ("203", "inspector", None),
        ("205", "head", "Q"),
        ("205", "inspector", None),
    ]:
        chat = await who(external)
        await services.linking.on_invite(chat.chat_id, await services.invites.invite(role, agency))  # type: ignore[misc]
    found = {
        "citizen": await who("200"),
        "head_in": await who("201"),
        "head_out": await who("202"),
        "inspector": await who("203"),
        "head_inspector": await who("205"),
        "admin": await who("900"),
    }
    assert found["head_in"].sees(TARGET) and not found["head_out"].sees(TARGET)
    assert found["head_inspector"].inspector and found["head_inspector"].head_of == {"Q"}
    return found


async def refusals(services: Services) -> int:
    return len(await services.commands.dispatcher.audit.store.last(10_000, actions=["refused"]))


async def test_every_command_for_every_role(services: Services) -> None:
    dispatcher = services.commands.dispatcher
    who = await callers(services)
    refused_text = admin_text("vi", "refused")
    assert dispatcher.commands, "no command module registered"
    store = dispatcher.audit.store
    await dispatcher.command(who["admin"], "nguong", ["Q", "80"])
    earlier = await store.last(10_000)
    wrong: list[str] = []
    for command in dispatcher.commands:
        for role in ROLES:
            before = await refusals(services)
            replies = await dispatcher.command(
                who[role], command.name, list(ARGS.get(command.name, []))
            )
            texts = [r.text for r in replies]
            assert replies and all(isinstance(r, Reply) for r in replies), (
                f"/{command.name} {role}: silence"
            )
            was_refused = texts == [refused_text]
            audited = await refusals(services) - before
            if was_refused == expected(command, role) or audited != (1 if was_refused else 0):
                wrong.append(f"/{command.name} as {role}: refused={was_refused} audited={audited}")
            # the same command under each alias behaves the same for someone without the role
            if not expected(command, role) and role in ("citizen", "inspector"):
                for alias in command.aliases:
                    again = await dispatcher.command(who[role], alias, [])
                    if [r.text for r in again] != [refused_text]:
                        wrong.append(f"/{alias} (alias) as {role} was not refused")
    assert not wrong, "\n".join(wrong)
    # Whatever every role ran, the audit log only grew: no command edits or deletes a line.
    now = {row.id: row for row in await store.last(10_000)}
    assert all(now.get(row.id) == row for row in earlier)
    assert len(now) > len(earlier)


async def test_refusals_reveal_nothing(services: Services) -> None:
    """Out of scope and unknown agencies read the same as a missing role."""
    dispatcher = services.commands.dispatcher
    who = await callers(services)
    names = {c.name for c in dispatcher.commands}
    refused = [Reply(admin_text("vi", "refused"))]
    for name in sorted(SCOPED & names):
        assert [r.text for r in await dispatcher.command(who["head_out"], name, [TARGET])] == [
            refused[0].text
        ]
        assert [r.text for r in await dispatcher.command(who["head_out"], name, ["NOPE.99"])] == [
            refused[0].text
        ]
    assert [
        r.text for r in await dispatcher.command(who["citizen"], "invite", ["head", "NOPE"])
    ] == [refused[0].text]
    rows = await dispatcher.audit.store.last(3, actions=["refused"])
    assert rows[0].target == "/invite" and rows[0].actor_chat_id == who["citizen"].chat_id
    assert rows[0].after["reason"] == "role"


async def test_every_button_and_dialog_checks_the_role(services: Services) -> None:
    dispatcher = services.commands.dispatcher
    who = await callers(services)
    for prefix, callback in dispatcher._callbacks.items():
        for role in ROLES:
            if expected(Command("x", callback.role, _never, "", ""), role):
                continue
            before = await refusals(services)
            result = await dispatcher.press(who[role], f"{prefix}:1:x")
            assert result.notice == admin_text("vi", "refused_press"), (prefix, role)
            assert await refusals(services) == before + 1
    for kind, dialog in dispatcher._dialogs.items():
        for role in ROLES:
            if expected(Command("x", dialog.role, _never, "", ""), role):
                continue
            await dispatcher.dialog_store.put(
                who[role].chat_id, kind, {}, now=services.clock.utcnow()
            )
            replies = await dispatcher.text(who[role], "xin chào")
            assert [r.text for r in replies or []] == [admin_text("vi", "refused")], (kind, role)
            assert await dispatcher.dialog_store.get(who[role].chat_id) is None


async def _never(caller: Caller, args: Any) -> Reply:
    raise AssertionError("never run")


class Probe:
    """A module exercising the dispatcher's contract: usage errors, scope, dialogs, failures."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def commands(self) -> list[Command]:
        return [
            Command("probe_scope", "head", self.scope, "thử", "probe"),
            Command("probe_usage", "everyone", self.usage, "thử", "probe", ("probe_alias",)),
            Command("probe_ask", "admin", self.ask, "thử", "probe"),
            Command("probe_boom", "admin", self.boom, "thử", "probe"),
        ]

    def callbacks(self) -> list[Callback]:
        return []

    def dialogs(self) -> list[Dialog]:
        return [Dialog("probe_dialog", "admin", self.step)]

    async def scope(self, caller: Caller, args: list[str]) -> Reply:
        if not caller.sees(args[0]):
            raise Refused("scope")
        return Reply(f"ok {args[0]}")

    async def usage(self, caller: Caller, args: list[str]) -> Reply:
        raise UsageError("Cách dùng: /probe_usage <số>")

    async def ask(self, caller: Caller, args: list[str]) -> Reply:
        await self.services.commands.dispatcher.begin(caller, "probe_dialog", {"n": 0})
        return Reply("Nhập nội dung:")

    async def boom(self, caller: Caller, args: list[str]) -> Reply:
        raise RuntimeError("bug")

    async def step(
        self, caller: Caller, state: dict[str, Any], text: str
    ) -> tuple[list[Reply], dict[str, Any] | None]:
        if not text.strip().isdigit():
            raise UsageError("Cần một số.")
        n = state["n"] + int(text)
        if n >= 10:
            return [Reply(f"Xong: {n}")], None
        return [Reply(f"Tổng: {n}")], {"n": n}


async def test_the_dispatcher_contract(services: Services) -> None:
    dispatcher = services.commands.dispatcher
    dispatcher.add(Probe(services))
    who = await callers(services)
    admin, head = who["admin"], who["head_in"]
    assert [r.text for r in await dispatcher.command(head, "probe_scope", [TARGET])] == [
        f"ok {TARGET}"
    ]
    assert [r.text for r in await dispatcher.command(head, "probe_scope", ["Q"])] == [
        admin_text("vi", "refused")
    ]
    assert (await dispatcher.audit.store.last(1))[0].after["reason"] == "scope"
    assert [r.text for r in await dispatcher.command(head, "PROBE_ALIAS", [])] == [
        "Cách dùng: /probe_usage <số>"
    ]
    assert [r.text for r in await dispatcher.command(admin, "probe_boom", [])] == [
        admin_text("vi", "failed")
    ]
    # a guided conversation: validation, state, /cancel
    assert await dispatcher.text(admin, "3") is None  # nothing open: the survey service's turn
    await dispatcher.command(admin, "probe_ask", [])
    assert [r.text for r in await dispatcher.text(admin, "abc") or []] == ["Cần một số."]
    assert [r.text for r in await dispatcher.text(admin, "4") or []] == ["Tổng: 4"]
    assert [r.text for r in await dispatcher.command(admin, "cancel", [])] == [
        admin_text("vi", "cancelled")
    ]
    assert await dispatcher.text(admin, "4") is None
    assert [r.text for r in await dispatcher.command(admin, "huy", [])] == [
        admin_text("vi", "nothing_to_cancel")
    ]
    await dispatcher.command(admin, "probe_ask", [])
    assert [r.text for r in await dispatcher.text(admin, "12") or []] == ["Xong: 12"]
    assert await dispatcher.open_dialog(admin) is None
    # a revoked admin's open conversation is refused and closed on their next message
    grants = services.commands.roles
    invited = await services.commands.access.caller(
        channel="telegram", external_id="204", language="vi"
    )
    await services.linking.on_invite(invited.chat_id, await services.invites.invite("admin", None))  # type: ignore[misc]
    invited = await services.commands.access.caller(
        channel="telegram", external_id="204", language="vi"
    )
    await dispatcher.command(invited, "probe_ask", [])
    await grants.revoke(invited.chat_id, "admin", "", now=services.clock.utcnow())
    invited = await services.commands.access.caller(
        channel="telegram", external_id="204", language="vi"
    )
    assert [r.text for r in await dispatcher.text(invited, "1") or []] == [
        admin_text("vi", "refused")
    ]
    assert await dispatcher.open_dialog(invited) is None
    # help lists a caller's own commands only
    assert dispatcher.help(who["citizen"]) == []
    admin_help = dispatcher.help(admin)[0].text
    assert "/invite" in admin_help and "/audit" in admin_help and "/cancel" in admin_help
    head_help = dispatcher.help(head)[0].text
    assert "/invite" not in head_help


async def test_a_head_who_is_also_an_inspector_lists_only_the_alerts_of_what_they_head(
    services: Services,
) -> None:
    """Inspectors read every agency's figures; `/alerts` (buttons that act) stays a head's own."""
    alerts_t = Alert.__table__  # type: ignore[attr-defined]
    now = services.clock.utcnow()
    async with services.engine.begin() as conn:
        for agency, case in (("D2", "HS-D2"), ("Q", "HS-Q")):
            await conn.execute(
                alerts_t.insert().values(
                    kind="low_score",
                    agency_code=agency,
                    dedupe_key=f"low:{case}",
                    payload={"kind": "low_score", "agency": agency, "code": case},
                    complaint=False,
                    created_at=now,
                )
            )
    dispatcher = services.commands.dispatcher
    both = (await callers(services))["head_inspector"]
    listed = "\n".join(r.text for r in await dispatcher.command(both, "alerts", []))
    assert "HS-Q" in listed and "HS-D2" not in listed
    refused = admin_text("vi", "refused")
    assert [r.text for r in await dispatcher.command(both, "alerts", ["D2"])] == [refused]
    assert [r.text for r in await dispatcher.command(both, "alerts", ["P"])] == [refused]
    # ...while the read-only views still reach every agency
    assert [r.text for r in await dispatcher.command(both, "late", ["D2"])] != [refused]
