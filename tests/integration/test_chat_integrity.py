"""Who a case's survey belongs to: a chat that proves the case's phone number takes the case over
from a chat that only scanned the receipt, the displaced chat is told once and gets nothing more,
and its answers do not count as the citizen's.

Driven through the real Telegram handlers, services and storage (SQLite and PostgreSQL); see
`tests/integration/chat_bench.py`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import func, select

from bot.telegram.render import press_data
from bot.texts import chat_text
from storage.alerts import AlertStore
from storage.models import Answer
from tests.integration.chat_bench import Bench, chat_bench

answers_t = Answer.__table__  # type: ignore[attr-defined]

PHONE = "0912345678"  # the case's SoDienThoai (tests.support.dossier)
SHARED = "+84 91 234 5678"  # the same number as Telegram shares it
OFFICER, CITIZEN, OTHER = 501, 502, 503


async def open_survey(bench: Bench, code: str) -> int:
    """Move the case to the survey status; return its survey's id."""
    await bench.event(code, 10, NgayTra="20261005090000")
    await bench.settle()
    case = await bench.services.linking.links.case_by_code(code)
    assert case is not None and case.survey_id is not None
    return case.survey_id


async def answers_of(bench: Bench, survey_id: int) -> int:
    async with bench.services.engine.connect() as conn:
        stmt = select(func.count()).where(answers_t.c.survey_id == survey_id)
        return int((await conn.execute(stmt)).scalar_one())


async def test_a_phone_proof_takes_the_case_and_its_survey_from_a_token_holder(
    migrated_url: str,
) -> None:
    async with chat_bench(migrated_url) as bench:
        payload = await bench.case("C-1")
        other = await bench.case("C-2")
        # The officer scans both receipts before handing them over and rates himself.
        await bench.start(OFFICER, payload)
        await bench.start(OFFICER, other)
        await bench.event("C-2", 2)  # a notice still waiting to go to the officer
        survey_id = await open_survey(bench, "C-1")
        assert [q.kind for q in await bench.queued(OFFICER)].count("notice") == 1
        question = await bench.latest_question(OFFICER)
        assert question is not None
        assert await bench.press(OFFICER, press_data(survey_id, str(question["code"]), "5")) is None
        assert await answers_of(bench, survey_id) == 1

        # The applicant shares their own phone number: both cases are theirs now.
        await bench.contact(CITIZEN, SHARED)
        citizen = await bench.texts(CITIZEN)
        assert citizen[0] == chat_text("vi", "contact_linked", count=2, codes="C-1, C-2")
        invitation = citizen[-1]
        assert "C-1" in invitation and "Câu 1/" in invitation  # the survey from the start
        assert await answers_of(bench, survey_id) == 0  # the officer's answer does not count
        survey = await bench.services.surveys.surveys.survey(survey_id)
        assert survey is not None and survey[0].status == "invited"

        # The officer is told once per case, and what waited for him about them is dropped.
        officer = await bench.queued(OFFICER)
        assert [q.text for q in officer if q.kind == "text"][-2:] == [
            chat_text("vi", "link_moved", code="C-1"),
            chat_text("vi", "link_moved", code="C-2"),
        ]
        assert not [q for q in officer if q.kind in ("question", "notice")]
        cancelled = await bench.queued(OFFICER, status="cancelled")
        assert {q.kind for q in cancelled} == {"notice", "question"}

        # His buttons, text, /status and links for these cases no longer work.
        stale = chat_text("vi", "stale_button")
        assert await bench.press(OFFICER, press_data(survey_id, str(question["code"]), "4")) == (
            stale
        )
        assert await answers_of(bench, survey_id) == 0
        before = len(await bench.texts(OFFICER))
        await bench.text(OFFICER, "5")
        await bench.text(OFFICER, "/status C-1")
        await bench.start(OFFICER, payload)
        assert (await bench.texts(OFFICER))[before:] == [
            chat_text("vi", "no_survey"),
            chat_text("vi", "status_not_linked", code="C-1"),
            chat_text("vi", "link_taken"),
        ]

        # Notices now reach the applicant only.
        await bench.event("C-2", 5)
        await bench.settle()
        assert [q.payload["status"] for q in await bench.queued(CITIZEN) if q.kind == "notice"] == [
            5
        ]
        assert not [q for q in await bench.queued(OFFICER) if q.kind == "notice"]
        links = bench.services.linking.links
        history = await links.history("C-1")
        chat_ids = await _chat_ids(bench, OFFICER, CITIZEN)
        assert [(h.kind, h.how, h.chat_id, h.previous_chat_id) for h in history] == [
            ("link", "token", chat_ids[OFFICER], None),
            ("takeover", "phone", chat_ids[CITIZEN], chat_ids[OFFICER]),
        ]
        assert history[1].discarded == [[question["code"], 5]]

        # The applicant answers; another account with the same number cannot take it again,
        # and neither can the token.
        assert await bench.answer_survey(CITIZEN) > 5
        summary = await bench.services.surveys.surveys.survey_summary("C-1")
        assert summary is not None and summary[0] == "completed" and summary[1] > 5
        await bench.contact(OTHER, SHARED)
        await bench.start(OTHER, payload)
        assert (await bench.texts(OTHER))[-1] == chat_text("vi", "link_taken")
        assert [h.kind for h in await links.history("C-1")] == ["link", "takeover"]


