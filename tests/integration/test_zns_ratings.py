"""ZNS ratings in, on real databases: the citizen's stars, by the OA webhook or read back by
the poll, become the case's survey response, alert the heads when low, and count once.

The product's real OA channel (`ZaloOAService`: webhook, inbox, handler, rating intake) runs
in front of the fake OA and the fake ZNS over real HTTP; the ZNS message is sent with the
product's own ZNS client to the fake, whose citizen then rates it. The ZNS survey rows are
opened with the ZNS route's storage (`storage.zns`); heads and the citizens who answer on
Telegram talk through a recording channel named "telegram" (tests.channels.harness).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import ZALO_OA, create_app
from bot.channels.base import Capabilities
from bot.onestop.dossier import validate
from bot.onestop.intake import body_digest
from bot.services import Services
from bot.survey.engine import next_question
from bot.web.keys import SERVICES
from bot.zalo_oa import CHANNEL as OA
from bot.zalo_oa.service import ZaloOAService
from bot.zalo_oa.webhook import WEBHOOK, WEBHOOK_PATH, install
from bot.zns import CASE_PREFIX
from bot.zns import CHANNEL as ZNS
from bot.zns.client import ZnsClient
from bot.zns.poll import LEADER_ROLE, RatingPoll
from bot.zns.ratings import (
    ELSEWHERE,
    EXPIRED,
    MALFORMED,
    RECORDED,
    REPLACED,
    STALE,
    UNKNOWN,
    RatingError,
    rating_of_row,
)
from storage.channel_events import ChannelEventStore
from storage.leader import Leadership
from storage.surveys import AnswerRow
from storage.zns import ZnsStore
from tests.channels.harness import Conversation, conversation
from tests.channels.reference import RecordingChannel
from tests.conftest import make_settings
from tests.fakes.zalo_oa_api import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_OA_ID,
    DEFAULT_OA_SECRET_KEY,
    FakeZaloOA,
)
from tests.fakes.zalo_zns_api import (
    DEFAULT_TEMPLATE_IDS,
    FakeZaloZNS,
    ZnsMessage,
    templates_setting,
)
from tests.fakes.zalo_zns_events import HIGH_STARS, LOW_STARS
from tests.support import API_TOKEN, bearer, dossier

CODE = "H12.22-261001-0001"
OTHER_CODE = "H12.22-261001-0002"
AGENCY = dossier()["MaCoQuan"]
HEAD = "9001"
CITIZEN = "9002"
PHONE = "84912345678"
RATING = DEFAULT_TEMPLATE_IDS["rating"]
TELEGRAM = Capabilities(
    max_buttons=100, edits_in_place=True, command_menus=False, text_limit=4096, asks_phone=True
)


def oa_settings(oa: FakeZaloOA) -> dict[str, Any]:
    return {
        "zalo_oa_id": DEFAULT_OA_ID,
        "zalo_oa_secret_key": DEFAULT_OA_SECRET_KEY,
        "zalo_app_id": DEFAULT_APP_ID,
        "zalo_app_secret": DEFAULT_APP_SECRET,
        "zalo_oa_access_token": oa.access_token,
        "zalo_oa_refresh_token": oa.refresh_token,
        "zalo_oa_api_base_url": oa.url,
        "zalo_oauth_base_url": oa.url,
    }


async def accept(services: Services, payload: dict[str, Any]) -> None:
    """A case delivered by the one-stop system."""
    reply = await services.intake.accept(
        validate(payload),
        key=f"{payload['MaHoSo']}:1",
        body_sha256=body_digest(repr(sorted(payload.items())).encode()),
        payload=payload,
    )
    assert reply.created


async def open_zns_survey(services: Services, code: str) -> int:
    """The ZNS route's survey of `code` (on the case's ZNS chat); its id."""
    store = ZnsStore(services.engine, channel=ZNS, prefix=CASE_PREFIX)
    form = await services.surveys.forms.active()
    first = next_question(form, {})
    assert first is not None
    now = services.clock.utcnow()
    opened = await store.open_surveys(
        [code],
        version=form.version,
        first_code=first.code,
        now=now,
        expires_at=now + services.surveys.expiry,
        intents_for=lambda *_: [],
    )
    assert opened == 1
    return await survey_of(services, code)


async def survey_of(services: Services, code: str) -> int:
    async with services.engine.connect() as conn:
        found = (
            await conn.execute(text("SELECT id FROM surveys WHERE case_code = :c"), {"c": code})
        ).scalar_one()
    return int(found)


async def send_rating(zns: FakeZaloZNS, client: ZnsClient, code: str, tracking: str) -> ZnsMessage:
    """The rating template for `code`, sent by the product's ZNS client; what the fake got."""
    answer = await client.send_template(
        phone=PHONE,
        template_id=RATING,
        template_data={
            "ma_ho_so": code,
            "ten_thu_tuc": "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
            "ten_co_quan": "Trung tâm Phục vụ hành chính công tỉnh",
            "ngay_tra": "05/10/2026",
        },
        tracking_id=tracking,
    )
    assert answer.ok, answer
    return zns.message(str(answer.msg_id))


