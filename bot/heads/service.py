"""Agency heads: one-time role invites, alerts, the closed loop (acknowledge, handle with a
note, escalate, ask the citizen), and the late-case scan.

Alerts never carry the citizen's name, phone or chat: heads see the case code, procedure,
officer, the low ratings, the reasons and the comment.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from bot.clock import Clock
from bot.onestop.links import token_hash
from bot.scoring_setup import question_meta
from bot.survey.questionnaire import Questionnaire
from bot.survey.service import ChatRef, FormCache, text_intent
from bot.texts import LIKERT, VI
from scheduler.scoring_jobs import digest_figures, monthly_figures
from scheduler.workdays import WorkCalendar
from scoring.alerts import low_score_responses
from scoring.sipas import DEFAULT_RULE, IndexRule
from storage.alerts import AlertStore
from storage.chats import ChatStore
from storage.outbox import OutboxIntent, OutboxStore
from storage.surveys import SurveyStore

log = logging.getLogger(__name__)
INVITE_PREFIX = "i"
INVITE_TTL = timedelta(hours=72)
ESCALATE_AFTER_SECONDS = 8 * 3600
ROLES = ("head", "inspector", "admin")


def is_invite_payload(payload: str) -> bool:
    return payload.startswith(INVITE_PREFIX) and len(payload) == 1 + 22


def _vietnamese_lines(
    form: Questionnaire, low: list[list[Any]], picks: list[list[str]]
) -> dict[str, list[str]]:
    """A low-score alert's items and reasons as Vietnamese text (kept on the alert row)."""
    items = []
    for code, value in low:
        question = form.question(code)
        label = LIKERT[VI][value - 1] if 1 <= value <= 5 else str(value)
        items.append(f"{question.text_vi if question else code} → {label}")
    reasons = []
    for code, pick in picks:
        question = form.question(code)
        option = question.option(pick) if question else None
        reasons.append(option.text_vi if option else pick)
    return {"items": items, "reasons": reasons}


def _intent_payload(stored: dict[str, Any]) -> dict[str, Any]:
    """An alert row's payload as an outbox intent: codes and values, no rendered lines."""
    if "low" not in stored:
        return dict(stored)
    return {k: v for k, v in stored.items() if k not in ("items", "reasons")}


