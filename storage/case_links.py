"""Which chat follows a case, and how it came to: links, phone confirmations, takeovers.

A case has at most one chat (`case_links`). A chat that only had the receipt's token holds it
until a chat that proves the case's phone number claims it: that chat takes the case over, in
one transaction that
- moves the link (compare-and-set on the previous holder, so two claims never both win);
- restarts an unfinished survey of the case for the new holder: the previous chat's answers
  are deleted (they are not the citizen's; their five-level values stay in the history row),
  the survey goes back to its first question on the same questionnaire version with a fresh
  expiry, and no reminder is counted yet. A completed survey is kept as it was (it was
  finished before anyone proved the phone; the history row lets integrity checks weigh it);
  an expired one stays expired;
- cancels what was still queued for the previous chat about the case (its questions,
  notices, apologies) and queues the caller's notice to it (unless it said /stop);
- appends a `case_link_history` row. Every first link and phone confirmation appends one too.

A chat linked by phone is never taken over; a token never takes a case from anyone.

The store also finds the cases a chat may see (`CaseInfo`): by the receipt's token, by code,
by the phone they were filed with, or by the chat that follows them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import dialect_insert, is_sqlite
from storage.errors import translate_errors
from storage.models import (
    Answer,
    Case,
    CaseContact,
    CaseLink,
    CaseLinkEvent,
    Chat,
    OutboxMessage,
    Procedure,
    Survey,
)
from storage.outbox import PENDING, OutboxIntent, enqueue

links_t = CaseLink.__table__  # type: ignore[attr-defined]
history_t = CaseLinkEvent.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
contacts_t = CaseContact.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]

How = Literal["token", "phone"]
TOKEN: How = "token"
PHONE: How = "phone"
# Older rows and callers name the way by what made it ("start", "contact"); anything that is
# not a phone proof (a deep link, a typed link code) only shows the receipt was in hand.
_PHONE_NAMES = (PHONE, "contact")
# Survey states a takeover restarts for the new holder ("opted_out": the previous chat's /stop).
RESTARTABLE = ("invited", "in_progress", "opted_out")
# Outbox rows about a case that are not tied to its survey carry these dedupe-key prefixes.
_CASE_MESSAGE_PREFIXES = ("notice:", "apology:")


def normalise_how(via: str) -> How:
    """ "token" | "phone" from the current or an older name of the way."""
    return PHONE if via in _PHONE_NAMES else TOKEN


@dataclass(frozen=True, slots=True)
class Restart:
    """How to restart a case's survey if a takeover finds it unfinished."""

    survey_id: int
    first_code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    """The chat holding the case after a claim; `previous` is set when it was taken over."""

    holder: int
    previous: int | None = None
    survey_restarted: bool = False


@dataclass(frozen=True, slots=True)
class LinkEvent:
    case_code: str
    chat_id: int
    kind: str
    how: str
    previous_chat_id: int | None
    discarded: list[list[Any]] | None
    at: datetime


@dataclass(frozen=True, slots=True)
class CaseInfo:
    """What a citizen may see of a case linked to their chat."""

    code: str
    procedure_name: str
    status: int
    due_at: datetime | None
    ended_at: datetime | None
    received_at: datetime
    linked_chat: int | None
    survey_id: int | None


_CASE_INFO = (
    select(
        cases_t.c.code,
        procedures_t.c.name.label("procedure_name"),
        cases_t.c.status,
        cases_t.c.due_at,
        cases_t.c.ended_at,
        cases_t.c.received_at,
        links_t.c.chat_id.label("linked_chat"),
        surveys_t.c.id.label("survey_id"),
    )
    .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
    .outerjoin(links_t, links_t.c.case_code == cases_t.c.code)
    .outerjoin(surveys_t, surveys_t.c.case_code == cases_t.c.code)
)


