"""Admin chat commands: invites, people and revocation, the agency tree (names, parents,
thresholds, minimum samples, how ZNS asks its citizens), the audit log.

Every change is written to the audit log with its before and after values; nothing here
edits or deletes the log. Questionnaire commands live in `questionnaire_admin`, settings in
`admin_settings`. Command names are ASCII (Telegram's rule) with English aliases.
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
from bot.zns.templates import INVITE, RATING, ZnsTemplates
from storage.audit import AuditRow, AuditStore
from storage.invites import UnknownAgency
from storage.roles import AgencyRow, GrantRow, RoleStore

ROLE_NAMES = ("head", "inspector", "admin")
REFUSALS = ("tuchoi", "refused", "refusals")


def _vi_en(key: str) -> tuple[str, str]:
    return admin_text("vi", key), admin_text("en", key)


def _short(value: Any, limit: int = 160) -> str:
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# `/coquan_zns <MaCoQuan> <choice>`: what an admin types → `agencies.zns_survey` (None: the
# parent agency's choice).
ZNS_CHOICES: dict[str, str | None] = {
    "sao": RATING,
    "rating": RATING,
    "web": INVITE,
    "invite": INVITE,
    "-": None,
}


def _zns_choice(lang: str, value: str) -> str:
    return admin_text(lang, f"zns_{value}") if value in (RATING, INVITE) else value


def _person(grant: GrantRow) -> str:
    who = f"tg:{grant.external_id}"
    return f"{grant.display_name} ({who})" if grant.display_name else who


def _external(text: str) -> str:
    """A person's id as typed: `12345` or `tg:12345`."""
    value = text.strip()
    return value[3:] if value.lower().startswith("tg:") else value


