"""The outbox: every message the bot sends is a row first, claimed, sent, and its outcome recorded.

Rows go pending → sending → sent | failed | blocked (a retry puts a row back to pending with a
later `not_before`). Times are naive UTC.

Claiming is one statement built once from the tables (SQLAlchemy Core):
- PostgreSQL: `WITH claimed AS (UPDATE outbox … WHERE id IN (SELECT … ORDER BY id LIMIT n
  FOR UPDATE SKIP LOCKED) RETURNING …) SELECT … JOIN chats ORDER BY id`, so two dispatchers
  never claim the same row.
- SQLite: the same UPDATE without SKIP LOCKED, then the join, in one write transaction.

A row is due when it is pending with `not_before <= now`, or sending with an expired lease (its
dispatcher died; at most that one message is sent twice). Per-chat FIFO: a row is not claimed
while an earlier row of its chat is sending or is pending and due, so a chat has at most one
message in flight and its messages leave in id order. A pending row waiting for a later
`not_before` (quiet hours, retry backoff) does not hold back the rows after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import is_sqlite
from storage.errors import translate_errors
from storage.models import Chat, OutboxAttempt, OutboxMessage, Survey

outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
attempts_t = OutboxAttempt.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
BLOCKED = "blocked"
STATUSES = (PENDING, SENDING, SENT, FAILED, BLOCKED)

# Kind of the message that carries a survey question; its message id is what a reply quotes.
QUESTION_KIND = "question"

_TEXT_LIMIT = 500  # outbox.last_error and outbox_attempts.detail


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxIntent:
    """A message to send to a chat: what (kind + data), not how it is worded."""

    chat_id: int
    kind: str
    payload: dict[str, Any]
    not_before: datetime | None = None
    dedupe_key: str | None = None
    survey_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A row claimed for sending, with the chat's address on its channel."""

    id: int
    chat_id: int
    channel: str
    external_id: str
    language: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    survey_id: int | None


