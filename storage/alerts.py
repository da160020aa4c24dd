"""Alerts to agency heads with their closed loop, and the agency facts alerts need.

Invites and the grants they make are `storage.invites`; who holds a role is `storage.roles`.

Alerts and the messages announcing them are written in one transaction (outbox). Times are
naive UTC. A head's `/mute` (table `alert_mutes`) holds non-urgent alert messages to their chat:
they are queued with a later `not_before`, so they arrive when the mute ends and are never lost;
complaint alerts (money asked, harassment) are never held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import (
    Agency,
    Alert,
    Answer,
    Case,
    CaseLink,
    Chat,
    Procedure,
    Survey,
)
from storage.mutes import held_for_mutes
from storage.outbox import OutboxIntent, enqueue

alerts_t = Alert.__table__  # type: ignore[attr-defined]
agencies_t = Agency.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]
links_t = CaseLink.__table__  # type: ignore[attr-defined]
# The case link of a survey's case held by the survey's own chat.
_HOLDER = links_t.alias("holder")
_HOLDS_SURVEY_CASE = and_(
    _HOLDER.c.case_code == surveys_t.c.case_code, _HOLDER.c.chat_id == surveys_t.c.chat_id
)


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    kind: str
    agency_code: str
    payload: dict[str, Any]
    complaint: bool
    survey_id: int | None
    created_at: datetime
    acknowledged_at: datetime | None
    handled_at: datetime | None
    escalated_at: datetime | None


_ALERT_COLUMNS = (
    alerts_t.c.id,
    alerts_t.c.kind,
    alerts_t.c.agency_code,
    alerts_t.c.payload,
    alerts_t.c.complaint,
    alerts_t.c.survey_id,
    alerts_t.c.created_at,
    alerts_t.c.acknowledged_at,
    alerts_t.c.handled_at,
    alerts_t.c.escalated_at,
)


def _alert(row: Any) -> AlertRow:
    return AlertRow(**{k: row._mapping[k] for k in AlertRow.__dataclass_fields__})


class AlertStore:
    """Alerts, their follow-ups and the agency facts they need; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)
        # Read on every completed survey (most find nothing to alert on): built once.
        self._survey_answers = (
            select(
                surveys_t.c.questionnaire_version,
                answers_t.c.question_code,
                answers_t.c.value_int,
                answers_t.c.value_text,
                answers_t.c.choices,
                answers_t.c.answered_at,
            )
            .join(surveys_t, surveys_t.c.id == answers_t.c.survey_id)
            .where(answers_t.c.survey_id == bindparam("survey_id"), answers_t.c.skipped.is_(False))
            .order_by(answers_t.c.id)
        )

    async def _scalar(self, statement: Any) -> Any:
        """The first column of the first row, or None."""
        with translate_errors():
            async with self.engine.connect() as conn:
                return (await conn.execute(statement)).scalar()

    # -- agencies ---------------------------------------------------------------------------

    async def agency_name(self, code: str) -> str | None:
        name = await self._scalar(select(agencies_t.c.name).where(agencies_t.c.code == code))
        return None if name is None else str(name)

    async def threshold(self, agency_code: str, default: float = 90.0) -> float:
        """The agency's SIPAS alert threshold (per cent), or the default."""
        value = await self._scalar(
            select(agencies_t.c.alert_threshold).where(agencies_t.c.code == agency_code)
        )
        return default if value is None else float(value)

    async def min_sample(self, agency_code: str, default: int = 30) -> int:
        """The answers an agency needs before its SIPAS is alerted on, or the default."""
        value = await self._scalar(
            select(agencies_t.c.min_sample).where(agencies_t.c.code == agency_code)
        )
        return default if value is None else int(value)

    async def parent_of(self, agency_code: str) -> str | None:
        parent = await self._scalar(
            select(agencies_t.c.parent_code).where(agencies_t.c.code == agency_code)
        )
        return None if parent is None else str(parent)

    # -- alerts -----------------------------------------------------------------------------

    async def raise_alert(
        self,
        *,
        kind: str,
        agency_code: str,
        dedupe_key: str,
        payload: dict[str, Any],
        complaint: bool,
        survey_id: int | None,
        now: datetime,
        intents_for: Callable[[int], Sequence[OutboxIntent]],
    ) -> int | None:
        """Store an alert once (by `dedupe_key`) and queue its messages; None if it existed."""
        stmt = (
            self._insert(alerts_t)
            .values(
                kind=kind,
                agency_code=agency_code,
                dedupe_key=dedupe_key,
                payload=payload,
                complaint=complaint,
                survey_id=survey_id,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(alerts_t.c.id)
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                alert_id = (await conn.execute(stmt)).scalar()
                if alert_id is None:
                    return None
                intents = await held_for_mutes(conn, intents_for(int(alert_id)), complaint, now)
                await enqueue(conn, intents, now=now)
        return int(alert_id)

    async def alert(self, alert_id: int) -> AlertRow | None:
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (
                    await conn.execute(select(*_ALERT_COLUMNS).where(alerts_t.c.id == alert_id))
                ).first()
        return None if row is None else _alert(row)

    async def acknowledge(self, alert_id: int, chat_id: int, *, now: datetime) -> bool:
        """Record the first acknowledgement; False if it was already acknowledged."""
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    update(alerts_t)
                    .where(alerts_t.c.id == alert_id, alerts_t.c.acknowledged_at.is_(None))
                    .values(acknowledged_at=now, acknowledged_by=chat_id)
                )
        return bool(result.rowcount)

    async def expect_note(self, chat_id: int, alert_id: int | None) -> None:
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(chats_t)
                    .where(chats_t.c.id == chat_id)
                    .values(pending_note_alert=alert_id)
                )

    async def pending_note(self, chat_id: int) -> int | None:
        value = await self._scalar(
            select(chats_t.c.pending_note_alert).where(chats_t.c.id == chat_id)
        )
        return None if value is None else int(value)

    async def handle(
        self,
        alert_id: int,
        chat_id: int,
        note: str,
        *,
        now: datetime,
        intents: Sequence[OutboxIntent],
    ) -> bool:
        """Mark handled with a note (acknowledging it too); False if it was handled already."""
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    update(alerts_t)
                    .where(alerts_t.c.id == alert_id, alerts_t.c.handled_at.is_(None))
                    .values(handled_at=now, handled_by=chat_id, note=note[:1000])
                )
                await conn.execute(
                    update(alerts_t)
                    .where(alerts_t.c.id == alert_id, alerts_t.c.acknowledged_at.is_(None))
                    .values(acknowledged_at=now, acknowledged_by=chat_id)
                )
                await conn.execute(
                    update(chats_t).where(chats_t.c.id == chat_id).values(pending_note_alert=None)
                )
                if result.rowcount:
                    await enqueue(conn, intents, now=now)
        return bool(result.rowcount)

    async def citizen_answer(self, alert_id: int, chat_id: int, satisfied: bool) -> bool:
        """The citizen's answer to the follow-up, once, only from the survey's own chat (and
        only while that chat still holds the case: not after a takeover by phone)."""
        survey_chat = (
            select(surveys_t.c.chat_id)
            .join(_HOLDER, _HOLDS_SURVEY_CASE)
            .where(surveys_t.c.id == alerts_t.c.survey_id)
        ).scalar_subquery()
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    update(alerts_t)
                    .where(
                        alerts_t.c.id == alert_id,
                        alerts_t.c.handled_at.is_not(None),
                        alerts_t.c.citizen_satisfied.is_(None),
                        survey_chat == chat_id,
                    )
                    .values(citizen_satisfied=satisfied)
                )
        return bool(result.rowcount)

    async def survey_chat(self, survey_id: int) -> int | None:
        """The chat that answered the survey, if it still holds the case (a chat displaced by
        a takeover gets nothing more about it)."""
        chat = await self._scalar(
            select(surveys_t.c.chat_id)
            .join(_HOLDER, _HOLDS_SURVEY_CASE)
            .where(surveys_t.c.id == survey_id)
        )
        return None if chat is None else int(chat)

    async def unacknowledged(self, *, created_before: datetime) -> list[AlertRow]:
        stmt = select(*_ALERT_COLUMNS).where(
            and_(
                alerts_t.c.acknowledged_at.is_(None),
                alerts_t.c.escalated_at.is_(None),
                alerts_t.c.created_at <= created_before,
            )
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [_alert(r) for r in (await conn.execute(stmt)).all()]

    async def escalate(
        self,
        alert_id: int,
        *,
        now: datetime,
        intents: Sequence[OutboxIntent],
        complaint: bool = False,
    ) -> bool:
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    update(alerts_t)
                    .where(alerts_t.c.id == alert_id, alerts_t.c.escalated_at.is_(None))
                    .values(escalated_at=now)
                )
                if result.rowcount:
                    await enqueue(
                        conn, await held_for_mutes(conn, intents, complaint, now), now=now
                    )
        return bool(result.rowcount)

    async def survey_answers(self, survey_id: int) -> tuple[int | None, list[dict[str, Any]]]:
        """A survey's questionnaire version and its answers (skipped ones left out), in one
        statement; (None, []) for a survey without answers."""
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(self._survey_answers, {"survey_id": survey_id})).all()
        if not rows:
            return None, []
        answers = [dict(row._mapping) for row in rows]
        version = answers[0]["questionnaire_version"]
        for answer in answers:
            del answer["questionnaire_version"]
        return int(version), answers

    async def survey_case(self, survey_id: int) -> dict[str, Any]:
        """A survey's case facts (agency, procedure, officer — no identity)."""
        stmt = (
            select(
                cases_t.c.code.label("case_code"),
                cases_t.c.agency_code,
                cases_t.c.procedure_code,
                procedures_t.c.name.label("procedure_name"),
                cases_t.c.officer_name,
            )
            .join(surveys_t, surveys_t.c.case_code == cases_t.c.code)
            .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
            .where(surveys_t.c.id == survey_id)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                case = (await conn.execute(stmt)).one()
        return dict(case._mapping)

    async def late_cases(self, *, today: datetime, horizon: datetime) -> list[dict[str, Any]]:
        """Open cases due before `horizon` (overdue or due soon) and cases ended late with no
        new promised date (no apology), with what a head needs to see."""
        stmt = (
            select(
                cases_t.c.agency_code,
                cases_t.c.code.label("case_code"),
                procedures_t.c.name.label("procedure_name"),
                cases_t.c.due_at,
                cases_t.c.ended_at,
                cases_t.c.timeliness,
                cases_t.c.promised_new_at,
            )
            .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
            .where(
                or_(
                    and_(
                        cases_t.c.ended_at.is_(None),
                        cases_t.c.due_at.is_not(None),
                        cases_t.c.due_at < horizon,
                        cases_t.c.status.not_in([3, 7, 8]),
                    ),
                    and_(
                        cases_t.c.timeliness == "late",
                        cases_t.c.promised_new_at.is_(None),
                        cases_t.c.ended_at >= today - timedelta(days=30),
                    ),
                )
            )
            .order_by(cases_t.c.agency_code, cases_t.c.due_at)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]

    async def late_items_sent(self, agency_code: str, *, since: datetime) -> set[str]:
        """ "group:case" items already sent to an agency's heads in late-case alerts."""
        stmt = select(alerts_t.c.payload).where(
            alerts_t.c.kind == "late_cases",
            alerts_t.c.agency_code == agency_code,
            alerts_t.c.created_at >= since,
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                payloads = [r[0] for r in (await conn.execute(stmt)).all()]
        return {item for payload in payloads for item in payload.get("items", [])}

    async def open_alerts(self, agency_codes: Sequence[str]) -> list[AlertRow]:
        stmt = (
            select(*_ALERT_COLUMNS)
            .where(alerts_t.c.agency_code.in_(list(agency_codes)), alerts_t.c.handled_at.is_(None))
            .order_by(alerts_t.c.created_at)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [_alert(r) for r in (await conn.execute(stmt)).all()]