class AdminCommands:
    """People, invites, agencies and the audit log (role admin)."""

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
        zns_templates: ZnsTemplates | None = None,
    ) -> None:
        self.roles = roles
        self.audit_store = audit_store
        self.audit = audit
        self.invites = invites
        self.clock = clock
        self.links = links  # the deep links an invitation is opened with, by channel
        self.env_role = env_role  # (role, channel, external id) → granted by the environment
        self.on_roles_changed = on_roles_changed
        self.zns_templates = zns_templates or ZnsTemplates({})  # ZALO_ZNS_TEMPLATES

    def commands(self) -> Sequence[Command]:
        def make(name: str, run: Any, key: str, aliases: tuple[str, ...] = ()) -> Command:
            vi, en = _vi_en(key)
            return Command(name, "admin", run, vi, en, aliases)

        return [
            make("invite", self.invite, "h_invite", ("moi",)),
            make("nguoi", self.people, "h_people", ("people",)),
            make("thuhoi", self.revoke, "h_revoke", ("revoke",)),
            make("coquan", self.agencies, "h_agencies", ("agencies",)),
            make("coquan_ten", self.rename, "h_rename", ("agency_rename",)),
            make("coquan_cha", self.set_parent, "h_parent", ("agency_parent",)),
            make("nguong", self.threshold, "h_threshold", ("threshold",)),
            make("comau", self.min_sample, "h_min_sample", ("min_sample",)),
            make("coquan_zns", self.zns_survey, "h_zns", ("agency_zns",)),
            make("audit", self.audit_log, "h_audit", ("nhatky",)),
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

    # -- agencies --------------------------------------------------------------------------

    async def agencies(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        rows = await self.roles.agencies()
        if not rows:
            return Reply(admin_text(lang, "agencies_none"))
        by_code = {a.code: a for a in rows}
        children: dict[str | None, list[AgencyRow]] = {}
        for a in rows:
            parent = a.parent_code if a.parent_code in by_code else None
            children.setdefault(parent, []).append(a)
        roots = children.get(None, [])
        if args:
            if args[0] not in by_code:
                raise UsageError(admin_text(lang, "agency_unknown", code=args[0]))
            roots = [by_code[args[0]]]
        lines = [admin_text(lang, "agencies_title")]
        default = admin_text(lang, "default")

        def walk(node: AgencyRow, depth: int, seen: set[str]) -> None:
            if node.code in seen:
                return
            seen.add(node.code)
            extra = ""
            if node.zns_survey is not None:
                extra += admin_text(lang, "agency_zns", zns=_zns_choice(lang, node.zns_survey))
            if node.alert_threshold is not None or node.min_sample is not None:
                extra += admin_text(
                    lang,
                    "agency_extra",
                    threshold=default
                    if node.alert_threshold is None
                    else f"{node.alert_threshold:g}",
                    sample=default if node.min_sample is None else node.min_sample,
                )
            lines.append(
                admin_text(
                    lang,
                    "agency_line",
                    indent="  " * depth,
                    code=node.code,
                    name=node.name,
                    extra=extra,
                )
            )
            for child in children.get(node.code, []):
                walk(child, depth + 1, seen)

        seen: set[str] = set()
        for root in roots:
            walk(root, 0, seen)
        return Reply("\n".join(lines))

    async def _agency(self, lang: str, code: str) -> AgencyRow:
        found = await self.roles.agency(code)
        if found is None:
            raise UsageError(admin_text(lang, "agency_unknown", code=code))
        return found

    async def rename(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        name = " ".join(args[1:]).strip()
        if len(args) < 2 or not name or len(name) > 500:
            raise UsageError(admin_text(lang, "rename_usage"))
        before = await self._agency(lang, args[0])
        await self.roles.update_agency(before.code, name=name)
        await self.audit.record(
            actor=caller, action="agency_rename", target=before.code, before=before.name, after=name
        )
        return Reply(admin_text(lang, "renamed", code=before.code, before=before.name, after=name))

    async def set_parent(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        if len(args) != 2:
            raise UsageError(admin_text(lang, "parent_usage"))
        before = await self._agency(lang, args[0])
        parent = None if args[1] in ("-", "0", "none") else args[1]
        outcome = await self.roles.set_parent(before.code, parent)
        if outcome == "unknown":
            raise UsageError(admin_text(lang, "agency_unknown", code=parent))
        if outcome == "cycle":
            raise UsageError(admin_text(lang, "parent_cycle", code=before.code, parent=parent))
        await self.audit.record(
            actor=caller,
            action="agency_parent",
            target=before.code,
            before=before.parent_code,
            after=parent,
        )
        none = admin_text(lang, "none")
        return Reply(
            admin_text(
                lang,
                "parent_set",
                code=before.code,
                before=before.parent_code or none,
                after=parent or none,
            )
        )

    async def threshold(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        if len(args) != 2:
            raise UsageError(admin_text(lang, "threshold_usage"))
        value: float | None = None
        if args[1] != "-":
            try:
                value = float(args[1].replace(",", ".").rstrip("%"))
            except ValueError:
                raise UsageError(admin_text(lang, "threshold_usage")) from None
            if not 0 <= value <= 100:
                raise UsageError(admin_text(lang, "threshold_usage"))
        return await self._set_agency_figure(
            caller,
            args[0],
            field="alert_threshold",
            action="agency_threshold",
            value=value,
            text_key="threshold_set",
            shown=lambda figure: f"{figure:g}%",
        )

    async def min_sample(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        if len(args) != 2:
            raise UsageError(admin_text(lang, "sample_usage"))
        value: int | None = None
        if args[1] != "-":
            if not (args[1].isascii() and args[1].isdigit()) or not 1 <= int(args[1]) <= 10000:
                raise UsageError(admin_text(lang, "sample_usage"))
            value = int(args[1])
        return await self._set_agency_figure(
            caller,
            args[0],
            field="min_sample",
            action="agency_min_sample",
            value=value,
            text_key="sample_set",
            shown=str,
        )

    async def zns_survey(self, caller: Caller, args: list[str]) -> Reply:
        """How ZNS asks the agency's citizens: stars (`sao`), the web survey (`web`) or the
        parent's way (`-`)."""
        lang = caller.language
        choice = ZNS_CHOICES.get(args[1].lower(), "") if len(args) == 2 else ""
        if choice == "":
            raise UsageError(admin_text(lang, "zns_usage"))
        reply = await self._set_agency_figure(
            caller,
            args[0],
            field="zns_survey",
            action="agency_zns_survey",
            value=choice,
            text_key="zns_set",
            shown=lambda value: _zns_choice(lang, value),
            default_key="zns_inherit",
        )
        if choice is not None and self.zns_templates.get(choice) is None:
            other = self.zns_templates.survey_purpose
            key = "zns_no_template" if other is not None else "zns_off"
            note = admin_text(lang, key, choice=_zns_choice(lang, choice))
            return Reply(f"{reply.text}\n{note}")
        return reply

    async def _set_agency_figure(
        self,
        caller: Caller,
        code: str,
        *,
        field: str,
        action: str,
        value: float | str | None,
        text_key: str,
        shown: Callable[[Any], str],
        default_key: str = "default",
    ) -> Reply:
        """Set an agency's threshold, minimum sample or ZNS survey choice (None: the
        default), audited."""
        lang = caller.language
        before = await self._agency(lang, code)
        previous = getattr(before, field)
        await self.roles.update_agency(before.code, **{field: value})
        await self.audit.record(
            actor=caller, action=action, target=before.code, before=previous, after=value
        )
        default = admin_text(lang, default_key)
        return Reply(
            admin_text(
                lang,
                text_key,
                code=before.code,
                before=default if previous is None else shown(previous),
                after=default if value is None else shown(value),
            )
        )

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