def _p(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


def _attempt(outcome: str, detail: str | None) -> dict[str, Any]:
    """Parameters of an `outbox_attempts` row, besides the message id and time."""
    return {"b_outcome": outcome, "b_detail": detail}


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


# --- enqueue ---------------------------------------------------------------------------------

_ENQUEUE_VALUES: dict[str, Any] = {
    "chat_id": chats_t.c.id,
    "kind": _p("b_kind", outbox_t.c.kind),
    "payload": _p("b_payload", outbox_t.c.payload),
    "status": literal(PENDING),
    "not_before": _p("b_not_before", outbox_t.c.not_before),
    "attempts": literal(0),
    "dedupe_key": _p("b_dedupe_key", outbox_t.c.dedupe_key),
    "survey_id": _p("b_survey_id", outbox_t.c.survey_id),
    "created_at": _p("b_now", outbox_t.c.created_at),
}
# Selecting from the chat row itself both skips blocked chats and avoids a foreign-key error
# for a chat that does not exist.
_ENQUEUE_SOURCE = select(*(v.label(k) for k, v in _ENQUEUE_VALUES.items())).where(
    chats_t.c.id == _p("b_chat_id", chats_t.c.id), chats_t.c.blocked_at.is_(None)
)


def _enqueue_statement(dialect_insert: Any) -> Any:
    return (
        dialect_insert(outbox_t)
        .from_select(list(_ENQUEUE_VALUES), _ENQUEUE_SOURCE)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(outbox_t.c.id)
    )


_ENQUEUE = {
    "postgresql": _enqueue_statement(postgresql.insert),
    "sqlite": _enqueue_statement(sqlite.insert),
}


async def enqueue(conn: AsyncConnection, intents: Sequence[OutboxIntent], *, now: datetime) -> int:
    """Insert intents inside the caller's transaction; return how many rows were added.

    An intent whose `dedupe_key` is already taken, or whose chat is blocked, adds nothing.
    """
    statement = _ENQUEUE[conn.dialect.name]
    added = 0
    with translate_errors():
        for intent in intents:
            params = {
                "b_chat_id": intent.chat_id,
                "b_kind": intent.kind,
                "b_payload": intent.payload,
                "b_not_before": intent.not_before or now,
                "b_dedupe_key": intent.dedupe_key,
                "b_survey_id": intent.survey_id,
                "b_now": now,
            }
            added += len((await conn.execute(statement, params)).all())
    return added


# --- claim -----------------------------------------------------------------------------------

_cand = outbox_t.alias("cand")
_earlier = outbox_t.alias("earlier")
_now = _p("b_now", outbox_t.c.not_before)

_DUE = or_(
    and_(_cand.c.status == PENDING, _cand.c.not_before <= _now),
    and_(_cand.c.status == SENDING, _cand.c.claimed_until < _now),
)
# An earlier row of the same chat that is in flight (or whose lease expired, which makes it due
# again) or is pending and due holds the row back; one waiting for a later not_before does not.
_HELD_BACK = exists().where(
    _earlier.c.chat_id == _cand.c.chat_id,
    _earlier.c.id < _cand.c.id,
    or_(
        _earlier.c.status == SENDING,
        and_(_earlier.c.status == PENDING, _earlier.c.not_before <= _now),
    ),
)
# A dispatcher per channel claims only its channel's rows.
_OF_CHANNEL = exists().where(
    chats_t.c.id == _cand.c.chat_id, chats_t.c.channel == bindparam("b_channel", type_=String)
)


def _claimable(*, of_channel: bool) -> Any:
    return (
        select(_cand.c.id)
        .where(_DUE, ~_HELD_BACK, *([_OF_CHANNEL] if of_channel else []))
        .order_by(_cand.c.id)
        .limit(bindparam("b_limit", type_=Integer))
    )


_CLAIM_SET = {
    "status": SENDING,
    "claimed_until": _p("b_until", outbox_t.c.claimed_until),
    "attempts": outbox_t.c.attempts + 1,
}
_CLAIMED_COLUMNS = ("id", "chat_id", "kind", "payload", "attempts", "survey_id")
_CHAT_COLUMNS = ("channel", "external_id", "language")
_MESSAGE_FIELDS = tuple(field.name for field in fields(ClaimedMessage))


def _build_claim_postgres(*, of_channel: bool) -> Any:
    claimed = (
        update(outbox_t)
        .where(
            outbox_t.c.id.in_(_claimable(of_channel=of_channel).with_for_update(skip_locked=True))
        )
        .values(_CLAIM_SET)
        .returning(*(outbox_t.c[name] for name in _CLAIMED_COLUMNS))
        .cte("claimed")
    )
    return (
        select(
            *(claimed.c[name] for name in _CLAIMED_COLUMNS),
            *(chats_t.c[name] for name in _CHAT_COLUMNS),
        )
        .join_from(claimed, chats_t, claimed.c.chat_id == chats_t.c.id)
        .order_by(claimed.c.id)
    )


_CLAIM_POSTGRES = {flag: _build_claim_postgres(of_channel=flag) for flag in (False, True)}
_CLAIM_SQLITE = {
    flag: update(outbox_t)
    .where(outbox_t.c.id.in_(_claimable(of_channel=flag)))
    .values(_CLAIM_SET)
    .returning(outbox_t.c.id)
    for flag in (False, True)
}
_CLAIMED_SQLITE = (
    select(
        *(outbox_t.c[name] for name in _CLAIMED_COLUMNS),
        *(chats_t.c[name] for name in _CHAT_COLUMNS),
    )
    .join_from(outbox_t, chats_t, outbox_t.c.chat_id == chats_t.c.id)
    .where(outbox_t.c.id.in_(bindparam("b_ids", expanding=True)))
    .order_by(outbox_t.c.id)
)


# --- outcomes --------------------------------------------------------------------------------

_ID = _p("b_id", outbox_t.c.id)

_RECORD_ATTEMPT = insert(attempts_t).values(
    outbox_id=_p("b_id", attempts_t.c.outbox_id),
    outcome=_p("b_outcome", attempts_t.c.outcome),
    detail=_p("b_detail", attempts_t.c.detail),
    at=_p("b_now", attempts_t.c.at),
)
_MARK_SENT = (
    update(outbox_t)
    .where(outbox_t.c.id == _ID)
    .values(
        status=SENT,
        sent_at=_p("b_now", outbox_t.c.sent_at),
        external_message_id=_p("b_external_message_id", outbox_t.c.external_message_id),
        cost_class=_p("b_cost", outbox_t.c.cost_class),
        claimed_until=None,
    )
)
_question = outbox_t.alias("question")
_SET_PROMPT = (
    update(surveys_t)
    .where(
        surveys_t.c.id
        == select(_question.c.survey_id)
        .where(_question.c.id == _ID, _question.c.kind == QUESTION_KIND)
        .scalar_subquery()
    )
    .values(prompt_message_id=_p("b_external_message_id", surveys_t.c.prompt_message_id))
)
_MARK_RETRY = (
    update(outbox_t)
    .where(outbox_t.c.id == _ID)
    .values(
        status=PENDING,
        not_before=_p("b_at", outbox_t.c.not_before),
        last_error=_p("b_error", outbox_t.c.last_error),
        claimed_until=None,
    )
)
_MARK_FAILED = (
    update(outbox_t)
    .where(outbox_t.c.id == _ID)
    .values(status=FAILED, last_error=_p("b_error", outbox_t.c.last_error), claimed_until=None)
)
_blocked_row = outbox_t.alias("blocked_row")
_CHAT_OF_ROW = select(_blocked_row.c.chat_id).where(_blocked_row.c.id == _ID).scalar_subquery()
_BLOCK_CHAT = (
    update(chats_t)
    .where(chats_t.c.id == _CHAT_OF_ROW)
    .values(
        blocked_at=func.coalesce(chats_t.c.blocked_at, _p("b_now", chats_t.c.blocked_at)),
        updated_at=_p("b_now", chats_t.c.updated_at),
    )
)
_BLOCK_ROWS = (
    update(outbox_t)
    .where(
        outbox_t.c.chat_id == _CHAT_OF_ROW,
        or_(outbox_t.c.id == _ID, outbox_t.c.status.in_((PENDING, SENDING))),
    )
    .values(status=BLOCKED, last_error=_p("b_error", outbox_t.c.last_error), claimed_until=None)
)
_COUNTS = select(outbox_t.c.status, func.count()).group_by(outbox_t.c.status)


class OutboxStore:
    """Claims outbox rows and records what became of them; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(str(engine.url))
        # SQLite has one writer at a time; queueing here is cheaper than waiting on busy_timeout.
        self._write_lock = asyncio.Lock() if self._sqlite else None

    async def enqueue(self, intents: Sequence[OutboxIntent], *, now: datetime) -> int:
        """Insert intents in a transaction of their own; return how many rows were added."""
        with translate_errors():
            async with self._writing(), self._engine.begin() as conn:
                return await enqueue(conn, intents, now=now)

    async def claim(
        self, *, now: datetime, limit: int, lease_seconds: float, channel: str | None = None
    ) -> list[ClaimedMessage]:
        """Mark up to `limit` due rows as sending under a lease and return them in id order
        (only rows to chats on `channel` when given)."""
        if limit <= 0:
            return []
        params: dict[str, Any] = {
            "b_now": now,
            "b_limit": limit,
            "b_until": now + timedelta(seconds=lease_seconds),
        }
        of_channel = channel is not None
        if of_channel:
            params["b_channel"] = channel
        with translate_errors():
            async with self._writing(), self._engine.begin() as conn:
                if self._sqlite:
                    ids = (await conn.execute(_CLAIM_SQLITE[of_channel], params)).scalars().all()
                    if not ids:
                        return []
                    rows = (await conn.execute(_CLAIMED_SQLITE, {"b_ids": list(ids)})).all()
                else:
                    rows = (await conn.execute(_CLAIM_POSTGRES[of_channel], params)).all()
        return [
            ClaimedMessage(**{name: row._mapping[name] for name in _MESSAGE_FIELDS}) for row in rows
        ]

    async def sent(
        self,
        message_id: int,
        *,
        now: datetime,
        external_message_id: str | None,
        cost: str | None = None,
    ) -> None:
        """Record a delivered message with its cost class (and, for a survey question, the
        survey's prompt id)."""
        params = {
            "b_id": message_id,
            "b_now": now,
            "b_external_message_id": external_message_id,
            "b_cost": cost,
        }
        with translate_errors():
            async with self._writing(), self._engine.begin() as conn:
                await conn.execute(_MARK_SENT, params)
                if external_message_id is not None:
                    await conn.execute(_SET_PROMPT, params)
                await conn.execute(_RECORD_ATTEMPT, params | _attempt(SENT, None))

    async def retry(self, message_id: int, *, now: datetime, at: datetime, error: str) -> None:
        """Put the row back to pending until `at`."""
        error = _clip(error)
        params = {"b_id": message_id, "b_now": now, "b_at": at, "b_error": error}
        with translate_errors():
            async with self._writing(), self._engine.begin() as conn:
                await conn.execute(_MARK_RETRY, params)
                await conn.execute(_RECORD_ATTEMPT, params | _attempt("retry", error))

    async def failed(self, message_id: int, *, now: datetime, error: str) -> None:
        """Give up on the row for good."""
        error = _clip(error)
        params = {"b_id": message_id, "b_now": now, "b_error": error}
        with translate_errors():
            async with self._writing(), self._engine.begin() as conn:
                await conn.execute(_MARK_FAILED, params)
                await conn.execute(_RECORD_ATTEMPT, params | _attempt(FAILED, error))

    async def blocked(self, message_id: int, *, now: datetime, error: str) -> None:
        """The chat blocked the bot: mark the chat, and this and its other unsent rows, blocked."""
        error = _clip(error)
        params = {"b_id": message_id, "b_now": now, "b_error": error}
        with translate_errors():
            async with self._writing(), self._engine.begin() as conn:
                await conn.execute(_BLOCK_CHAT, params)
                await conn.execute(_BLOCK_ROWS, params)
                await conn.execute(_RECORD_ATTEMPT, params | _attempt(BLOCKED, error))

    async def counts(self) -> dict[str, int]:
        """Rows per status (every known status present, zero when empty)."""
        with translate_errors():
            async with self._engine.connect() as conn:
                rows = (await conn.execute(_COUNTS)).all()
        return dict.fromkeys(STATUSES, 0) | {status: int(n) for status, n in rows}

    def _writing(self) -> AbstractAsyncContextManager[Any]:
        """The SQLite write lock, or nothing on PostgreSQL."""
        return self._write_lock if self._write_lock is not None else nullcontext()


__all__ = [
    "BLOCKED",
    "FAILED",
    "PENDING",
    "QUESTION_KIND",
    "SENDING",
    "SENT",
    "STATUSES",
    "ClaimedMessage",
    "OutboxIntent",
    "OutboxStore",
    "enqueue",
]