@dataclass
class World:
    talk: Conversation
    oa: FakeZaloOA
    zns: FakeZaloZNS
    service: ZaloOAService
    client: ZnsClient
    poll: RatingPoll

    @property
    def services(self) -> Services:
        return self.talk.services

    async def case(self, code: str = CODE) -> int:
        """A returned case with a phone and no chat: its ZNS survey, its id."""
        await self.talk.case(code, TrangThaiHoSo=10)
        return await open_zns_survey(self.services, code)

    async def invited(self, code: str = CODE) -> tuple[int, ZnsMessage]:
        survey_id = await self.case(code)
        return survey_id, await send_rating(self.zns, self.client, code, str(survey_id))

    async def rate(self, message: ZnsMessage, stars: int, **rating: Any) -> None:
        """The citizen rates `message`; the product has acted on it once this returns."""
        answer = await self.zns.rate(message, stars, **rating)
        if not rating.get("lose_webhook"):
            assert answer.status == 200, answer
        await self.settle()

    async def settle(self) -> None:
        assert await self.service.inbox.drain(5)
        await self.talk.settle()

    async def answers(self, survey_id: int) -> dict[str, AnswerRow]:
        found = await self.services.surveys.surveys.survey(survey_id)
        assert found is not None
        return {answer.question_code: answer for answer in found[1]}

    async def status(self, survey_id: int) -> str:
        found = await self.services.surveys.surveys.survey(survey_id)
        assert found is not None
        return found[0].status

    async def alerts(self) -> list[tuple[Any, ...]]:
        async with self.services.engine.connect() as conn:
            rows = await conn.execute(text("SELECT kind, survey_id FROM alerts ORDER BY id"))
            return [tuple(row) for row in rows.all()]

    async def head(self) -> None:
        """A head of the cases' agency joins on Telegram (once a case made the agency known)."""
        invite = await self.services.invites.invite("head", AGENCY)
        await self.talk.send_start(HEAD, invite, language="vi")

    def head_alerts(self) -> list[str]:
        return [t for t in self.talk.texts(HEAD) if CODE in t]

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.service.ratings.counts)


@contextlib.asynccontextmanager
async def oa_service(talk: Conversation, oa: FakeZaloOA) -> AsyncIterator[ZaloOAService]:
    """The product's OA channel with its webhook on a local server the fakes post to."""
    service = ZaloOAService(
        talk.settings, talk.services.engine, router=talk.router, services=talk.services
    )
    app = web.Application()
    install(app)
    app[WEBHOOK] = service.webhook
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    oa.webhook_url = str(server.make_url(WEBHOOK_PATH))
    try:
        yield service
    finally:
        await service.stop()
        oa.webhook_url = None
        await server.close()


@pytest.fixture
async def world(migrated_url: str) -> AsyncIterator[World]:
    telegram = RecordingChannel("telegram", TELEGRAM)
    async with FakeZaloOA() as oa, FakeZaloZNS(oa) as zns:
        async with conversation(migrated_url, telegram, **oa_settings(oa)) as talk:
            oa.clock = lambda: talk.clock.now().timestamp()
            async with oa_service(talk, oa) as service:
                client = ZnsClient(base_url=zns.url, tokens=service.tokens)
                poll = RatingPoll(
                    client, service.ratings, template_id=RATING, now=talk.clock.now, page_size=2
                )
                try:
                    yield World(talk, oa, zns, service, client, poll)
                finally:
                    await client.close()


