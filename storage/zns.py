"""Queries of the ZNS route: which cases go by ZNS, their surveys and messages, what a template
says of a case, how each agency wants ZNS to ask (the notices' cursor: `storage.zns_notices`).

A case reached by ZNS has one chat row of its own on the ZNS channel (`channel`, external id
`prefix + case code`, given by the caller): it never holds the phone, which stays sealed in
`case_contacts.phone_sealed`. A ZNS chat marked blocked is never written to again (the phone
has no Zalo account, or is not a valid number). Every change that sends something enqueues
its outbox rows in the same transaction. Times are naive UTC.

A case "can be reached by ZNS" when it has a sealed phone and no chat that can take it: no
linked chat, or a linked chat that blocked us (one that opted out with `/stop` gets nothing,
by ZNS neither).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import (
    Agency,
    Case,
    CaseContact,
    CaseEvent,
    CaseLink,
    Chat,
    Cursor,
    Procedure,
    Survey,
)
from storage.outbox import OutboxIntent, enqueue
from storage.surveys import OPEN_SURVEY

cases_t = Case.__table__  # type: ignore[attr-defined]
contacts_t = CaseContact.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]
links_t = CaseLink.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]
events_t = CaseEvent.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]
agencies_t = Agency.__table__  # type: ignore[attr-defined]
cursors_t = Cursor.__table__  # type: ignore[attr-defined]

# `TrangThaiHoSo` values after which no notice is sent about the case (domain.md §2).
ENDED_STATUSES = (3, 7, 8, 10)
EXTERNAL_ID_LIMIT = 64  # chats.external_id
DUE_BATCH = 500


@dataclass(frozen=True, slots=True)
class ZnsCase:
    """What a ZNS template says about a case (nothing about the applicant)."""

    code: str
    agency_code: str
    procedure_name: str
    agency_name: str
    returned_at: datetime | None
    end_event_at: datetime | None
    finished_at: datetime | None
    link_key_id: str | None = None  # the key of the case's web link (None: the current one)


@dataclass(frozen=True, slots=True)
class DueCase:
    """A case due for a ZNS survey, and its agency (which decides how it is asked)."""

    code: str
    agency_code: str


@dataclass(frozen=True, slots=True)
class AgencyChoice:
    """An agency's place in the tree and how it wants ZNS to ask its citizens."""

    code: str
    parent_code: str | None
    zns_survey: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseIntent:
    """A message to a case's ZNS chat (created when needed)."""

    case_code: str
    kind: str
    payload: dict[str, Any]
    not_before: datetime | None = None
    dedupe_key: str | None = None
    survey_id: int | None = None

    def to(self, chat_id: int) -> OutboxIntent:
        return OutboxIntent(
            chat_id=chat_id,
            kind=self.kind,
            payload=self.payload,
            not_before=self.not_before,
            dedupe_key=self.dedupe_key,
            survey_id=self.survey_id,
        )


_CASE_FACTS = (
    select(
        cases_t.c.code,
        cases_t.c.agency_code,
        procedures_t.c.name.label("procedure_name"),
        agencies_t.c.name.label("agency_name"),
        cases_t.c.returned_at,
        cases_t.c.end_event_at,
        cases_t.c.finished_at,
        cases_t.c.link_key_id,
    )
    .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
    .join(agencies_t, agencies_t.c.code == cases_t.c.agency_code)
    .where(cases_t.c.code == bindparam("code"))
)

_AGENCY_CHOICES = select(agencies_t.c.code, agencies_t.c.parent_code, agencies_t.c.zns_survey)