class AlertService:
    """Heads and their alerts; outgoing messages go through the outbox."""

    def __init__(
        self,
        *,
        store: AlertStore,
        surveys: SurveyStore,
        chats: ChatStore,
        outbox: OutboxStore,
        forms: FormCache,
        clock: Clock,
        calendar: WorkCalendar,
        inspectors: Iterable[tuple[str, str]] = (),
        rule: IndexRule = DEFAULT_RULE,
        wake: Any = None,
    ) -> None:
        self.store = store
        self.surveys = surveys
        self.chats = chats
        self.outbox = outbox
        self.forms = forms
        self.clock = clock
        self.calendar = calendar
        # Inspectors named in the environment: (channel, id on the channel).
        self.inspectors = frozenset(inspectors)
        self.rule = rule
        self.wake = wake or (lambda: None)
        # Working seconds before an unacknowledged alert goes to the parent agency's heads
        # (an admin may change it by chat: runtime settings).
        self.escalate_after_seconds: float = ESCALATE_AFTER_SECONDS

    # -- invites ----------------------------------------------------------------------------

    async def invite(self, role: str, agency_code: str | None) -> str:
        """Create a one-time invite and return its /start payload."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        token = secrets.token_urlsafe(17)[:22]
        now = self.clock.utcnow()
        await self.store.create_invite(
            role=role,
            agency_code=agency_code,
            token_hash=token_hash(token),
            now=now,
            expires_at=now + INVITE_TTL,
        )
        return INVITE_PREFIX + token

    async def redeem(self, chat_id: int, payload: str) -> None:
        found = await self.store.redeem(
            token_hash(payload[len(INVITE_PREFIX) :]), chat_id, now=self.clock.utcnow()
        )
        if found.refusal:
            await self._say(self._head_text(chat_id, found.refusal))
        else:
            agency = found.agency_name or found.agency_code or ""
            await self._say(self._head_text(chat_id, f"role_{found.role}", agency=agency))

    # -- alerts -----------------------------------------------------------------------------

    def _head_text(self, chat_id: int, key: str, **params: object) -> OutboxIntent:
        return OutboxIntent(
            chat_id=chat_id, kind="head_text", payload={"key": key, "params": params}
        )

    async def _say(self, *intents: OutboxIntent) -> None:
        await self.outbox.enqueue(list(intents), now=self.clock.utcnow())
        self.wake()

    async def on_survey_completed(self, survey_id: int) -> int | None:
        """Alert the agency's heads (and inspectors for complaints) about a low-score response."""
        case, answers = await self.store.survey_facts(survey_id)
        found = await self.surveys.survey(survey_id)
        if found is None or not answers:
            return None
        form = await self.forms.get(found[0].version)
        rows = []
        for answer in answers:
            question = form.question(answer["question_code"])
            rows.append(
                {
                    "survey_id": survey_id,
                    "case_code": case["case_code"],
                    "agency_code": case["agency_code"],
                    "procedure_code": case["procedure_code"],
                    "officer_name": case["officer_name"],
                    "question_code": answer["question_code"],
                    "factor": question.factor if question else None,
                    "topic": question.topic if question else "",
                    "value_int": answer["value_int"],
                    "value_text": answer["value_text"],
                    "choices": answer["choices"],
                    "answered_at": answer["answered_at"],
                }
            )
        frame = pd.DataFrame(rows)
        frame["factor"] = frame["factor"].astype("Int64")
        frame["value_int"] = frame["value_int"].astype("Int64")
        low = low_score_responses(frame)
        if low.empty:
            return None
        row = low.iloc[0]
        # Codes and values: each recipient reads them in their own language (the renderer
        # resolves them against the survey's questionnaire version).
        low = [[code, int(value)] for code, value in row["low_items"]]
        picks = [
            [code, str(pick)]
            for code, chosen in row["reasons"]
            for pick in ([chosen] if isinstance(chosen, str) else (chosen or ()))
        ]
        money = bool(row.get("money_asked", False))
        harass = bool(row.get("harassment", False))
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
            "comment": row.get("comment"),
            "money": money,
            "harass": harass,
        }
        heads = await self.store.role_chats("head", case["agency_code"])
        inspectors: list[int] = []
        if money or harass:
            inspectors = [
                *await self.store.role_chats("inspector"),
                *await self._env_inspector_chats(),
            ]
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
            # The stored alert also keeps the Vietnamese lines that `/alerts` shows.
            payload={**payload, **_vietnamese_lines(form, low, picks)},
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
            heads = await self.store.role_chats("head", agency_code)
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
            heads = await self.store.role_chats("head", parent) if parent else []
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

    async def send_digests(self, meta_min_sample: int = 30) -> int:
        """The 07:30 digest to every head, and a below-threshold alert where SIPAS is low."""
        today = self.clock.local_now().date()
        by_agency: dict[str, list[int]] = {}
        for chat_id, agency_code in await self.store.heads_with_agencies():
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
        today = self.clock.local_now().date()
        last_day = today.replace(day=1) - timedelta(days=1)
        first_day = last_day.replace(day=1)
        by_agency: dict[str, list[int]] = {}
        for chat_id, agency_code in await self.store.heads_with_agencies():
            by_agency.setdefault(agency_code, []).append(chat_id)
        if not by_agency:
            return 0
        meta = await question_meta(self.store.engine)
        month = await monthly_figures(self.store.engine, list(by_agency), first_day, last_day, meta)
        sent = 0
        for agency_code, heads in by_agency.items():
            figures = month.get(agency_code, {})
            payload = {
                "month": first_day.strftime("%m/%Y"),
                "agency": await self.store.agency_name(agency_code) or agency_code,
                **figures,
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

    # -- the closed loop ----------------------------------------------------------------------

    async def _may_act(self, chat_id: int, agency_code: str, complaint: bool) -> bool:
        """Heads of the agency or of any agency above it (they see it in /alerts), and for a
        complaint the inspectors."""
        code: str | None = agency_code
        seen: set[str] = set()
        while code is not None and code not in seen:
            if chat_id in await self.store.role_chats("head", code):
                return True
            seen.add(code)
            code = await self.store.parent_of(code)
        if not complaint:
            return False
        inspectors = await self.store.role_chats("inspector")
        return chat_id in inspectors or chat_id in await self._env_inspector_chats()

    async def _env_inspector_chats(self) -> list[int]:
        """The chats of the inspectors the environment names, on every channel."""
        by_channel: dict[str, list[str]] = {}
        for channel, external_id in sorted(self.inspectors):
            by_channel.setdefault(channel, []).append(external_id)
        found: list[int] = []
        for channel, ids in by_channel.items():
            found += await self.store.chats_of(channel, ids)
        return found

    async def on_alert_press(self, chat: ChatRef, alert_id: int, action: str) -> str:
        """A head pressed Đã tiếp nhận (a) or Đã xử lý (d); returns the notice key."""
        row = await self.chats.chat(
            channel=chat.channel,
            external_id=chat.external_id,
            language=chat.language,
            now=self.clock.utcnow(),
        )
        alert = await self.store.alert(alert_id)
        if alert is None or not await self._may_act(row.id, alert.agency_code, alert.complaint):
            return "not_yours"
        if alert.handled_at is not None:
            return "already_handled"
        if action == "a":
            acked = await self.store.acknowledge(alert_id, row.id, now=self.clock.utcnow())
            return "acked" if acked else "already_acked"
        await self.store.expect_note(row.id, alert_id)
        await self._say(self._head_text(row.id, "ask_note", id=alert_id))
        return "ask_note_sent"

    async def take_note(self, chat_id: int, text: str) -> bool:
        """If this chat owes a "handled" note, record it; True when the text was the note."""
        alert_id = await self.store.pending_note(chat_id)
        if alert_id is None:
            return False
        alert = await self.store.alert(alert_id)
        if alert is None:
            await self.store.expect_note(chat_id, None)
            return False
        intents = [self._head_text(chat_id, "handled", id=alert_id)]
        if alert.complaint and alert.survey_id is not None:
            citizen = await self.store.survey_chat(alert.survey_id)
            if citizen is not None:
                intents.append(
                    OutboxIntent(
                        chat_id=citizen,
                        kind="follow_up",
                        payload={"alert_id": alert_id, "code": alert.payload.get("code", "")},
                        not_before=None,
                        dedupe_key=f"follow_up:{alert_id}",
                    )
                )
        await self.store.handle(
            alert_id, chat_id, text.strip()[:1000], now=self.clock.utcnow(), intents=intents
        )
        self.wake()
        return True

    async def on_follow_up(self, chat: ChatRef, alert_id: int, satisfied: bool) -> str:
        row = await self.chats.chat(
            channel=chat.channel,
            external_id=chat.external_id,
            language=chat.language,
            now=self.clock.utcnow(),
        )
        if await self.store.citizen_answer(alert_id, row.id, satisfied):
            return "follow_up_thanks"
        return "already_answered"


__all__ = ["AlertService", "is_invite_payload", "text_intent"]