async def test_five_stars_by_webhook_complete_the_survey(world: World) -> None:
    survey_id, message = await world.invited()
    assert await world.status(survey_id) == "invited"
    await world.rate(message, 5)
    assert await world.status(survey_id) == "completed"
    answers = await world.answers(survey_id)
    assert [(a.question_code, a.value_int) for a in answers.values()] == [("OVERALL", 5)]
    assert await world.services.surveys.surveys.survey_summary(CODE) == ("completed", 1)
    assert await world.alerts() == []
    assert world.counts == {RECORDED: 1}


async def test_a_low_rating_alerts_the_heads_and_a_later_one_replaces_it(world: World) -> None:
    survey_id, message = await world.invited()
    await world.head()
    reasons = [LOW_STARS[0], LOW_STARS[2]]
    await world.rate(message, 2, note="Phải chờ cả buổi sáng", feedbacks=reasons)
    answers = await world.answers(survey_id)
    assert answers["OVERALL"].value_int == 2
    comment = answers["COMMENT"].value_text or ""
    assert all(reason in comment for reason in reasons) and "Phải chờ cả buổi sáng" in comment
    assert await world.alerts() == [("low_score", survey_id)]
    (alert,) = world.head_alerts()
    assert "Không hài lòng" in alert, alert
    assert "Phải chờ cả buổi sáng" in alert and LOW_STARS[0] in alert
    assert PHONE not in alert and "Nguyễn Thị Hằng" not in alert

    world.zns.advance(hours=2)
    await world.rate(message, 4, feedbacks=[HIGH_STARS[0]])
    answers = await world.answers(survey_id)
    assert answers["OVERALL"].value_int == 4
    assert answers["COMMENT"].value_text == HIGH_STARS[0]
    assert await world.status(survey_id) == "completed"
    assert await world.alerts() == [("low_score", survey_id)]  # no second alert
    assert len(world.head_alerts()) == 1
    assert world.counts == {RECORDED: 1, REPLACED: 1}


async def test_a_rating_without_a_comment_removes_the_earlier_comment(world: World) -> None:
    survey_id, message = await world.invited()
    await world.rate(message, 3, note="Hướng dẫn chưa rõ ràng")
    assert "COMMENT" in await world.answers(survey_id)
    await world.rate(message, 5)
    answers = await world.answers(survey_id)
    assert set(answers) == {"OVERALL"} and answers["OVERALL"].value_int == 5


async def test_the_same_rating_twice_is_one_response(world: World) -> None:
    survey_id, message = await world.invited()
    await world.head()
    await world.rate(message, 1, feedbacks=[LOW_STARS[1]])
    assert await world.poll.poll_once() == 1  # the poll reads it again: nothing new
    again = await world.zns.redeliver(world.zns.events[-1])
    assert again.status == 200
    await world.settle()
    answers = await world.answers(survey_id)
    assert answers["OVERALL"].value_int == 1 and answers["COMMENT"].value_text == LOW_STARS[1]
    assert await world.services.surveys.surveys.survey_summary(CODE) == ("completed", 2)
    assert await world.alerts() == [("low_score", survey_id)]
    assert len(world.head_alerts()) == 1
    assert world.counts == {RECORDED: 1, STALE: 1}  # the redelivery was never handed on


async def test_a_lost_webhook_is_found_by_the_poll_and_its_late_delivery_changes_nothing(
    world: World,
) -> None:
    lost_id, lost = await world.invited()
    delivered_id, delivered = await world.invited(OTHER_CODE)
    await world.head()
    await world.rate(delivered, 5)
    await world.rate(lost, 2, feedbacks=[LOW_STARS[0]], lose_webhook=True)
    assert await world.status(lost_id) == "invited"

    assert await world.poll.poll_once() == 2  # two pages of one rating each
    await world.settle()
    assert await world.status(lost_id) == "completed"
    assert (await world.answers(lost_id))["OVERALL"].value_int == 2
    assert await world.alerts() == [("low_score", lost_id)]

    late = await world.zns.redeliver(world.zns.lost[-1])
    assert late.status == 200
    await world.settle()
    assert await world.services.surveys.surveys.survey_summary(CODE) == ("completed", 2)
    assert await world.alerts() == [("low_score", lost_id)]
    assert len(world.head_alerts()) == 1
    assert world.counts == {RECORDED: 2, STALE: 2}  # the poll's second look, the late webhook
    assert (await world.answers(delivered_id))["OVERALL"].value_int == 5