class CaseLinkStore:
    """Claims of cases by chats and their history; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        sqlite_db = is_sqlite(str(engine.url))
        self._insert = dialect_insert(engine)
        # SQLite has one writer at a time (the insert above already took the write lock).
        self._lock = not sqlite_db

    async def case_by_token(self, token_hash: str, *, key_ids: Sequence[str]) -> CaseInfo | None:
        """The case behind a link; one made with a key not in `key_ids` (retired) is none."""
        return await self._case_info(
            and_(cases_t.c.link_token_hash == token_hash, cases_t.c.link_key_id.in_(key_ids))
        )

    async def case_by_link_code(self, code_hash: str, *, key_ids: Sequence[str]) -> CaseInfo | None:
        """The one case whose receipt prints the link code (`link_code_hash` of the code read
        by `bot.onestop.links.extract_link_code`); none when no case or more than one has it
        (codes may collide: an ambiguous code never links either case), or when the case's
        key is retired (not in `key_ids`)."""
        stmt = _CASE_INFO.where(
            cases_t.c.link_code_hash == code_hash, cases_t.c.link_key_id.in_(key_ids)
        ).limit(2)
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return CaseInfo(**rows[0]._mapping) if len(rows) == 1 else None

    async def case_by_code(self, code: str) -> CaseInfo | None:
        return await self._case_info(cases_t.c.code == code)

    async def _case_info(self, where: Any) -> CaseInfo | None:
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(_CASE_INFO.where(where))).first()
        return None if row is None else CaseInfo(**row._mapping)

    async def cases_by_phone(self, phone_hashes: Sequence[str]) -> list[CaseInfo]:
        """Cases filed with the phone, given its hash under every configured key."""
        stmt = _CASE_INFO.join(contacts_t, contacts_t.c.case_code == cases_t.c.code).where(
            contacts_t.c.phone_hash.in_(phone_hashes)
        )
        return await self._cases(stmt)

    async def cases_of_chat(self, chat_id: int) -> list[CaseInfo]:
        return await self._cases(_CASE_INFO.where(links_t.c.chat_id == chat_id))

    async def _cases(self, stmt: Any) -> list[CaseInfo]:
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt.order_by(cases_t.c.received_at))).all()
        return [CaseInfo(**r._mapping) for r in rows]

    async def link(self, case_code: str, chat_id: int, *, via: str, now: datetime) -> int:
        """Link a case to a chat by its token unless another chat has it; return the chat
        that holds it. A phone proof may take a case over, which also moves its survey and
        its queued messages: that goes through `claim` with `how=PHONE`.
        """
        if normalise_how(via) != TOKEN:
            raise ValueError("a phone proof links through CaseLinkStore.claim")
        return (await self.claim(case_code, chat_id, how=TOKEN, now=now)).holder

    async def claim(
        self,
        case_code: str,
        chat_id: int,
        *,
        how: How,
        now: datetime,
        restart: Restart | None = None,
        tell_previous: Callable[[int], Sequence[OutboxIntent]] = lambda _chat: (),
    ) -> LinkOutcome:
        """Link the case to the chat, or take it over by phone; return who holds it now.

        `restart` is the survey to restart on a takeover (read by the caller beforehand; the
        restart only happens if the survey is still unfinished and the previous chat's).
        `tell_previous(chat id)` gives the messages for the chat a takeover displaced.
        """
        with translate_errors():
            async with self.engine.begin() as conn:
                inserted = (
                    await conn.execute(
                        self._insert(links_t)
                        .values(case_code=case_code, chat_id=chat_id, via=how, linked_at=now)
                        .on_conflict_do_nothing(index_elements=["case_code"])
                        .returning(links_t.c.chat_id)
                    )
                ).scalar()
                if inserted is not None:
                    await self._log(conn, case_code, chat_id, "link", how, now)
                    return LinkOutcome(holder=chat_id)
                current = select(links_t.c.chat_id, links_t.c.via).where(
                    links_t.c.case_code == case_code
                )
                if self._lock:
                    current = current.with_for_update()
                holder, via = (await conn.execute(current)).one()
                holder, via = int(holder), normalise_how(str(via))
                if holder == chat_id:
                    if how == PHONE and via == TOKEN:
                        await conn.execute(
                            update(links_t)
                            .where(links_t.c.case_code == case_code)
                            .values(via=PHONE)
                        )
                        await self._log(conn, case_code, chat_id, "confirm", how, now)
                    return LinkOutcome(holder=chat_id)
                if how != PHONE or via != TOKEN:
                    return LinkOutcome(holder=holder)
                moved = await conn.execute(
                    update(links_t)
                    .where(
                        links_t.c.case_code == case_code,
                        links_t.c.chat_id == holder,
                        links_t.c.via.not_in(_PHONE_NAMES),
                    )
                    .values(chat_id=chat_id, via=PHONE, linked_at=now)
                )
                if moved.rowcount != 1:  # another claim won meanwhile
                    await conn.rollback()
                    return LinkOutcome(holder=holder)
                discarded, restarted = None, False
                if restart is not None:
                    discarded = await self._restart(conn, restart, holder, chat_id, now=now)
                    restarted = discarded is not None
                await self._cancel_queued(conn, case_code, holder, restart)
                stopped = await conn.execute(
                    select(chats_t.c.opted_out).where(chats_t.c.id == holder)
                )
                if not stopped.scalar():  # a chat that said /stop hears nothing more
                    await enqueue(conn, list(tell_previous(holder)), now=now)
                await self._log(
                    conn,
                    case_code,
                    chat_id,
                    "takeover",
                    how,
                    now,
                    previous=holder,
                    discarded=discarded,
                )
        return LinkOutcome(holder=chat_id, previous=holder, survey_restarted=restarted)

    async def _restart(
        self,
        conn: AsyncConnection,
        restart: Restart,
        previous: int,
        chat_id: int,
        *,
        now: datetime,
    ) -> list[list[Any]] | None:
        """Give the unfinished survey to the new holder from the start; return the dropped
        five-level answers, or None when the survey was not restarted."""
        given = (
            await conn.execute(
                select(answers_t.c.question_code, answers_t.c.value_int)
                .where(answers_t.c.survey_id == restart.survey_id)
                .order_by(answers_t.c.id)
            )
        ).all()
        moved = await conn.execute(
            update(surveys_t)
            .where(
                surveys_t.c.id == restart.survey_id,
                surveys_t.c.chat_id == previous,
                surveys_t.c.status.in_(RESTARTABLE),
            )
            .values(
                chat_id=chat_id,
                status="invited",
                current_code=restart.first_code,
                prompt_message_id=None,
                draft_choices=None,
                invited_at=now,
                started_at=None,
                completed_at=None,
                reminded_at=None,
                expires_at=restart.expires_at,
                updated_at=now,
            )
        )
        if moved.rowcount != 1:
            return None
        await conn.execute(delete(answers_t).where(answers_t.c.survey_id == restart.survey_id))
        return [[code, value] for code, value in given]

    async def _cancel_queued(
        self, conn: AsyncConnection, case_code: str, previous: int, restart: Restart | None
    ) -> None:
        """Drop what still waits to go to the displaced chat about this case."""
        about_case = [
            outbox_t.c.dedupe_key.startswith(f"{prefix}{case_code}:", autoescape=True)
            for prefix in _CASE_MESSAGE_PREFIXES
        ]
        if restart is not None:
            about_case.append(outbox_t.c.survey_id == restart.survey_id)
        await conn.execute(
            update(outbox_t)
            .where(outbox_t.c.chat_id == previous, outbox_t.c.status == PENDING, or_(*about_case))
            .values(status="cancelled", last_error="case taken over by phone")
        )

    async def _log(
        self,
        conn: AsyncConnection,
        case_code: str,
        chat_id: int,
        kind: str,
        how: How,
        now: datetime,
        *,
        previous: int | None = None,
        discarded: list[list[Any]] | None = None,
    ) -> None:
        await conn.execute(
            insert(history_t).values(
                case_code=case_code,
                chat_id=chat_id,
                kind=kind,
                how=how,
                previous_chat_id=previous,
                discarded=discarded,
                at=now,
            )
        )

    async def history(self, case_code: str) -> list[LinkEvent]:
        """A case's link history, oldest first."""
        stmt = (
            select(
                history_t.c.case_code,
                history_t.c.chat_id,
                history_t.c.kind,
                history_t.c.how,
                history_t.c.previous_chat_id,
                history_t.c.discarded,
                history_t.c.at,
            )
            .where(history_t.c.case_code == case_code)
            .order_by(history_t.c.id)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [LinkEvent(**row._mapping) for row in rows]


__all__ = [
    "PHONE",
    "TOKEN",
    "CaseInfo",
    "CaseLinkStore",
    "How",
    "LinkEvent",
    "LinkOutcome",
    "Restart",
    "normalise_how",
]
