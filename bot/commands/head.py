"""Agency heads' chat commands: `/report`, `/late`, `/alerts`, `/mute` (role "head").

A head sees the agencies they head and all their descendants (`Caller.scope`); nothing here
reads outside that set. `/report`, `/late` and `/alerts` also take an optional agency code
(for `/report`, an argument that is not a period, e.g. `/report 2026-10 000.00.01.H12`) to
narrow the view to that agency's subtree: inside the caller's scope it is honoured, outside it
is refused exactly like a missing role (`Refused("scope")`: nothing says whether the agency
exists). Admins may run these commands too (`access.allowed`) and see every agency; an admin
who heads nothing must name one. Inspectors get complaint alerts pushed to them and may read
`/report` and `/late` of every agency (`Caller.reads`); `/alerts` is a head's working list
with buttons that act, so it only ever shows agencies the caller heads (`Caller.sees`), also
for a head who is an inspector too.

`/mute <hours>` (1–72; `0` turns alerts back on) holds this chat's non-urgent alerts — low
scores without a complaint, late cases, SIPAS below threshold, their escalations — until the
mute ends; held alerts are queued for that moment, never dropped. Complaints of money asked or
harassment are never held. The morning digest and the monthly report are not alerts and still
arrive; escalation to the parent agency still counts from an alert's creation. Every change of
a mute is written to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.commands import report_period
from bot.commands.base import (
    AuditLog,
    Button,
    Callback,
    Caller,
    Command,
    Dialog,
    DialogStarter,
    Refused,
    Reply,
    UsageError,
)
from bot.commands.head_texts import HELP, head_text
from bot.conversation.views import Forms, ViewRenderer
from bot.heads.service import AlertService
from scoring.rules import DEFAULT_MIN_SAMPLE, IndexRule
from storage.mutes import MuteStore
from storage.roles import AgencyRow

MAX_MUTE_HOURS = 72
LATE_LINES = 30
ALERTS_SHOWN = 3  # oldest first; handled ones leave the list
DEFAULT_THRESHOLD = 90.0
_HOURS = re.compile(r"^(\d{1,4})\s*(h|giờ|gio|hours?)?$", re.IGNORECASE)
_UNMUTE = frozenset({"0", "off", "tat", "tắt", "on", "bat", "bật"})


class HeadCommands:
    """The commands a head runs for their agency and its children."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        alerts: AlertService,
        forms: Forms,
        audit: AuditLog,
        dialogs: DialogStarter,
        clock: Clock,
        rule: IndexRule,
    ) -> None:
        self._engine = engine
        self._alerts = alerts
        # Alerts read as the pushed ones do: rendered from their codes in the caller's language.
        self._views = ViewRenderer(forms, today=lambda: clock.local_now().date())
        self._audit = audit
        self._dialogs = dialogs
        self._clock = clock
        self._rule = rule
        self._mutes = MuteStore(engine)

    def commands(self) -> Sequence[Command]:
        return [
            Command("report", "reader", self.report, *HELP["report"], aliases=("baocao",)),
            Command("late", "reader", self.late, *HELP["late"], aliases=("trehan",)),
            Command("alerts", "head", self.open_alerts, *HELP["alerts"], aliases=("canhbao",)),
            Command("mute", "head", self.mute, *HELP["mute"], aliases=("tamhoan",)),
        ]

    def callbacks(self) -> Sequence[Callback]:
        return []  # the alert buttons keep their existing handler (k:<id>:a|d)

    def dialogs(self) -> Sequence[Dialog]:
        return []

    # -- scope ----------------------------------------------------------------------------------

    async def _scope(
        self, caller: Caller, code: str | None, command: str, *, read_only: bool = True
    ) -> tuple[list[str], str, list[AgencyRow]]:
        """The agencies this call may read (`read_only`: figures an inspector may read too;
        else what the caller heads), how to name them, and the roots of the view."""
        # Heads' reads and reports are imported when a head asks, not with the bot: they load
        # pandas.
        from storage import head_views

        rows = await head_views.agencies(self._engine)
        by_code = {row.code: row for row in rows}
        inspects = read_only and caller.inspector
        if code is not None:
            if not (caller.reads(code) if read_only else caller.sees(code)) or code not in by_code:
                raise Refused("scope")
            roots = [code]
        elif caller.head_of:
            roots = sorted(caller.head_of)
        else:
            raise UsageError(head_text(caller.language, "need_agency", command=command))
        members = head_views.subtree(rows, roots)
        if not (caller.admin or inspects):
            members &= set(caller.scope) | set(caller.head_of)
        name = ", ".join(by_code[r].name if r in by_code else r for r in roots)
        return sorted(members), name[:200], [by_code[r] for r in roots if r in by_code]

    @staticmethod
    def _split(caller: Caller, args: list[str], usage_key: str) -> tuple[str | None, str | None]:
        """(period-like argument, agency code) from the arguments, in any order."""
        word: str | None = None
        code: str | None = None
        for arg in args:
            # A visible agency's code wins; any other word without a digit is a period (a typo
            # gets the period hint, and nothing tells whether such an agency exists).
            period_like = report_period.is_period(arg) and not (caller.scope and caller.reads(arg))
            if period_like and word is None:
                word = arg
            elif not period_like and code is None:
                code = arg
            else:
                usage = head_text(caller.language, usage_key, max=MAX_MUTE_HOURS)
                raise UsageError(head_text(caller.language, "too_many_args", usage=usage))
        return word, code

    # -- /report --------------------------------------------------------------------------------

    async def report(self, caller: Caller, args: list[str]) -> Sequence[Reply]:
        """SIPAS and the other figures of a period for the caller's agencies, with a chart."""
        from bot.commands import head_report
        from storage import head_views

        lang = caller.language
        word, code = self._split(caller, args, "report_usage")
        try:
            when = report_period.parse_period(word, self._clock.local_now().date())
        except report_period.PeriodError as exc:
            raise UsageError(head_text(lang, exc.key, **exc.params)) from None
        members, name, roots = await self._scope(caller, code, "report")
        samples = [r.min_sample for r in roots if r.min_sample is not None]
        thresholds = [r.alert_threshold for r in roots if r.alert_threshold is not None]
        rows = await head_views.agencies(self._engine)
        figures = await head_report.gather(
            self._engine,
            scope=members,
            agency=name,
            names={row.code: row.name for row in rows},
            when=when,
            rule=self._rule,
            min_sample=max(samples) if samples else DEFAULT_MIN_SAMPLE,
            threshold=max(thresholds) if thresholds else DEFAULT_THRESHOLD,
            language=lang,
            to_utc=self._clock.to_utc,
        )
        replies = [Reply(head_report.report_text(figures, lang))]
        chart = head_report.report_chart(figures, lang)
        if chart is not None:
            caption = head_text(
                lang,
                "chart_caption",
                agency=name[:200],
                start=f"{when.start:%d/%m/%Y}",
                end=f"{when.end:%d/%m/%Y}",
            )
            replies.append(Reply(caption[:1024], photo=chart))
        return replies

    # -- /late ----------------------------------------------------------------------------------

    async def late(self, caller: Caller, args: list[str]) -> Reply:
        """Open cases overdue or due within one working day, oldest promised date first."""
        from storage import head_views

        lang = caller.language
        word, code = self._split(caller, args, "report_usage")
        if word is not None:
            code = code or word  # /late takes no period: a lone argument can only be an agency
        members, name, _ = await self._scope(caller, code, "late")
        today = self._clock.local_now().date()
        horizon = datetime.combine(
            self._alerts.calendar.next_working_day(today) + timedelta(days=1), datetime.min.time()
        )
        cases, total = await head_views.late_cases(
            self._engine, members, horizon=horizon, limit=LATE_LINES
        )
        if not cases:
            return Reply(head_text(lang, "late_none"))
        lines = [head_text(lang, "late_title", agency=name)]
        for case in cases:
            key = "late_overdue" if case.due_at.date() < today else "late_soon"
            lines.append(
                head_text(
                    lang,
                    key,
                    code=case.code,
                    procedure=case.procedure[:80],
                    due=f"{case.due_at:%d/%m/%Y}",
                )
            )
        if total > len(cases):
            lines.append(head_text(lang, "late_more", count=total - len(cases)))
        return Reply("\n".join(lines)[:4000])

    # -- /alerts --------------------------------------------------------------------------------

    async def open_alerts(self, caller: Caller, args: list[str]) -> Sequence[Reply]:
        """The open alerts of the caller's agencies, oldest first, each with its buttons."""
        from storage import head_views

        lang = caller.language
        word, code = self._split(caller, args, "report_usage")
        members, _, _ = await self._scope(caller, code or word, "alerts", read_only=False)
        found, total = await head_views.open_alerts(self._engine, members, limit=ALERTS_SHOWN)
        if not found:
            return [Reply(head_text(lang, "alerts_none"))]
        replies = []
        for alert_id, payload, _complaint in found:
            view = await self._views.render("alert", {**payload, "alert_id": alert_id}, lang)
            buttons = [[Button(c.label, c.action) for c in row] for row in view.choices]
            replies.append(Reply(view.text, buttons=buttons))
        # Few messages per command (a chat takes about one a second): the count heads the
        # first, the rest are one /alerts away once these are handled.
        first, last = replies[0], replies[-1]
        first.text = head_text(lang, "alerts_title", count=total) + "\n\n" + first.text
        if total > len(found):
            last.text += "\n\n" + head_text(lang, "alerts_more", count=total - len(found))
        return replies

    # -- /mute ----------------------------------------------------------------------------------

    def _local(self, utc: datetime) -> str:
        return utc.replace(tzinfo=UTC).astimezone(self._clock.tz).strftime("%H:%M %d/%m/%Y")

    async def mute(self, caller: Caller, args: list[str]) -> Reply:
        """Hold non-urgent alerts for some hours (complaints always arrive); 0 lifts it."""
        lang = caller.language
        now = self._clock.utcnow()
        if not args:
            until = await self._mutes.muted_until(caller.chat_id, now=now)
            usage = head_text(lang, "mute_usage", max=MAX_MUTE_HOURS)
            if until is None:
                return Reply(usage)
            return Reply(head_text(lang, "mute_status", until=self._local(until)) + "\n" + usage)
        raw = " ".join(args).strip()
        if raw.lower() in _UNMUTE:
            before = await self._mutes.unmute(caller.chat_id, now=now)
            if before is None:
                return Reply(head_text(lang, "mute_not_on"))
            await self._audit.record(
                actor=caller,
                action="alerts.unmute",
                target=f"chat:{caller.chat_id}",
                before=before.isoformat(),
                after=None,
            )
            return Reply(head_text(lang, "mute_off"))
        match = _HOURS.match(raw)
        hours = int(match.group(1)) if match else 0
        if not 1 <= hours <= MAX_MUTE_HOURS:
            raise UsageError(head_text(lang, "mute_bad", arg=raw[:20], max=MAX_MUTE_HOURS))
        until = now + timedelta(hours=hours)
        before = await self._mutes.mute(caller.chat_id, until=until, now=now)
        await self._audit.record(
            actor=caller,
            action="alerts.mute",
            target=f"chat:{caller.chat_id}",
            before=None if before is None else before.isoformat(),
            after=until.isoformat(),
        )
        return Reply(head_text(lang, "mute_set", until=self._local(until)))


__all__ = ["MAX_MUTE_HOURS", "HeadCommands"]
