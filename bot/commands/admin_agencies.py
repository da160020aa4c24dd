"""Admin chat commands for the agency tree: the tree itself, names, parents, alert
thresholds, minimum samples and how ZNS asks an agency's citizens (role admin).

Every change is written to the audit log with its before and after values. A threshold,
minimum sample or ZNS choice set to `-` falls back to the default (for ZNS: the parent
agency's choice). People, invites and the audit log live in `admin`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.commands.admin import admin_command
from bot.commands.admin_texts import admin_text
from bot.commands.base import AuditLog, Callback, Caller, Command, Dialog, Reply, UsageError
from bot.zns.templates import INVITE, RATING, ZnsTemplates
from storage.roles import AgencyRow, RoleStore

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


class AgencyCommands:
    """The agency tree: names, parents, thresholds, minimum samples, ZNS (role admin)."""

    def __init__(
        self,
        *,
        roles: RoleStore,
        audit: AuditLog,
        zns_templates: ZnsTemplates | None = None,
    ) -> None:
        self.roles = roles
        self.audit = audit
        self.zns_templates = zns_templates or ZnsTemplates({})  # ZALO_ZNS_TEMPLATES

    def commands(self) -> Sequence[Command]:
        return [
            admin_command("coquan", self.agencies, "h_agencies", ("agencies",)),
            admin_command("coquan_ten", self.rename, "h_rename", ("agency_rename",)),
            admin_command("coquan_cha", self.set_parent, "h_parent", ("agency_parent",)),
            admin_command("nguong", self.threshold, "h_threshold", ("threshold",)),
            admin_command("comau", self.min_sample, "h_min_sample", ("min_sample",)),
            admin_command("coquan_zns", self.zns_survey, "h_zns", ("agency_zns",)),
        ]

    def callbacks(self) -> Sequence[Callback]:
        return []

    def dialogs(self) -> Sequence[Dialog]:
        return []

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
