"""The web survey page's hot path on the raw driver: `WebSurveyStore`'s reads and its one
write, with statements compiled once (`storage.rawsql`), as the intake does.

- `page(token_hash)`: the case behind a citizen's link (only links made with a configured key),
  its procedure name, its survey and when the case first reached a survey status, in one
  statement; the survey's answers in a second one only when a chat opened the survey and it is
  still open (the web finishes what the chat left).
- `complete(...)`: exactly `WebSurveyStore.complete` — the same rows, the same guards, the
  same transaction — in one writer-thread hop (SQLite) or on one pooled connection
  (PostgreSQL).

SQLAlchemy's per-statement work (cache key, parameters, result rows, pool checkout and reset)
cost the page about a millisecond of CPU a statement: more than the database. The rows written
are byte for byte those of `WebSurveyStore` (JSON `null` in `choices` for an answer without
picks, times in SQLAlchemy's SQLite text format), which `tests/integration/test_web_survey_
driver.py` checks against it.

SQLite: one connection of its own on one thread (WAL: its reads never wait for a writer; its
writes take the lock at `BEGIN IMMEDIATE`, like the intake's writer). An in-memory SQLite
database cannot be shared with another connection: `WebSurveyDriver.usable` is False then and
the page keeps `WebSurveyStore`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    null,
    select,
    update,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement, ColumnElement, Select

from storage.cases import CaseState
from storage.db import dialect_insert, is_sqlite
from storage.errors import translate_errors
from storage.models import Case, Procedure
from storage.outbox import PENDING
from storage.rawsql import Compiled, SqliteWriter, compile_statement, create_pg_pool
from storage.surveys import OPEN_SURVEY, AnswerRow
from storage.web_surveys import (
    WEB_SOURCE,
    WebCaseState,
    WebSurveyRow,
    answers_t,
    events_t,
    outbox_t,
    surveys_t,
)

cases_t = Case.__table__  # type: ignore[attr-defined]
procedures_t = Procedure.__table__  # type: ignore[attr-defined]
_CASE_FIELDS = tuple(CaseState.__dataclass_fields__)
_SURVEY_FIELDS = (
    "id",
    "case_code",
    "chat_id",
    "source",
    "questionnaire_version",
    "status",
    "current_code",
    "expires_at",
)
# Answers inserted by one statement at most (a questionnaire holds far fewer questions).
_MAX_ANSWERS = 200


class _Rollback(Exception):
    """A guard failed: nothing of the transaction is kept."""


@dataclass(frozen=True, slots=True)
class WebPage:
    """What the page of a link needs: the case, its procedure's name, its survey state."""

    case: CaseState
    procedure: str
    state: WebCaseState


def _json_text(value: Any) -> str:
    """A JSON column's value as SQLAlchemy's JSON type writes it (None is JSON `null`)."""
    return json.dumps(value)


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True, slots=True)
class _Query:
    """A compiled SELECT and the converters of its result columns (None: as the driver gives)."""

    compiled: Compiled
    converters: tuple[Callable[[Any], Any] | None, ...]

    def convert(self, row: Sequence[Any]) -> list[Any]:
        return [
            value if conv is None or value is None else conv(value)
            for value, conv in zip(row, self.converters, strict=True)
        ]


def _query(statement: Select[Any], dialect: Dialect, json_columns: Collection[str] = ()) -> _Query:
    converters: list[Callable[[Any], Any] | None] = []
    for column in statement.selected_columns:
        if column.key in json_columns:
            converters.append(_json_value)
        else:
            kind = column.type.dialect_impl(dialect)
            converters.append(kind.result_processor(dialect, None))
    return _Query(compile_statement(statement, dialect), tuple(converters))