async def test_an_older_rating_arriving_last_is_ignored(world: World) -> None:
    survey_id, message = await world.invited()
    await world.rate(message, 2, lose_webhook=True)
    world.zns.advance(minutes=5)
    await world.rate(message, 5)
    await world.zns.redeliver(world.zns.lost[-1])
    await world.settle()
    assert (await world.answers(survey_id))["OVERALL"].value_int == 5
    assert await world.alerts() == []
    assert world.counts == {RECORDED: 1, STALE: 1}


async def test_a_survey_completed_on_telegram_first_is_left_as_it_is(world: World) -> None:
    talk = world.talk
    await talk.start(CITIZEN, await talk.case(CODE, TrangThaiHoSo=10))
    await talk.complete_survey(CITIZEN, level=4)
    survey_id = await survey_of(world.services, CODE)
    before = await world.answers(survey_id)
    assert before["OVERALL"].value_int == 4
    # A ZNS rating invitation naming the same survey (one sent before the citizen linked).
    message = await send_rating(world.zns, world.client, CODE, str(survey_id))
    await world.rate(message, 1, feedbacks=[LOW_STARS[0]])
    assert await world.answers(survey_id) == before
    assert await world.alerts() == []
    assert world.counts == {ELSEWHERE: 1}


async def test_unknown_and_malformed_tracking_ids_are_refused_quietly(world: World) -> None:
    survey_id = await world.case()
    unknown = await send_rating(world.zns, world.client, CODE, str(survey_id + 1000))
    malformed = await send_rating(world.zns, world.client, CODE, "case-H12")
    await world.rate(unknown, 1)
    await world.rate(malformed, 1)
    assert await world.status(survey_id) == "invited"
    assert world.counts == {UNKNOWN: 1, MALFORMED: 1}
    assert await ChannelEventStore(world.services.engine).pending_count(OA) == 0


async def test_a_rating_given_after_expiry_is_refused_one_given_in_time_counts(
    world: World,
) -> None:
    late_id, late = await world.invited()
    in_time_id, in_time = await world.invited(OTHER_CODE)
    world.talk.clock.advance(days=6)
    await world.rate(in_time, 4, lose_webhook=True)
    world.talk.clock.advance(days=2)
    assert await world.talk.sweep() == (2, 0)  # both invitations expired
    await world.rate(late, 5)
    assert await world.status(late_id) == "expired"
    assert await world.poll.poll_once() == 2  # the late one again, and the lost one
    assert await world.status(late_id) == "expired"
    assert await world.status(in_time_id) == "completed"
    assert world.counts == {EXPIRED: 2, RECORDED: 1}


async def test_the_poll_runs_on_one_replica_and_stops(world: World) -> None:
    survey_id, message = await world.invited()
    await world.rate(message, 5, lose_webhook=True)
    engine = world.services.engine
    first = RatingPoll(
        world.client,
        world.service.ratings,
        template_id=RATING,
        interval=60,
        first_delay=0,
        leadership=Leadership(engine, LEADER_ROLE),
        now=world.talk.clock.now,
    )
    first.start()
    await first.wait_for_passes(1)
    assert first.passes == 1 and first.rows == 1
    assert await world.status(survey_id) == "completed"
    second = RatingPoll(
        world.client,
        world.service.ratings,
        template_id=RATING,
        first_delay=0,
        leadership=Leadership(engine, LEADER_ROLE),
        now=world.talk.clock.now,
    )
    second.start()
    await second.wait_for_passes(1)
    await second.stop()
    if world.services.engine.dialect.name == "postgresql":
        assert (second.passes, second.skipped) == (0, 1)  # the first holds the role
    await first.stop()
    after = Leadership(engine, LEADER_ROLE)
    assert await after.acquire()  # given up on stop
    await after.release()


