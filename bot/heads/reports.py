"""What heads receive on a schedule: the 07:30 digest (with an alert where SIPAS is below the
agency's threshold) and, on the 1st, last month's report.

The monthly payload also carries, for the agency's subtree, the surveys invited and completed
per channel (`channels`: `[{"channel", "invited", "completed"}]`, channels with invitations,
in `storage.channel_report.CHANNELS` order) and the month's paid messages (`zns_messages`,
`oa_billable`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from bot.clock import Clock
from bot.scoring_setup import question_meta
from scoring.rules import DEFAULT_RULE, IndexRule
from storage import channel_report
from storage.alerts import AlertStore
from storage.outbox import OutboxIntent, OutboxStore
from storage.roles import RoleStore


class HeadReports:
    """Digests and monthly reports for every head's agency, queued in the outbox."""

    def __init__(
        self,
        *,
        store: AlertStore,
        roles: RoleStore,
        outbox: OutboxStore,
        clock: Clock,
        rule: IndexRule = DEFAULT_RULE,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.roles = roles
        self.outbox = outbox
        self.clock = clock
        self.rule = rule
        self.wake = wake

    async def send_digests(self, meta_min_sample: int = 30) -> int:
        """The 07:30 digest to every head, and a below-threshold alert where SIPAS is low."""
        # Scoring is imported when a report is made, not with the bot: it loads pandas.
        from scheduler.scoring_jobs import digest_figures

        today = self.clock.local_now().date()
        by_agency: dict[str, list[int]] = {}
        for chat_id, agency_code in await self.roles.heads_with_agencies():
            by_agency.setdefault(agency_code, []).append(chat_id)
        sent = 0
        for agency_code, heads in by_agency.items():
            # An admin may set the agency's own minimum sample by chat (/comau).
            min_sample = await self.store.min_sample(agency_code, meta_min_sample)
            figures = await digest_figures(
                self.store.engine, [agency_code], today, min_sample=min_sample, rule=self.rule
            )
            name = await self.store.agency_name(agency_code) or agency_code
            payload = {**figures, "agency": name}
            await self.outbox.enqueue(
                [
                    OutboxIntent(
                        chat_id=chat,
                        kind="digest",
                        payload=payload,
                        dedupe_key=f"digest:{chat}:{agency_code}:{today.isoformat()}",
                    )
                    for chat in heads
                ],
                now=self.clock.utcnow(),
            )
            sent += len(heads)
            threshold = await self.store.threshold(agency_code)
            sipas, n = figures["sipas_mtd"], int(figures["n_mtd"])  # type: ignore[call-overload]
            if sipas is not None and n >= min_sample and float(sipas) < threshold:  # type: ignore[arg-type]
                alert = {
                    "kind": "below_threshold",
                    "agency": name,
                    "sipas": sipas,
                    "threshold": threshold,
                    "n": n,
                }

                def intents(
                    alert_id: int, heads: list[int] = heads, alert: dict[str, Any] = alert
                ) -> list[OutboxIntent]:
                    return [
                        OutboxIntent(
                            chat_id=chat, kind="alert", payload={**alert, "alert_id": alert_id}
                        )
                        for chat in heads
                    ]

                await self.store.raise_alert(
                    kind="below_threshold",
                    agency_code=agency_code,
                    dedupe_key=f"below:{agency_code}:{today.isoformat()}",
                    payload=alert,
                    complaint=False,
                    survey_id=None,
                    now=self.clock.utcnow(),
                    intents_for=intents,
                )
        if sent:
            self.wake()
        return sent

    async def send_monthly_reports(self) -> int:
        """On the 1st: last month's figures for every head's agency (its subtree included)."""
        from scheduler.scoring_jobs import monthly_figures

        today = self.clock.local_now().date()
        last_day = today.replace(day=1) - timedelta(days=1)
        first_day = last_day.replace(day=1)
        by_agency: dict[str, list[int]] = {}
        for chat_id, agency_code in await self.roles.heads_with_agencies():
            by_agency.setdefault(agency_code, []).append(chat_id)
        if not by_agency:
            return 0
        meta = await question_meta(self.store.engine)
        month = await monthly_figures(self.store.engine, list(by_agency), first_day, last_day, meta)
        by_channel = await self._channel_figures(list(by_agency), first_day, last_day)
        sent = 0
        for agency_code, heads in by_agency.items():
            figures = month.get(agency_code, {})
            payload = {
                "month": first_day.strftime("%m/%Y"),
                "agency": await self.store.agency_name(agency_code) or agency_code,
                **figures,
                **by_channel[agency_code],
            }
            sent += await self.outbox.enqueue(
                [
                    OutboxIntent(
                        chat_id=chat,
                        kind="monthly",
                        payload=payload,
                        dedupe_key=f"monthly:{chat}:{agency_code}:{first_day:%Y-%m}",
                    )
                    for chat in heads
                ],
                now=self.clock.utcnow(),
            )
        if sent:
            self.wake()
        return sent

    async def _channel_figures(
        self, roots: Sequence[str], first_day: date, last_day: date
    ) -> dict[str, dict[str, Any]]:
        """Per agency of `roots`, its subtree rolled up: invitations and responses per channel
        in [first_day, last_day] and the paid messages of that month (one read of each)."""
        from storage import head_views  # these storage reads load pandas too
        from storage.scores import day_bounds

        engine = self.store.engine
        tree = await head_views.agencies(engine)
        members = {root: head_views.subtree(tree, [root]) for root in roots}
        every = sorted(set().union(*members.values()))
        low, high = (self.clock.to_utc(bound) for bound in day_bounds(first_day, last_day))
        responses = await channel_report.responses_by_agency(
            engine, low=low, high=high, agency_codes=every
        )
        month = f"{first_day:%Y-%m}"
        paid = await channel_report.paid_messages(
            engine, first_month=month, last_month=month, agency_codes=every
        )
        figures: dict[str, dict[str, Any]] = {}
        for root, codes in members.items():
            channels: dict[str, tuple[int, int]] = {}
            for r in responses:
                if r.agency_code in codes:
                    invited, completed = channels.get(r.channel, (0, 0))
                    channels[r.channel] = (invited + r.invited, completed + r.completed)
            figures[root] = {
                "channels": [
                    {"channel": channel, "invited": invited, "completed": completed}
                    for channel, (invited, completed) in sorted(
                        channels.items(), key=lambda item: channel_report.channel_order(item[0])
                    )
                ],
                "zns_messages": sum(p.zns for p in paid if p.agency_code in codes),
                "oa_billable": sum(p.zalo_oa for p in paid if p.agency_code in codes),
            }
        return figures


__all__ = ["HeadReports"]
