"""The web page's raw-driver store (`storage.web_survey_driver`) against the SQLAlchemy one
(`storage.web_surveys`) on SQLite and PostgreSQL: the same rows written, the same state read,
the same guards; and the page's alert pre-check (`bot.survey.web_form`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.models import Agency, Case, CaseEvent, Chat, OutboxMessage, Procedure, Survey
from storage.surveys import AnswerRow
from storage.web_survey_driver import WebSurveyDriver
from storage.web_surveys import WebSurveyStore

NOW = datetime(2026, 10, 5, 4, 1, 2, 345)
LOCAL = datetime(2026, 10, 5, 11, 1, 2)
LATER = datetime(2026, 11, 30)
REACHED = datetime(2026, 10, 1, 8, 30, 0, 123456)
ANSWERS = [
    AnswerRow("F1", 4, None, None, False),
    AnswerRow("F1.WHY", None, None, None, True),
    AnswerRow("EXPECT", None, None, ("E1", "E3"), False),
    AnswerRow("COMMENT", None, "Cán bộ nhiệt tình.\nCảm ơn", None, False),
    AnswerRow("MONEY", 0, None, None, False),
]


def table(model: Any) -> Any:
    return model.__table__


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    async with engine.begin() as conn:
        await conn.execute(insert(table(Agency)).values(code="A", name="Sở A", created_at=NOW))
        await conn.execute(
            insert(table(Procedure)).values(code="P", name="Cấp phép", created_at=NOW)
        )
        for i, code in enumerate(("C1", "C2", "C3", "C4")):
            await conn.execute(
                insert(table(Case)).values(
                    code=code,
                    agency_code="A",
                    procedure_code="P",
                    status=10,
                    received_at=REACHED,
                    due_at=LATER,
                    state_at=NOW,
                    events_count=1,
                    link_token_hash=f"hash-{code}",
                    link_key_id="k1" if i else "retired",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            for status, at in ((5, NOW), (10, REACHED), (10, LATER)):
                await conn.execute(
                    insert(table(CaseEvent)).values(
                        idempotency_key=f"{code}-{status}-{at}",
                        case_code=code,
                        status=status,
                        event_at=at,
                        recorded_at=at,
                        payload={},
                    )
                )
    yield engine
    await engine.dispose()


@pytest.fixture
async def driver(engine: AsyncEngine) -> AsyncIterator[WebSurveyDriver]:
    driver = WebSurveyDriver(engine, key_ids=["k1"], statuses=(10,))
    assert driver.usable
    yield driver
    await driver.close()


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(text(sql), params)).all()]


async def raw_rows_of(engine: AsyncEngine, case_code: str) -> tuple[dict[str, Any], list[Any]]:
    """The survey row and its answer rows as stored (SQLite: the text itself), ids left out."""
    cast = "" if engine.dialect.name == "sqlite" else "::text"
    survey = (
        await rows(
            engine,
            f"SELECT chat_id, source, questionnaire_version, status, current_code, "
            f"invited_at{cast} AS invited_at, started_at{cast} AS started_at, "
            f"completed_at{cast} AS completed_at, expires_at{cast} AS expires_at, "
            f"updated_at{cast} AS updated_at, prompt_message_id, draft_choices{cast} AS draft "
            "FROM surveys WHERE case_code = :code",
            code=case_code,
        )
    )[0]
    answers = await rows(
        engine,
        f"SELECT a.question_code, a.value_int, a.value_text, a.choices{cast} AS choices, "
        f"a.choices IS NULL AS no_choices, a.skipped, a.answered_at{cast} AS answered_at "
        "FROM answers a JOIN surveys s ON s.id = a.survey_id WHERE s.case_code = :code "
        "ORDER BY a.id",
        code=case_code,
    )
    return survey, answers


async def test_a_new_web_survey_is_stored_as_the_sqlalchemy_store_stores_it(
    engine: AsyncEngine, driver: WebSurveyDriver
) -> None:
    common: dict[str, Any] = {
        "version": 1,
        "answers": ANSWERS,
        "answered_at": LOCAL,
        "now": NOW,
        "expires_at": LATER,
    }
    assert await WebSurveyStore(engine).complete("C1", None, **common) is not None
    assert await driver.complete("C2", None, **common) is not None
    assert await raw_rows_of(engine, "C2") == await raw_rows_of(engine, "C1")
    # a second opening finds the survey there: nothing stored
    assert await driver.complete("C2", None, **common) is None
    assert len((await raw_rows_of(engine, "C2"))[1]) == len(ANSWERS)


async def test_the_page_reads_what_the_sqlalchemy_store_reads(
    engine: AsyncEngine, driver: WebSurveyDriver
) -> None:
    store = WebSurveyStore(engine)
    # no survey yet: the case, its procedure and the first status-10 delivery
    page = await driver.page("hash-C2")
    assert page is not None
    assert page.case.code == "C2" and page.case.status == 10 and page.case.due_at == LATER
    assert page.case.received_at == REACHED and page.procedure == "Cấp phép"
    assert page.state == await store.state("C2", (10,))
    assert page.state.survey is None and page.state.reached_at == REACHED
    # a chat's survey half done: its row and answers, in order
    survey_id = await open_chat_survey(engine, "C3", current="F2")
    await answer(engine, survey_id, ANSWERS[:3])
    page = await driver.page("hash-C3")
    assert page is not None
    assert page.state == await store.state("C3", (10,))
    assert page.state.survey is not None and page.state.survey.chat_id is not None
    assert [a.question_code for a in page.state.answers] == ["F1", "F1.WHY", "EXPECT"]
    assert page.state.answers[2].choices == ("E1", "E3")
    assert await driver.state("C3", (10,)) == page.state
    # unknown links and links of a retired key find nothing
    assert await driver.page("hash-nope") is None
    assert await driver.page("hash-C1") is None


async def open_chat_survey(engine: AsyncEngine, case_code: str, *, current: str) -> int:
    async with engine.begin() as conn:
        chat_id = (
            await conn.execute(
                insert(table(Chat))
                .values(channel="telegram", external_id=f"x-{case_code}", created_at=NOW)
                .returning(table(Chat).c.id)
            )
        ).scalar_one()
        survey_id = (
            await conn.execute(
                insert(table(Survey))
                .values(
                    case_code=case_code,
                    chat_id=chat_id,
                    source="telegram",
                    questionnaire_version=1,
                    status="in_progress",
                    current_code=current,
                    prompt_message_id="77",
                    draft_choices=["E2"],
                    invited_at=REACHED,
                    started_at=REACHED,
                    expires_at=LATER,
                    updated_at=REACHED,
                )
                .returning(table(Survey).c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(table(OutboxMessage)).values(
                chat_id=chat_id, kind="question", payload={}, status="pending", survey_id=survey_id
            )
        )
    return int(survey_id)


async def answer(engine: AsyncEngine, survey_id: int, answers: list[AnswerRow]) -> None:
    async with engine.begin() as conn:
        for a in answers:
            await conn.execute(
                insert(table(Survey).metadata.tables["answers"]).values(
                    survey_id=survey_id,
                    question_code=a.question_code,
                    value_int=a.value_int,
                    value_text=a.value_text,
                    choices=None if a.choices is None else list(a.choices),
                    skipped=a.skipped,
                    answered_at=LOCAL,
                )
            )


async def test_finishing_a_chat_survey_is_guarded_as_in_the_sqlalchemy_store(
    engine: AsyncEngine, driver: WebSurveyDriver
) -> None:
    for case_code in ("C2", "C3"):
        await answer(engine, await open_chat_survey(engine, case_code, current="F1"), [])
    store = WebSurveyStore(engine)
    rest = ANSWERS[1:]
    states = {code: (await store.state(code, (10,))).survey for code in ("C2", "C3")}
    stale = {code: s for code, s in states.items() if s is not None}
    common: dict[str, Any] = {
        "version": 1,
        "answers": rest,
        "answered_at": LOCAL,
        "now": NOW,
        "expires_at": LATER,
    }
    # the chat moved on meanwhile (another current question): nothing stored
    from dataclasses import replace

    moved = replace(stale["C3"], current_code="F2")
    assert await driver.complete("C3", moved, **common) is None
    assert (await raw_rows_of(engine, "C3"))[1] == []
    # then both stores finish the same way
    assert await store.complete("C2", stale["C2"], **common) == stale["C2"].id
    assert await driver.complete("C3", stale["C3"], **common) == stale["C3"].id
    (web, web_answers), (reference, reference_answers) = [
        await raw_rows_of(engine, code) for code in ("C3", "C2")
    ]
    assert web.pop("chat_id") != reference.pop("chat_id")  # each case its own chat
    assert (web, web_answers) == (reference, reference_answers)
    outbox = await rows(engine, "SELECT status, last_error FROM outbox ORDER BY id")
    assert outbox == [{"status": "cancelled", "last_error": "survey answered on the web"}] * 2
    # completed now: a second try is refused
    assert await driver.complete("C3", stale["C3"], **common) is None


async def test_a_survey_past_its_expiry_is_not_finished(
    engine: AsyncEngine, driver: WebSurveyDriver
) -> None:
    await open_chat_survey(engine, "C2", current="F1")
    survey = (await driver.state("C2", (10,))).survey
    assert survey is not None
    done = await driver.complete(
        "C2", survey, version=1, answers=ANSWERS, answered_at=LOCAL, now=LATER, expires_at=LATER
    )
    assert done is None
    async with engine.connect() as conn:
        status = (
            await conn.execute(
                select(table(Survey).c.status).where(table(Survey).c.case_code == "C2")
            )
        ).scalar_one()
    assert status == "in_progress"