class WebSurveyDriver:
    """The page's statements, compiled once for the engine's database; `close` on shutdown.

    `key_ids`: the configured link keys (a link made with any other finds nothing, as
    `CaseReader.by_link`); `statuses`: the survey statuses (`SurveyService.survey_statuses`)."""

    def __init__(
        self, engine: AsyncEngine, *, key_ids: Collection[str], statuses: Sequence[int]
    ) -> None:
        self._url = engine.url.render_as_string(hide_password=False)
        self._sqlite = is_sqlite(self._url)
        database = make_url(self._url).database
        self.usable = not self._sqlite or bool(database and database != ":memory:")
        self._key_ids = tuple(key_ids)
        self._statuses = tuple(statuses)
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._lite = SqliteWriter(database or "") if self._sqlite and self.usable else None
        dialect = engine.dialect
        self._dialect = dialect
        self._by_link = _query(self._page_select(by_link=True), dialect)
        self._by_code = _query(self._page_select(by_link=False), dialect)
        answers = (
            select(
                answers_t.c.question_code,
                answers_t.c.value_int,
                answers_t.c.value_text,
                answers_t.c.choices,
                answers_t.c.skipped,
            )
            .where(answers_t.c.survey_id == bindparam("survey_id", type_=Integer()))
            .order_by(answers_t.c.id)
        )
        self._answers = _query(answers, dialect, json_columns=("choices",))
        insert = dialect_insert(engine)
        now = bindparam("now", type_=DateTime())
        self._open = compile_statement(
            insert(surveys_t)
            .values(
                case_code=bindparam("case_code", type_=String()),
                chat_id=None,
                source=WEB_SOURCE,
                questionnaire_version=bindparam("version", type_=Integer()),
                status="completed",
                current_code=None,
                invited_at=now,
                started_at=now,
                completed_at=now,
                expires_at=bindparam("expires_at", type_=DateTime()),
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["case_code"])
            .returning(surveys_t.c.id),
            dialect,
        )
        self._move = compile_statement(
            update(surveys_t)
            .where(
                surveys_t.c.id == bindparam("survey_id", type_=Integer()),
                surveys_t.c.status.in_([bindparam(f"open_{s}", s) for s in OPEN_SURVEY]),
                surveys_t.c.expires_at > now,
                surveys_t.c.current_code.is_not_distinct_from(
                    bindparam("guard_code", type_=String())
                ),
                surveys_t.c.chat_id.is_not_distinct_from(bindparam("guard_chat", type_=Integer())),
            )
            .values(
                status="completed",
                current_code=None,
                prompt_message_id=None,
                # JSON `null`, as SQLAlchemy's JSON type writes None (WebSurveyStore)
                draft_choices=self._json_param("no_draft", _json_text(None)),
                started_at=func.coalesce(surveys_t.c.started_at, now),
                completed_at=now,
                updated_at=now,
            ),
            dialect,
        )
        self._cancel = compile_statement(
            update(outbox_t)
            .where(
                outbox_t.c.survey_id == bindparam("survey_id", type_=Integer()),
                outbox_t.c.status == PENDING,
            )
            .values(status="cancelled", last_error="survey answered on the web"),
            dialect,
        )
        self._insert = insert
        self._answer_inserts: dict[int, Compiled] = {}

    def _page_select(self, *, by_link: bool) -> Select[Any]:
        """The case, its procedure, its survey (outer join) and when it reached a survey
        status; by link (configured keys only) or by case code."""
        if self._statuses:
            reached: ClauseElement = (
                select(func.min(events_t.c.recorded_at))
                .where(
                    events_t.c.case_code == cases_t.c.code,
                    events_t.c.status.in_(
                        [bindparam(f"status_{i}", s) for i, s in enumerate(self._statuses)]
                    ),
                )
                .scalar_subquery()
            )
        else:
            reached = null()
        columns = [
            *(cases_t.c[name] for name in _CASE_FIELDS),
            procedures_t.c.name.label("procedure_name"),
            *(surveys_t.c[name].label(f"survey_{name}") for name in _SURVEY_FIELDS),
            reached.label("reached_at"),  # type: ignore[attr-defined]
        ]
        statement = select(*columns).select_from(
            cases_t.join(procedures_t, procedures_t.c.code == cases_t.c.procedure_code).outerjoin(
                surveys_t, surveys_t.c.case_code == cases_t.c.code
            )
        )
        if by_link:
            keys: list[ColumnElement[Any]] = [
                bindparam(f"key_{i}", k, type_=String())
                for i, k in enumerate(self._key_ids or ("",))
            ]
            return statement.where(
                and_(
                    cases_t.c.link_token_hash == bindparam("token_hash", type_=String()),
                    cases_t.c.link_key_id.in_(keys),
                )
            )
        return statement.where(cases_t.c.code == bindparam("code", type_=String()))

    # -- the driver -------------------------------------------------------------------------

    async def _pg(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await create_pg_pool(self._url, min_size=1, max_size=10)
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._lite is not None:
            await self._lite.close()

    # -- reads ------------------------------------------------------------------------------

    def _state(self, row: list[Any]) -> tuple[CaseState, str, WebSurveyRow | None, Any]:
        n = len(_CASE_FIELDS)
        case = CaseState(*row[:n])
        procedure = row[n]
        survey_values = row[n + 1 : n + 1 + len(_SURVEY_FIELDS)]
        reached_at = row[-1]
        survey = None
        if survey_values[0] is not None:
            sid, code, chat_id, source, version, status, current, expires_at = survey_values
            survey = WebSurveyRow(
                id=int(sid),
                case_code=code,
                chat_id=None if chat_id is None else int(chat_id),
                source=source,
                version=int(version),
                status=status,
                current_code=current,
                expires_at=expires_at,
            )
        return case, procedure, survey, reached_at

    def _answer_rows(self, rows: Sequence[Sequence[Any]]) -> list[AnswerRow]:
        answers = []
        for raw in rows:
            code, value_int, value_text, choices, skipped = self._answers.convert(raw)
            answers.append(
                AnswerRow(
                    question_code=code,
                    value_int=value_int,
                    value_text=value_text,
                    choices=None if choices is None else tuple(choices),
                    skipped=bool(skipped),
                )
            )
        return answers

    async def _lookup(self, query: _Query, params: dict[str, Any]) -> WebPage | None:
        """One row of `query` and, for a survey still open, its answers."""
        args = query.compiled.args(params)
        answers_sql = self._answers.compiled.sql
        with translate_errors():
            if self._lite is not None:
                sql = query.compiled.sql

                def read(conn: sqlite3.Connection) -> tuple[Any, list[Any]]:
                    found = conn.execute(sql, args).fetchone()
                    if found is None:
                        return None, []
                    survey_id = found[len(_CASE_FIELDS) + 1]
                    status = found[len(_CASE_FIELDS) + 6]
                    if survey_id is None or status not in OPEN_SURVEY:
                        return found, []
                    return found, conn.execute(answers_sql, (survey_id,)).fetchall()

                found, answer_rows = await self._lite.read(read)
            else:
                pool = await self._pg()
                async with pool.acquire() as conn:
                    found = await conn.fetchrow(query.compiled.sql, *args)
                    answer_rows = []
                    if found is not None:
                        survey_id = found[len(_CASE_FIELDS) + 1]
                        status = found[len(_CASE_FIELDS) + 6]
                        if survey_id is not None and status in OPEN_SURVEY:
                            answer_rows = await conn.fetch(answers_sql, survey_id)
        if found is None:
            return None
        case, procedure, survey, reached_at = self._state(query.convert(found))
        answers = self._answer_rows(answer_rows) if survey is not None else []
        return WebPage(case, procedure, WebCaseState(survey, answers, reached_at))

    async def page(self, token_hash: str) -> WebPage | None:
        """The case behind a link, with its procedure and survey state; None if unknown or
        made with a key no longer configured."""
        if not self._key_ids:
            return None
        return await self._lookup(self._by_link, {"token_hash": token_hash})

    async def state(self, case_code: str, statuses: Sequence[int]) -> WebCaseState:
        """`WebSurveyStore.state` (the survey statuses are the ones given at construction)."""
        assert tuple(statuses) == self._statuses, "the driver was built for other statuses"
        found = await self._lookup(self._by_code, {"code": case_code})
        return found.state if found is not None else WebCaseState(None, [], None)

    # -- the write --------------------------------------------------------------------------

    def _answers_insert(self, count: int) -> Compiled:
        """INSERT of `count` answers in one statement (compiled once per count)."""
        compiled = self._answer_inserts.get(count)
        if compiled is None:
            rows = [
                {
                    "survey_id": bindparam("survey_id", type_=Integer()),
                    "question_code": bindparam(f"q{i}", type_=String()),
                    "value_int": bindparam(f"vi{i}", type_=Integer()),
                    "value_text": bindparam(f"vt{i}", type_=String()),
                    # Serialized here (JSON `null` for None, as SQLAlchemy's JSON type writes)
                    "choices": self._json_param(f"c{i}"),
                    "skipped": bindparam(f"s{i}", type_=Boolean()),
                    "answered_at": bindparam("answered_at", type_=DateTime()),
                }
                for i in range(count)
            ]
            statement = (
                self._insert(answers_t)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["survey_id", "question_code"])
                .returning(answers_t.c.id)
            )
            compiled = compile_statement(statement, self._dialect)
            self._answer_inserts[count] = compiled
        return compiled

    def _json_param(self, name: str, value: Any = None) -> ColumnElement[Any]:
        """A JSON column's parameter given as JSON text (SQLite stores the text as it is;
        PostgreSQL gets it cast to `json`); `value`: its default."""
        text = bindparam(name, value, type_=String())
        return text if self._sqlite else cast(text, JSON)

    def _answer_params(self, answers: Sequence[AnswerRow]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for i, answer in enumerate(answers):
            params[f"q{i}"] = answer.question_code
            params[f"vi{i}"] = answer.value_int
            params[f"vt{i}"] = answer.value_text
            params[f"c{i}"] = _json_text(None if answer.choices is None else list(answer.choices))
            params[f"s{i}"] = bool(answer.skipped)
        return params

    async def complete(
        self,
        case_code: str,
        survey: WebSurveyRow | None,
        *,
        version: int,
        answers: Sequence[AnswerRow],
        answered_at: datetime,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        """`WebSurveyStore.complete`: store `answers` and complete the case's survey in one
        transaction; its id, or None (nothing stored) when the survey changed meanwhile."""
        if len(answers) > _MAX_ANSWERS:
            raise ValueError("too many answers for one form")
        base = {"now": now, "answered_at": answered_at, **self._answer_params(answers)}
        insert = self._answers_insert(len(answers)) if answers else None
        if survey is None:
            opening = self._open.args(
                {"case_code": case_code, "version": version, "now": now, "expires_at": expires_at}
            )
        else:
            guard = {
                "survey_id": survey.id,
                "now": now,
                "guard_code": survey.current_code,
                "guard_chat": survey.chat_id,
            }
            moving = self._move.args(guard)
            cancelling = self._cancel.args({"survey_id": survey.id})
        try:
            with translate_errors():
                if self._lite is not None:

                    def write(conn: sqlite3.Connection) -> int:
                        if survey is None:
                            opened = conn.execute(self._open.sql, opening).fetchone()
                            if opened is None:
                                raise _Rollback
                            survey_id = int(opened[0])
                        else:
                            survey_id = survey.id
                        if insert is not None:
                            args = insert.args({**base, "survey_id": survey_id})
                            if len(conn.execute(insert.sql, args).fetchall()) != len(answers):
                                raise _Rollback
                        if survey is not None:
                            if conn.execute(self._move.sql, moving).rowcount != 1:
                                raise _Rollback
                            conn.execute(self._cancel.sql, cancelling)
                        return survey_id

                    return await self._lite.transaction(write)
                pool = await self._pg()
                async with pool.acquire() as conn, conn.transaction():
                    return await self._pg_write(
                        conn,
                        survey,
                        insert,
                        base,
                        len(answers),
                        opening if survey is None else None,
                        None if survey is None else (moving, cancelling),
                    )
        except _Rollback:
            return None

    async def _pg_write(
        self,
        conn: asyncpg.Connection,
        survey: WebSurveyRow | None,
        insert: Compiled | None,
        base: dict[str, Any],
        count: int,
        opening: list[Any] | None,
        guarded: tuple[list[Any], list[Any]] | None,
    ) -> int:
        """The PostgreSQL transaction's statements; raises `_Rollback` when a guard fails."""
        if survey is None:
            assert opening is not None
            opened = await conn.fetchval(self._open.sql, *opening)
            if opened is None:
                raise _Rollback
            survey_id = int(opened)
        else:
            survey_id = survey.id
        if insert is not None:
            inserted = await conn.fetch(insert.sql, *insert.args({**base, "survey_id": survey_id}))
            if len(inserted) != count:
                raise _Rollback
        if guarded is not None:
            moving, cancelling = guarded
            status = await conn.execute(self._move.sql, *moving)
            if status.split()[-1] != "1":
                raise _Rollback
            await conn.execute(self._cancel.sql, *cancelling)
        return survey_id


__all__ = ["WebPage", "WebSurveyDriver"]