class ZnsStore:
    """The ZNS route's reads and writes; one instance per engine."""

    def __init__(self, engine: AsyncEngine, *, channel: str, prefix: str) -> None:
        self.engine = engine
        self.channel = channel
        self.prefix = prefix
        self.insert = dialect_insert(engine)
        upsert = self.insert(chats_t).values(
            channel=channel,
            external_id=bindparam("external_id"),
            language="vi",
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        self._chat = upsert.on_conflict_do_update(
            index_elements=["channel", "external_id"],
            set_={"updated_at": upsert.excluded.updated_at},
        ).returning(chats_t.c.id, chats_t.c.blocked_at)
        zns_chat = chats_t.alias("zns_chat")
        self._zns_chat_open = or_(zns_chat.c.id.is_(None), zns_chat.c.blocked_at.is_(None))
        self._with_zns_chat = and_(
            zns_chat.c.channel == channel,
            zns_chat.c.external_id == literal(prefix, String) + cases_t.c.code,
        )
        self._zns_chat = zns_chat

    # -- which cases ---------------------------------------------------------------------

    def reachable(self) -> list[ColumnElement[bool]]:
        """Conditions (over cases, contacts, links, chats) of a case ZNS may reach."""
        return [
            contacts_t.c.phone_sealed.is_not(None),
            or_(
                links_t.c.case_code.is_(None),
                and_(chats_t.c.blocked_at.is_not(None), chats_t.c.opted_out.is_(False)),
            ),
            func.length(cases_t.c.code) <= EXTERNAL_ID_LIMIT - len(self.prefix),
        ]

    async def due_surveys(
        self, statuses: Sequence[int], *, limit: int = DUE_BATCH
    ) -> list[DueCase]:
        """Cases at a survey status without a survey that ZNS may reach (oldest first)."""
        stmt = (
            select(cases_t.c.code, cases_t.c.agency_code)
            .join(contacts_t, contacts_t.c.case_code == cases_t.c.code)
            .outerjoin(surveys_t, surveys_t.c.case_code == cases_t.c.code)
            .outerjoin(links_t, links_t.c.case_code == cases_t.c.code)
            .outerjoin(chats_t, chats_t.c.id == links_t.c.chat_id)
            .outerjoin(self._zns_chat, self._with_zns_chat)
            .where(
                surveys_t.c.id.is_(None),
                cases_t.c.status.in_(list(statuses)),
                self._zns_chat_open,
                *self.reachable(),
            )
            .order_by(cases_t.c.id)
            .limit(limit)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [DueCase(str(row[0]), str(row[1])) for row in rows]

    async def agency_choices(self) -> list[AgencyChoice]:
        """Every agency's parent and ZNS survey choice (the tree is small: one read)."""
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(_AGENCY_CHOICES)).all()
        return [AgencyChoice(str(r[0]), r[1], r[2]) for r in rows]

    # -- surveys and messages ------------------------------------------------------------

    async def _chat_of(self, conn: AsyncConnection, case_code: str, now: datetime) -> int | None:
        """The case's ZNS chat (created on first use); None once it is blocked."""
        row = (
            await conn.execute(self._chat, {"external_id": self.prefix + case_code, "now": now})
        ).one()
        return None if row.blocked_at is not None else int(row.id)

    async def open_surveys(
        self,
        case_codes: Sequence[str],
        *,
        version: int,
        first_code: str,
        now: datetime,
        expires_at: datetime,
        intents_for: Callable[[int, str, int], Sequence[OutboxIntent]],
    ) -> int:
        """Open a ZNS survey (source = the channel) for each case on its ZNS chat, in one
        transaction; `intents_for(survey_id, case_code, chat_id)` gives its first messages.
        A case that has a survey already (or a blocked ZNS chat) is left alone."""
        statement = (
            self.insert(surveys_t)
            .values(
                case_code=bindparam("case_code"),
                chat_id=bindparam("chat_id"),
                source=self.channel,
                questionnaire_version=version,
                status="invited",
                current_code=first_code,
                invited_at=now,
                expires_at=expires_at,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["case_code"])
            .returning(surveys_t.c.id)
        )
        opened = 0
        with translate_errors():
            async with self.engine.begin() as conn:
                intents: list[OutboxIntent] = []
                for case_code in case_codes:
                    chat_id = await self._chat_of(conn, case_code, now)
                    if chat_id is None:
                        continue
                    params = {"case_code": case_code, "chat_id": chat_id}
                    survey_id = (await conn.execute(statement, params)).scalar()
                    if survey_id is not None:
                        opened += 1
                        intents.extend(intents_for(int(survey_id), case_code, chat_id))
                await enqueue(conn, intents, now=now)
        return opened

    async def take_over_survey(
        self,
        survey_id: int,
        *,
        case_code: str,
        from_chat_id: int,
        now: datetime,
        intents_for: Callable[[int], Sequence[OutboxIntent]],
    ) -> bool:
        """Move an open survey from a chat that cannot take it to the case's ZNS chat and
        queue `intents_for(zns chat id)`; False if the survey moved on meanwhile (another
        chat, finished) or the ZNS chat is blocked."""
        with translate_errors():
            async with self.engine.begin() as conn:
                chat_id = await self._chat_of(conn, case_code, now)
                if chat_id is None:
                    return False
                moved = await conn.execute(
                    update(surveys_t)
                    .where(
                        surveys_t.c.id == survey_id,
                        surveys_t.c.case_code == case_code,
                        surveys_t.c.chat_id == from_chat_id,
                        surveys_t.c.status.in_(OPEN_SURVEY),
                    )
                    .values(chat_id=chat_id, source=self.channel, updated_at=now)
                )
                if moved.rowcount != 1:
                    await conn.rollback()
                    return False
                await enqueue(conn, intents_for(chat_id), now=now)
        return True

    async def queue(self, intents: Sequence[CaseIntent], *, now: datetime) -> int:
        """Queue messages to cases' ZNS chats (created when needed; a blocked one gets
        nothing); how many rows were added."""
        with translate_errors():
            async with self.engine.begin() as conn:
                return await self.queue_in(conn, intents, now)

    async def queue_in(
        self, conn: AsyncConnection, intents: Sequence[CaseIntent], now: datetime
    ) -> int:
        chats: dict[str, int | None] = {}
        rows: list[OutboxIntent] = []
        for intent in intents:
            if intent.case_code not in chats:
                chats[intent.case_code] = await self._chat_of(conn, intent.case_code, now)
            chat_id = chats[intent.case_code]
            if chat_id is not None:
                rows.append(intent.to(chat_id))
        return await enqueue(conn, rows, now=now)

    async def case_facts(self, case_code: str) -> ZnsCase | None:
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(_CASE_FACTS, {"code": case_code})).first()
        return None if row is None else ZnsCase(**row._mapping)


__all__ = [
    "DUE_BATCH",
    "ENDED_STATUSES",
    "AgencyChoice",
    "CaseIntent",
    "DueCase",
    "ZnsCase",
    "ZnsStore",
]