async def test_the_displaced_chat_is_told_in_its_language_and_a_finished_survey_stays(
    migrated_url: str,
) -> None:
    async with chat_bench(migrated_url) as bench:
        payload = await bench.case("C-3")
        bench.fake.add_user(OFFICER, language_code="en")
        await bench.start(OFFICER, payload)
        survey_id = await open_survey(bench, "C-3")
        await bench.answer_survey(OFFICER)
        answered = await answers_of(bench, survey_id)
        assert answered > 5

        await bench.contact(CITIZEN, SHARED)
        assert (await bench.texts(OFFICER))[-1] == chat_text("en", "link_moved", code="C-3")
        assert chat_text("en", "link_moved", code="C-3").startswith("Case C-3 has moved")
        # Finished before anyone proved the phone: kept, and the takeover recorded beside it.
        summary = await bench.services.surveys.surveys.survey_summary("C-3")
        assert summary is not None and summary[0] == "completed"
        assert await answers_of(bench, survey_id) == answered
        history = await bench.services.linking.links.history("C-3")
        assert [h.kind for h in history] == ["link", "takeover"] and history[1].discarded is None
        # A complaint follow-up would no longer reach the displaced chat.
        alerts = AlertStore(bench.services.engine)
        assert await alerts.survey_chat(survey_id) is None
        # The applicant's chat has the case but no survey to answer.
        assert (await bench.texts(CITIZEN))[-1] == chat_text(
            "vi", "contact_linked", count=1, codes="C-3"
        )


async def test_a_token_never_takes_a_case_linked_by_phone(migrated_url: str) -> None:
    async with chat_bench(migrated_url) as bench:
        payload = await bench.case("C-4")
        await bench.contact(CITIZEN, SHARED)
        await bench.start(OFFICER, payload)
        assert (await bench.texts(OFFICER))[-1] == chat_text("vi", "link_taken")
        # The same chat proving the phone after its token link is a confirmation, not a move.
        other = await bench.case("C-5", SoDienThoai="0987654321")
        await bench.start(OTHER, other)
        await bench.contact(OTHER, "0987654321")
        history = await bench.services.linking.links.history("C-5")
        assert [(h.kind, h.how) for h in history] == [("link", "token"), ("confirm", "phone")]
        assert not [t for t in await bench.texts(OTHER) if "C-5 đã được chuyển" in t]


async def test_a_contact_shared_in_a_group_links_nothing(migrated_url: str) -> None:
    async with chat_bench(migrated_url) as bench:
        await bench.case("C-6")
        group = -1001234567
        update = bench.fake.user_shares_contact(CITIZEN, SHARED)
        message = update["message"]
        message["chat"] = {"id": group, "type": "group", "title": "Tổ dân phố 3"}
        await bench.feed(update)
        assert await bench.texts(group) == [chat_text("vi", "contact_private")]
        assert await bench.services.linking.links.history("C-6") == []
        info = await bench.services.linking.links.case_by_code("C-6")
        assert info is not None and info.linked_chat is None


def _now(bench: Bench) -> datetime:
    return bench.services.clock.utcnow()


async def _chat_ids(bench: Bench, *externals: int) -> dict[int, int]:
    found = {}
    for external in externals:
        row = await bench.services.surveys.chats.chat(
            channel="telegram", external_id=str(external), language="vi", now=_now(bench)
        )
        found[external] = row.id
    return found


async def test_takeover_races_have_one_winner_and_a_stale_answer_does_not_land(
    migrated_url: str,
) -> None:
    async with chat_bench(migrated_url) as bench:
        payload = await bench.case("C-7")
        await bench.start(OFFICER, payload)
        survey_id = await open_survey(bench, "C-7")
        service = bench.services.surveys
        found = await service.surveys.survey(survey_id)
        assert found is not None
        stale, _ = found  # what the officer's answer was about to be recorded against
        case = await bench.services.linking.links.case_by_code("C-7")
        assert case is not None
        ids = await _chat_ids(bench, CITIZEN, OTHER)
        held = await asyncio.gather(
            bench.services.linking.link_by_phone(case, ids[CITIZEN]),
            bench.services.linking.link_by_phone(case, ids[OTHER]),
        )
        winners = [h for h in held if h is not None]
        assert len(winners) == 1
        history = await bench.services.linking.links.history("C-7")
        assert [h.kind for h in history] == ["link", "takeover"]
        assert winners[0].linked_chat == history[1].chat_id
        recorded = await service.surveys.record_answer(
            stale,
            question_code=stale.current_code or "",
            value_int=5,
            value_text=None,
            choices=None,
            skipped=False,
            answered_at=bench.services.clock.local_now(),
            next_code="F2",
            now=_now(bench),
            intents=[],
        )
        assert not recorded
        assert await answers_of(bench, survey_id) == 0
