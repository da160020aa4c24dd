"""Chats, case links, questionnaire versions, surveys and answers.

Every change that also sends something writes its outbox rows in the same transaction
(`storage.outbox.enqueue`), so a message is never lost or sent for a change that did not happen.
Times are naive UTC except `answers.answered_at`, which is local (reports count by local day).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.case_links import TOKEN, CaseLinkStore, normalise_how
from storage.db import is_sqlite
from storage.errors import translate_errors
from storage.models import (
    Agency,
    Answer,
    Case,
    CaseContact,
    CaseEvent,
    CaseLink,
    Chat,
    Cursor,
    OutboxMessage,
    Procedure,
    QuestionnaireVersion,
    Survey,
)
from storage.outbox import OutboxIntent, enqueue

chats_t = Chat.__table__  # type: ignore[attr-defined]
links_t = CaseLink.__table__  # type: ignore[attr-defined]
forms_t = QuestionnaireVersion.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]
answers_t = Answer.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
contacts_t = CaseContact.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
events_t = CaseEvent.__table__  # type: ignore[attr-defined]
agencies_t = Agency.__table__  # type: ignore[attr-defined]
cursors_t = Cursor.__table__  # type: ignore[attr-defined]

OPEN_SURVEY = ("invited", "in_progress")
START_BATCH = 500


@dataclass(frozen=True, slots=True)
class ChatRow:
    id: int
    channel: str
    external_id: str
    language: str
    opted_out: bool
    blocked: bool


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


@dataclass(frozen=True, slots=True)
class SurveyRow:
    id: int
    case_code: str
    chat_id: int
    version: int
    status: str
    current_code: str | None
    prompt_message_id: str | None
    draft_choices: tuple[str, ...]
    invited_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AnswerRow:
    question_code: str
    value_int: int | None
    value_text: str | None
    choices: tuple[str, ...] | None
    skipped: bool


def _dialect_insert(engine: AsyncEngine) -> Any:
    return sqlite.insert if is_sqlite(str(engine.url)) else postgresql.insert


_SURVEY_COLUMNS = (
    surveys_t.c.id,
    surveys_t.c.case_code,
    surveys_t.c.chat_id,
    surveys_t.c.questionnaire_version,
    surveys_t.c.status,
    surveys_t.c.current_code,
    surveys_t.c.prompt_message_id,
    surveys_t.c.draft_choices,
    surveys_t.c.invited_at,
    surveys_t.c.expires_at,
)
_SURVEY_BY_ID = select(*_SURVEY_COLUMNS).where(surveys_t.c.id == bindparam("survey_id"))
_ANSWERS_OF = select(
    answers_t.c.question_code,
    answers_t.c.value_int,
    answers_t.c.value_text,
    answers_t.c.choices,
    answers_t.c.skipped,
).where(answers_t.c.survey_id == bindparam("survey_id"))
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


def _survey(row: Any) -> SurveyRow:
    return SurveyRow(
        id=row.id,
        case_code=row.case_code,
        chat_id=row.chat_id,
        version=row.questionnaire_version,
        status=row.status,
        current_code=row.current_code,
        prompt_message_id=row.prompt_message_id,
        draft_choices=tuple(row.draft_choices or ()),
        invited_at=row.invited_at,
        expires_at=row.expires_at,
    )


def _answer(row: Any) -> AnswerRow:
    return AnswerRow(
        question_code=row.question_code,
        value_int=row.value_int,
        value_text=row.value_text,
        choices=None if row.choices is None else tuple(row.choices),
        skipped=bool(row.skipped),
    )


class SurveyStore:
    """Queries and changes behind the conversation; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.links = CaseLinkStore(engine)
        self._insert = _dialect_insert(engine)
        ins = self._insert
        chat_upsert = ins(chats_t).values(
            channel=bindparam("channel"),
            external_id=bindparam("external_id"),
            language=bindparam("language"),
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        self._chat_upsert = chat_upsert.on_conflict_do_update(
            index_elements=["channel", "external_id"],
            set_={"updated_at": chat_upsert.excluded.updated_at},
        ).returning(
            chats_t.c.id,
            chats_t.c.channel,
            chats_t.c.external_id,
            chats_t.c.language,
            chats_t.c.opted_out,
            chats_t.c.blocked_at,
        )
        self._answer_insert = (
            ins(answers_t)
            .values(
                survey_id=bindparam("survey_id"),
                question_code=bindparam("question_code"),
                value_int=bindparam("value_int"),
                value_text=bindparam("value_text"),
                choices=bindparam("choices", type_=answers_t.c.choices.type),
                skipped=bindparam("skipped"),
                answered_at=bindparam("answered_at"),
            )
            .on_conflict_do_nothing(index_elements=["survey_id", "question_code"])
            .returning(answers_t.c.id)
        )

    # -- chats -----------------------------------------------------------------------------

    async def chat(
        self, *, channel: str, external_id: str, language: str, now: datetime
    ) -> ChatRow:
        """The chat row for a channel's chat id, created on first contact."""
        with translate_errors():
            async with self.engine.begin() as conn:
                row = (
                    await conn.execute(
                        self._chat_upsert,
                        {
                            "channel": channel,
                            "external_id": external_id,
                            "language": language,
                            "now": now,
                        },
                    )
                ).one()
        return ChatRow(
            id=row.id,
            channel=row.channel,
            external_id=row.external_id,
            language=row.language,
            opted_out=bool(row.opted_out),
            blocked=row.blocked_at is not None,
        )

    async def set_chat(self, chat_id: int, *, now: datetime, **values: Any) -> None:
        """Change a chat's language, opt-out or blocked mark."""
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(chats_t).where(chats_t.c.id == chat_id).values(updated_at=now, **values)
                )

    async def opt_out(
        self, chat_id: int, *, now: datetime, intents: Sequence[OutboxIntent]
    ) -> None:
        """Stop everything for a chat: open surveys end, unsent messages are dropped."""
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(chats_t)
                    .where(chats_t.c.id == chat_id)
                    .values(opted_out=True, updated_at=now)
                )
                await conn.execute(
                    update(surveys_t)
                    .where(surveys_t.c.chat_id == chat_id, surveys_t.c.status.in_(OPEN_SURVEY))
                    .values(status="opted_out", updated_at=now)
                )
                await conn.execute(
                    update(outbox_t)
                    .where(outbox_t.c.chat_id == chat_id, outbox_t.c.status == "pending")
                    .values(status="cancelled", last_error="chat opted out")
                )
                await enqueue(conn, intents, now=now)

    async def send(self, intents: Sequence[OutboxIntent], *, now: datetime) -> int:
        """Queue messages that change nothing else."""
        with translate_errors():
            async with self.engine.begin() as conn:
                return await enqueue(conn, intents, now=now)

    # -- cases and links ---------------------------------------------------------------------

    async def case_by_token(self, token_hash: str, *, key_ids: Sequence[str]) -> CaseInfo | None:
        """The case behind a link; one made with a key not in `key_ids` (retired) is none."""
        return await self._case_info(
            and_(cases_t.c.link_token_hash == token_hash, cases_t.c.link_key_id.in_(key_ids))
        )

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
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt.order_by(cases_t.c.received_at))).all()
        return [CaseInfo(**r._mapping) for r in rows]

    async def cases_of_chat(self, chat_id: int) -> list[CaseInfo]:
        stmt = _CASE_INFO.where(links_t.c.chat_id == chat_id).order_by(cases_t.c.received_at)
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [CaseInfo(**r._mapping) for r in rows]

    async def link(self, case_code: str, chat_id: int, *, via: str, now: datetime) -> int:
        """Link a case to a chat by its token unless another chat has it; return the chat
        that holds it. A phone proof may take a case over, which also moves its survey and
        its queued messages: that goes through `SurveyService.link_by_phone` (`links.claim`).
        """
        if normalise_how(via) != TOKEN:
            raise ValueError("a phone proof links through SurveyService.link_by_phone")
        return (await self.links.claim(case_code, chat_id, how=TOKEN, now=now)).holder

    # -- questionnaires ----------------------------------------------------------------------

    async def active_form(self) -> tuple[int, dict[str, Any]] | None:
        stmt = select(forms_t.c.version, forms_t.c.definition).where(forms_t.c.status == "active")
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else (int(row.version), dict(row.definition))

    async def form(self, version: int) -> dict[str, Any] | None:
        stmt = select(forms_t.c.definition).where(forms_t.c.version == version)
        with translate_errors():
            async with self.engine.connect() as conn:
                found = (await conn.execute(stmt)).scalar()
        return None if found is None else dict(found)

    async def seed_form(self, *, base: str, definition: dict[str, Any], now: datetime) -> int:
        """Make `definition` version 1 and active unless some version exists; return active."""
        with translate_errors():
            async with self.engine.begin() as conn:
                existing = (
                    await conn.execute(
                        select(forms_t.c.version).where(forms_t.c.status == "active")
                    )
                ).scalar()
                if existing is not None:
                    return int(existing)
                await conn.execute(
                    self._insert(forms_t)
                    .values(
                        version=1,
                        status="active",
                        base=base,
                        definition=definition,
                        created_at=now,
                        published_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["version"])
                )
                return int(
                    (
                        await conn.execute(
                            select(forms_t.c.version).where(forms_t.c.status == "active")
                        )
                    ).scalar_one()
                )

    # -- surveys -----------------------------------------------------------------------------

    async def open_surveys(
        self,
        items: Sequence[tuple[str, int]],
        *,
        version: int,
        first_code: str,
        now: datetime,
        expires_at: datetime,
        intents_for: Callable[[int, str, int], Sequence[OutboxIntent]],
    ) -> int:
        """Open many surveys (case code, chat id) in one transaction; return how many opened.

        `intents_for(survey_id, case_code, chat_id)` gives each new survey's first messages.
        """
        statement = (
            self._insert(surveys_t)
            .values(
                case_code=bindparam("case_code"),
                chat_id=bindparam("chat_id"),
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
                for case_code, chat_id in items:
                    survey_id = (
                        await conn.execute(statement, {"case_code": case_code, "chat_id": chat_id})
                    ).scalar()
                    if survey_id is not None:
                        opened += 1
                        intents.extend(intents_for(int(survey_id), case_code, chat_id))
                await enqueue(conn, intents, now=now)
        return opened

    async def survey(self, survey_id: int) -> tuple[SurveyRow, list[AnswerRow]] | None:
        """A survey and its answers, read together."""
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(_SURVEY_BY_ID, {"survey_id": survey_id})).first()
                if row is None:
                    return None
                answers = (await conn.execute(_ANSWERS_OF, {"survey_id": survey_id})).all()
        return _survey(row), [_answer(a) for a in answers]

    async def survey_awaiting_text(self, chat_id: int) -> SurveyRow | None:
        """The chat's open survey most recently prompted (typed answers go there)."""
        stmt = (
            select(*_SURVEY_COLUMNS)
            .where(surveys_t.c.chat_id == chat_id, surveys_t.c.status.in_(OPEN_SURVEY))
            .order_by(surveys_t.c.updated_at.desc(), surveys_t.c.id.desc())
            .limit(1)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else _survey(row)

    async def record_answer(
        self,
        survey: SurveyRow,
        *,
        question_code: str,
        value_int: int | None,
        value_text: str | None,
        choices: Sequence[str] | None,
        skipped: bool,
        answered_at: datetime,
        next_code: str | None,
        now: datetime,
        intents: Sequence[OutboxIntent],
    ) -> bool:
        """Store one answer and move the survey on; False if it was answered meanwhile."""
        with translate_errors():
            async with self.engine.begin() as conn:
                inserted = (
                    await conn.execute(
                        self._answer_insert,
                        {
                            "survey_id": survey.id,
                            "question_code": question_code,
                            "value_int": value_int,
                            "value_text": value_text,
                            "choices": list(choices) if choices is not None else None,
                            "skipped": skipped,
                            "answered_at": answered_at,
                        },
                    )
                ).scalar()
                if inserted is None:
                    return False
                moved = await conn.execute(
                    update(surveys_t)
                    .where(
                        surveys_t.c.id == survey.id,
                        # a takeover may have given the survey to another chat meanwhile
                        surveys_t.c.chat_id == survey.chat_id,
                        surveys_t.c.status.in_(OPEN_SURVEY),
                        surveys_t.c.current_code == question_code,
                    )
                    .values(
                        status="completed" if next_code is None else "in_progress",
                        current_code=next_code,
                        prompt_message_id=None,
                        draft_choices=None,
                        started_at=func.coalesce(surveys_t.c.started_at, now),
                        completed_at=now if next_code is None else None,
                        updated_at=now,
                    )
                )
                if moved.rowcount != 1:
                    await conn.rollback()
                    return False
                await enqueue(conn, intents, now=now)
        return True

    async def set_draft(self, survey_id: int, choices: Sequence[str], *, now: datetime) -> None:
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(surveys_t)
                    .where(surveys_t.c.id == survey_id)
                    .values(draft_choices=list(choices), updated_at=now)
                )

    async def due_for_start(self, statuses: Sequence[int]) -> list[tuple[str, int, str]]:
        """Linked cases at a survey status without a survey: (case code, chat id, procedure)."""
        stmt = (
            select(links_t.c.case_code, links_t.c.chat_id, procedures_t.c.name)
            .join(cases_t, cases_t.c.code == links_t.c.case_code)
            .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
            .join(chats_t, chats_t.c.id == links_t.c.chat_id)
            .outerjoin(surveys_t, surveys_t.c.case_code == links_t.c.case_code)
            .where(
                surveys_t.c.id.is_(None),
                cases_t.c.status.in_(list(statuses)),
                chats_t.c.opted_out.is_(False),
                chats_t.c.blocked_at.is_(None),
            )
            .limit(START_BATCH)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [(r.case_code, int(r.chat_id), str(r.name)) for r in rows]

    async def expire(self, *, now: datetime) -> int:
        """End open surveys whose invitation has expired."""
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    update(surveys_t)
                    .where(surveys_t.c.status.in_(OPEN_SURVEY), surveys_t.c.expires_at <= now)
                    .values(status="expired", updated_at=now)
                )
        return int(result.rowcount or 0)

    async def due_reminders(self, *, invited_before: datetime, now: datetime) -> list[SurveyRow]:
        stmt = (
            select(*_SURVEY_COLUMNS)
            .join(chats_t, chats_t.c.id == surveys_t.c.chat_id)
            .where(
                surveys_t.c.status.in_(OPEN_SURVEY),
                surveys_t.c.reminded_at.is_(None),
                surveys_t.c.invited_at <= invited_before,
                surveys_t.c.expires_at > now,
                chats_t.c.blocked_at.is_(None),
                chats_t.c.opted_out.is_(False),
            )
            .limit(1000)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [_survey(r) for r in (await conn.execute(stmt)).all()]

    async def remind(
        self, survey_id: int, *, now: datetime, intents: Sequence[OutboxIntent]
    ) -> bool:
        with translate_errors():
            async with self.engine.begin() as conn:
                marked = await conn.execute(
                    update(surveys_t)
                    .where(surveys_t.c.id == survey_id, surveys_t.c.reminded_at.is_(None))
                    .values(reminded_at=now)
                )
                if marked.rowcount != 1:
                    return False
                await enqueue(conn, intents, now=now)
        return True

    async def survey_summary(self, case_code: str) -> tuple[str, int] | None:
        """(status, number of answers) of a case's survey for the read API."""
        stmt = (
            select(surveys_t.c.status, func.count(answers_t.c.id))
            .outerjoin(
                answers_t,
                and_(answers_t.c.survey_id == surveys_t.c.id, answers_t.c.skipped.is_(False)),
            )
            .where(surveys_t.c.case_code == case_code)
            .group_by(surveys_t.c.status)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else (str(row[0]), int(row[1]))

    async def consume_events(
        self,
        *,
        cursor: str,
        limit: int,
        build: Callable[[list[EventForChat]], Sequence[OutboxIntent]],
        now: datetime,
    ) -> int:
        """Feed inbox events after `cursor` to `build` and queue its intents, exactly once.

        The cursor row is locked for the transaction, so replicas take turns; events of cases
        no chat follows (or whose chat opted out) still advance the cursor.
        """
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    self._insert(cursors_t)
                    .values(name=cursor, position=0)
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                position_stmt = select(cursors_t.c.position).where(cursors_t.c.name == cursor)
                if not is_sqlite(str(self.engine.url)):
                    position_stmt = position_stmt.with_for_update()
                position = int((await conn.execute(position_stmt)).scalar_one())
                window = {"position": position, "limit": limit}
                seen, end = (await conn.execute(_EVENTS_WINDOW, window)).one()
                if not seen:
                    return 0
                # Only events of followed cases come back: most cases have no chat, and
                # reading every event's payload cost more than storing it.
                rows = (
                    await conn.execute(_FOLLOWED_EVENTS, {"position": position, "end": end})
                ).all()
                followed = [EventForChat(**r._mapping) for r in rows]
                intents = build(followed) if followed else []
                await enqueue(conn, intents, now=now)
                await conn.execute(
                    update(cursors_t).where(cursors_t.c.name == cursor).values(position=end)
                )
        return int(seen)


@dataclass(frozen=True, slots=True)
class EventForChat:
    """An inbox event of a case some chat follows, with what its notices need."""

    event_id: int
    case_code: str
    event_status: int
    payload: dict[str, Any]
    case_status: int
    received_at: datetime
    promised_at: datetime | None
    promised_new_at: datetime | None
    due_at: datetime | None
    processing_unit: str | None
    procedure_name: str
    agency_name: str
    applicant_name: str | None
    chat_id: int


_WINDOW = (
    select(events_t.c.id)
    .where(events_t.c.id > bindparam("position"))
    .order_by(events_t.c.id)
    .limit(bindparam("limit"))
    .subquery("window")
)
# How many events follow the cursor (at most `limit`) and the id of the last of them.
_EVENTS_WINDOW = select(func.count(), func.max(_WINDOW.c.id))

_FOLLOWED_EVENTS = (
    select(
        events_t.c.id.label("event_id"),
        events_t.c.case_code,
        events_t.c.status.label("event_status"),
        events_t.c.payload,
        cases_t.c.status.label("case_status"),
        cases_t.c.received_at,
        cases_t.c.promised_at,
        cases_t.c.promised_new_at,
        cases_t.c.due_at,
        cases_t.c.processing_unit,
        procedures_t.c.name.label("procedure_name"),
        agencies_t.c.name.label("agency_name"),
        contacts_t.c.applicant_name,
        links_t.c.chat_id,
    )
    .join(links_t, links_t.c.case_code == events_t.c.case_code)
    .join(chats_t, chats_t.c.id == links_t.c.chat_id)
    .join(cases_t, cases_t.c.code == events_t.c.case_code)
    .join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code)
    .join(agencies_t, agencies_t.c.code == cases_t.c.agency_code)
    .outerjoin(contacts_t, contacts_t.c.case_code == cases_t.c.code)
    .where(
        events_t.c.id > bindparam("position"),
        events_t.c.id <= bindparam("end"),
        chats_t.c.opted_out.is_(False),
    )
    .order_by(events_t.c.id)
)


__all__ = ["AnswerRow", "CaseInfo", "ChatRow", "EventForChat", "SurveyRow", "SurveyStore"]