async def test_a_rating_through_the_whole_service_shows_in_the_read_api(
    migrated_url: str,
) -> None:
    async with FakeZaloOA() as oa, FakeZaloZNS(oa) as zns:
        settings = make_settings(
            migrated_url, quiet_hours="", scheduler_enabled=False, **oa_settings(oa)
        )
        async with TestClient(TestServer(create_app(settings))) as http:
            oa.webhook_url = str(http.make_url(WEBHOOK_PATH))
            app = http.app
            services: Services = app[SERVICES]
            await accept(services, dossier(CODE, TrangThaiHoSo=10))
            survey_id = await open_zns_survey(services, CODE)
            client = ZnsClient(base_url=zns.url, tokens=app[ZALO_OA].tokens)
            try:
                message = await send_rating(zns, client, CODE, str(survey_id))
            finally:
                await client.close()
            answer = await zns.rate(message, 5)
            assert answer.status == 200
            assert await app[ZALO_OA].inbox.drain(5)
            response = await http.get(f"/api/v1/cases/{CODE}", headers=bearer(API_TOKEN))
            body = await response.json()
            assert body["survey"]["status"] == "completed" and body["survey"]["answers"] >= 1
            metrics = await (await http.get("/metrics")).text()
            assert 'sipas_zns_ratings_total{outcome="recorded"} 1.0' in metrics


async def test_the_webhook_and_the_poll_taking_one_rating_at_once_count_it_once(
    world: World,
) -> None:
    survey_id, message = await world.invited()
    await world.head()
    await world.rate(message, 1, feedbacks=[LOW_STARS[0]], lose_webhook=True)
    body = dict(world.zns.lost[-1].body)
    intake = world.service.ratings
    outcomes = await asyncio.gather(
        intake.take_event(body), intake.take_row(message.polled()), intake.take_event(body)
    )
    await world.settle()
    assert sorted(outcomes) == [RECORDED, STALE, STALE]
    assert (await world.answers(survey_id))["OVERALL"].value_int == 1
    assert await world.alerts() == [("low_score", survey_id)]
    assert len(world.head_alerts()) == 1


@pytest.mark.parametrize(
    "row",
    [
        {"trackingId": None},
        {"trackingId": "abc"},
        {"trackingId": "0"},
        {"trackingId": "9" * 30},
        {"rate": 6},
        {"rate": True},
        {"rate": "năm"},
        {"submitDate": "soon"},
        {"submitDate": -5},
    ],
)
def test_unreadable_ratings_are_refused(row: dict[str, Any]) -> None:
    good = {"msgId": "m1", "trackingId": "12", "rate": 3, "note": "", "submitDate": "1"}
    with pytest.raises(RatingError):
        rating_of_row({**good, **row})


def test_a_rating_keeps_the_citizens_words_without_control_characters() -> None:
    rating = rating_of_row(
        {
            "msgId": "m1",
            "trackingId": "12",
            "rate": "2",
            "note": " Chờ\x00 lâu\nquá ",
            "feedbacks": ["Giải quyết chậm", 7, "", "Cán bộ thiếu nhiệt tình"],
            "submitDate": "1759633200123",
        }
    )
    assert (rating.survey_id, rating.rate, rating.submitted_ms) == (12, 2, 1759633200123)
    assert rating.comment() == "Giải quyết chậm; Cán bộ thiếu nhiệt tình\nChờ lâu\nquá"


async def test_the_poll_follows_the_settings(world: World) -> None:
    survey_id, message = await world.invited()
    await world.rate(message, 3, lose_webhook=True)
    engine = world.services.engine

    def poll(templates: str) -> RatingPoll | None:
        settings = world.talk.settings.model_copy(update={"zalo_zns_templates": templates})
        return RatingPoll.from_settings(
            settings,
            engine,
            source=world.client,
            intake=world.service.ratings,
            now=world.talk.clock.now,
        )

    assert poll(templates_setting({"invite": DEFAULT_TEMPLATE_IDS["invite"]})) is None
    found = poll(templates_setting())
    assert found is not None
    assert await found.poll_once() == 1
    assert (await world.answers(survey_id))["OVERALL"].value_int == 3
