"""Alerts to agency heads: raised on a low-score survey, on late cases, and passed up the
agency tree when nobody acknowledges them in time.

Alerts never carry the citizen's name, phone or chat: heads see the case code, procedure,
officer, the low ratings, the reasons and the comment. An alert stores codes and values (the
question codes and levels, the picked reasons); every message about it, `/alerts` included, is
rendered in the reader's language. Invites are `bot.heads.invites`, the presses and notes
`bot.heads.loop`, the scheduled digests and reports `bot.heads.reports`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.heads.recipients import Recipients
from bot.survey.forms import FormCache
from scheduler.workdays import WorkCalendar
from storage.alerts import AlertStore
from storage.outbox import OutboxIntent

log = logging.getLogger(__name__)
ESCALATE_AFTER_SECONDS = 8 * 3600


def _intent_payload(stored: dict[str, Any]) -> dict[str, Any]:
    """An alert row's payload as an outbox intent: codes and values, no rendered lines
    (rows stored before codes were kept only have their Vietnamese lines: kept as they are)."""
    if "low" not in stored:
        return dict(stored)
    return {k: v for k, v in stored.items() if k not in ("items", "reasons")}


class AlertService:
    """Raises heads' alerts and escalates them; the messages go through the outbox."""

    def __init__(
        self,
        *,
        store: AlertStore,
        recipients: Recipients,
        forms: FormCache,
        clock: Clock,
        calendar: WorkCalendar,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.recipients = recipients
        self.forms = forms
        self.clock = clock
        self.calendar = calendar
        self.wake = wake
        # Working seconds before an unacknowledged alert goes to the parent agency's heads
        # (an admin may change it by chat: runtime settings).
        self.escalate_after_seconds: float = ESCALATE_AFTER_SECONDS

    async def on_survey_completed(self, survey_id: int) -> int | None:
        """Alert the agency's heads (and inspectors for complaints) about a low-score response."""
        # Most responses are not low: the answers alone tell, in one read.
        version, answers = await self.store.survey_answers(survey_id)
        if version is None:
            return None
        form = await self.forms.get(version)
        # Imported on a completed survey, not with the bot: scoring.alerts loads pandas.
        from scoring.alerts import low_score_response

        row = low_score_response(
            {
                **answer,
                "survey_id": survey_id,
                "topic": q.topic if (q := form.question(answer["question_code"])) else "",
            }
            for answer in answers
        )
        if row is None:
            return None
        case = await self.store.survey_case(survey_id)
        # Codes and values: each recipient reads them in their own language (the renderer
        # resolves them against the survey's questionnaire version).
        low = [[code, int(value)] for code, value in row["low_items"]]
        picks = [[code, pick] for code, pick in row["reasons"]]
        money, harass = row["money_asked"], row["harassment"]
        agency_name = await self.store.agency_name(case["agency_code"]) or case["agency_code"]
        payload = {
            "kind": "low_score",
            "agency": agency_name,
            "code": case["case_code"],
            "procedure": case["procedure_name"],
            "officer": case["officer_name"],
            "version": form.version,
            "low": low,
            "reason_picks": picks,
            "comment": row["comment"],
            "money": money,
            "harass": harass,
        }
        heads = await self.recipients.heads(case["agency_code"])
        inspectors = await self.recipients.inspector_chats() if money or harass else []
        recipients = list(dict.fromkeys([*heads, *inspectors]))

        def intents(alert_id: int) -> list[OutboxIntent]:
            return [
                OutboxIntent(
                    chat_id=chat,
                    kind="alert",
                    payload={**payload, "alert_id": alert_id},
                    dedupe_key=f"alert:{alert_id}:{chat}",
                )
                for chat in recipients
            ]

        alert_id = await self.store.raise_alert(
            kind="low_score",
            agency_code=case["agency_code"],
            dedupe_key=f"low_score:{survey_id}",
            payload=payload,
            complaint=money or harass,
            survey_id=survey_id,
            now=self.clock.utcnow(),
            intents_for=intents,
        )
        if alert_id is not None:
            log.info("low-score alert", extra={"alert_id": alert_id, "heads": len(recipients)})
            self.wake()
        return alert_id

    async def scan_late_cases(self) -> int:
        """One message per agency listing cases newly overdue, due soon or late without apology."""
        local = self.clock.local_now()
        today = local.replace(hour=0, minute=0, second=0, microsecond=0)
        horizon = datetime.combine(
            self.calendar.next_working_day(today.date()), datetime.min.time()
        )
        horizon += timedelta(days=1)
        rows = await self.store.late_cases(today=today, horizon=horizon)
        by_agency: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for row in rows:
            if row["ended_at"] is not None:
                group = "late_no_apology"
            elif row["due_at"] < today:
                group = "overdue"
            else:
                group = "due_soon"
            by_agency.setdefault(row["agency_code"], {}).setdefault(group, []).append(row)
        sent = 0
        since = self.clock.utcnow() - timedelta(days=30)
        for agency_code, groups in by_agency.items():
            heads = await self.recipients.heads(agency_code)
            if not heads:
                continue
            already = await self.store.late_items_sent(agency_code, since=since)
            fresh = {
                group: [r for r in items if f"{group}:{r['case_code']}" not in already]
                for group, items in groups.items()
            }
            fresh = {group: items for group, items in fresh.items() if items}
            if not fresh:
                continue
            item_keys = sorted(f"{g}:{r['case_code']}" for g, items in fresh.items() for r in items)
            payload = {
                "kind": "late_cases",
                "agency": await self.store.agency_name(agency_code) or agency_code,
                "items": item_keys,
                "groups": {
                    group: [
                        {
                            "code": r["case_code"],
                            "procedure": r["procedure_name"],
                            "due": r["due_at"].strftime("%d/%m/%Y") if r["due_at"] else "",
                        }
                        for r in items
                    ]
                    for group, items in fresh.items()
                },
            }
            key = (
                "late:"
                + agency_code
                + ":"
                + hashlib.sha256("|".join(item_keys).encode()).hexdigest()[:32]
            )

            def intents(
                alert_id: int, heads: list[int] = heads, payload: dict[str, Any] = payload
            ) -> list[OutboxIntent]:
                return [
                    OutboxIntent(
                        chat_id=chat, kind="alert", payload={**payload, "alert_id": alert_id}
                    )
                    for chat in heads
                ]

            if await self.store.raise_alert(
                kind="late_cases",
                agency_code=agency_code,
                dedupe_key=key,
                payload=payload,
                complaint=False,
                survey_id=None,
                now=self.clock.utcnow(),
                intents_for=intents,
            ):
                sent += 1
        log.info("late-case scan", extra={"agencies": sent})
        if sent:
            self.wake()
        return sent

    async def escalate_overdue(self) -> int:
        """Pass alerts unacknowledged after 8 working hours to the parent agency's heads."""
        now_local = self.clock.local_now()
        escalated = 0
        for alert in await self.store.unacknowledged(
            created_before=self.clock.utcnow() - timedelta(seconds=self.escalate_after_seconds)
        ):
            created_local = self.clock.local_now() - (self.clock.utcnow() - alert.created_at)
            worked = self.calendar.working_seconds(created_local, now_local)
            if worked < self.escalate_after_seconds:
                continue
            parent = await self.store.parent_of(alert.agency_code)
            heads = await self.recipients.heads(parent) if parent else []
            intents = [
                OutboxIntent(
                    chat_id=chat,
                    kind="alert",
                    payload={
                        **_intent_payload(alert.payload),
                        "alert_id": alert.id,
                        "escalated": True,
                    },
                    dedupe_key=f"escalate:{alert.id}:{chat}",
                )
                for chat in heads
            ]
            if await self.store.escalate(
                alert.id, now=self.clock.utcnow(), intents=intents, complaint=alert.complaint
            ):
                escalated += 1
        if escalated:
            self.wake()
        return escalated


__all__ = ["AlertService"]
