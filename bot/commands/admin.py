"""Admin chat commands: invites, people and revocation, the audit log.

Every change is written to the audit log with its before and after values; nothing here
edits or deletes the log. The agency tree (names, parents, thresholds, minimum samples, how
ZNS asks its citizens) lives in `admin_agencies`, questionnaire commands in
`questionnaire_admin`, settings in `admin_settings`. Command names are ASCII (Telegram's rule)
with English aliases; `admin_command` builds one with its help lines.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC
from typing import Any

from bot.channels.links import CHANNEL_TITLES, ChannelLinks
from bot.clock import Clock
from bot.commands.admin_texts import admin_text
from bot.commands.base import (
    AuditLog,
    Callback,
    Caller,
    Command,
    Dialog,
    Reply,
    UsageError,
)
from bot.heads.invites import RoleInvites
from storage.audit import AuditRow, AuditStore
from storage.invites import UnknownAgency
from storage.roles import GrantRow, RoleStore

ROLE_NAMES = ("head", "inspector", "admin")
REFUSALS = ("tuchoi", "refused", "refusals")


def _vi_en(key: str) -> tuple[str, str]:
    return admin_text("vi", key), admin_text("en", key)


def admin_command(name: str, run: Any, key: str, aliases: tuple[str, ...] = ()) -> Command:
    """An admin-only command whose help lines are the `admin.<key>` texts."""
    vi, en = _vi_en(key)
    return Command(name, "admin", run, vi, en, aliases)


def _short(value: Any, limit: int = 160) -> str:
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _person(grant: GrantRow) -> str:
    who = f"tg:{grant.external_id}"
    return f"{grant.display_name} ({who})" if grant.display_name else who


def _external(text: str) -> str:
    """A person's id as typed: `12345` or `tg:12345`."""
    value = text.strip()
    return value[3:] if value.lower().startswith("tg:") else value


class AdminCommands:
    """People, invites and the audit log (role admin)."""

    def __init__(
        self,
        *,
        roles: RoleStore,
        audit_store: AuditStore,
        audit: AuditLog,
        invites: RoleInvites,
        clock: Clock,
        links: ChannelLinks,
        env_role: Callable[[str, str, str], bool],
        on_roles_changed: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.roles = roles
        self.audit_store = audit_store
        self.audit = audit
        self.invites = invites
        self.clock = clock
        self.links = links  # the deep links an invitation is opened with, by channel
        self.env_role = env_role  # (role, channel, external id) → granted by the environment
        self.on_roles_changed = on_roles_changed

    def commands(self) -> Sequence[Command]:
        return [
            admin_command("invite", self.invite, "h_invite", ("moi",)),
            admin_command("nguoi", self.people, "h_people", ("people",)),
            admin_command("thuhoi", self.revoke, "h_revoke", ("revoke",)),
            admin_command("audit", self.audit_log, "h_audit", ("nhatky",)),
        ]

    def callbacks(self) -> Sequence[Callback]:
        return []

    def dialogs(self) -> Sequence[Dialog]:
        return []

    # -- invites and people ----------------------------------------------------------------

    async def invite(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        role = args[0].lower() if args else ""
        if role not in ROLE_NAMES or (role == "head") != (len(args) == 2) or len(args) > 2:
            raise UsageError(admin_text(lang, "invite_usage"))
        agency = args[1] if role == "head" else None
        try:
            payload = await self.invites.invite(role, agency)
        except UnknownAgency:
            raise UsageError(admin_text(lang, "invite_unknown_agency", code=agency)) from None
        # One link per channel that has deep links (the bare code, what `/start` takes, when
        # none has).
        drafts = self.links.drafts(payload)
        name = await self.roles.agency(agency) if agency else None
        await self.audit.record(
            actor=caller,
            action="invite",
            target=f"{role}:{agency}" if agency else role,
            after={"role": role, "agency": agency, "valid_hours": 72},
        )
        who = admin_text(lang, f"role_{role}", agency=name.name if name else agency)
        parts: list[str] = []
        if drafts or not self.links.typed:
            link = "\n".join(d.url for d in drafts) or payload
            text = admin_text(lang, "invite_link", role=who, link=link)
            if not all(d.ready for d in drafts):
                text += admin_text(lang, "invite_no_username")
            parts.append(text)
        if self.links.typed:
            where = " / ".join(CHANNEL_TITLES[name] for name in self.links.typed)
            parts.append(admin_text(lang, "invite_code", role=who, channels=where, code=payload))
        return Reply("\n\n".join(parts))

    async def people(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        grants = await self.roles.live_grants()
        names = {a.code: a.name for a in await self.roles.agencies()}
        none = admin_text(lang, "people_none")
        lines = [admin_text(lang, "people_title"), "", admin_text(lang, "people_admins")]
        admins = [f"  {_person(g)}" for g in grants if g.role == "admin"]
        lines += admins or [f"  {none}"]
        lines += ["", admin_text(lang, "people_inspectors")]
        inspectors = [f"  {_person(g)}" for g in grants if g.role == "inspector"]
        lines += inspectors or [f"  {none}"]
        lines += ["", admin_text(lang, "people_heads")]
        heads: dict[str, list[str]] = {}
        for g in grants:
            if g.role == "head":
                heads.setdefault(g.agency_code, []).append(_person(g))
        for code in sorted(heads):
            lines.append(f"  {code} — {names.get(code, code)}: {', '.join(heads[code])}")
        if not heads:
            lines.append(f"  {none}")
        return Reply("\n".join(lines))

    async def revoke(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        role = args[0].lower() if args else ""
        wanted = 3 if role == "head" else 2
        if role not in ROLE_NAMES or len(args) != wanted:
            raise UsageError(admin_text(lang, "revoke_usage"))
        agency = args[1] if role == "head" else ""
        external = _external(args[-1])
        if self.env_role(role, caller.channel, external):
            raise UsageError(admin_text(lang, "revoke_env"))
        chat_id = await self.roles.chat_id(caller.channel, external)
        if chat_id is None or not await self.roles.revoke(
            chat_id, role, agency, now=self.clock.utcnow()
        ):
            raise UsageError(admin_text(lang, "revoke_none"))
        who = f"tg:{external}"
        await self.audit.record(
            actor=caller,
            action="revoke",
            target=f"{role}:{agency}@{who}" if agency else f"{role}@{who}",
            before={"role": role, "agency": agency or None, "chat": who},
            after=None,
        )
        if self.on_roles_changed is not None:
            await self.on_roles_changed(chat_id)
        label = admin_text(lang, f"role_{role}", agency=agency)
        return Reply(admin_text(lang, "revoked", role=label, who=who))

    # -- the audit log ---------------------------------------------------------------------

    async def audit_log(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        refusals = bool(args) and args[0].lower() in REFUSALS
        if args and not refusals:
            raise UsageError(admin_text(lang, "audit_usage"))
        if refusals:
            rows = await self.audit_store.last(20, actions=["refused"])
        else:
            rows = await self.audit_store.last(20, exclude=["refused"])
        if not rows:
            return Reply(admin_text(lang, "audit_none"))
        title = "audit_refusals_title" if refusals else "audit_title"
        return Reply("\n".join([admin_text(lang, title), *(self._line(lang, r) for r in rows)]))

    def _line(self, lang: str, row: AuditRow) -> str:
        local = row.at.replace(tzinfo=UTC).astimezone(self.clock.tz)
        return admin_text(
            lang,
            "audit_line",
            at=local.strftime("%d/%m/%Y %H:%M"),
            who=row.actor_label,
            action=row.action,
            target=row.target,
            before=_short(row.before),
            after=_short(row.after),
        )
