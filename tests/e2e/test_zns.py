"""The real `sipas serve` with ZNS on, in front of a fake Zalo OA and a fake ZNS sharing its
tokens and clock: the rating template for a case with a phone and no chat, the citizen's
stars back by webhook or by the poll, a redelivered rating, the daily quota, and the phone
number never kept in clear (database files, the process's log)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.conftest import post_event, read_case
from tests.e2e.service import ServiceProcess
from tests.e2e.zalo import *  # noqa: F403 (the fixtures)
from tests.e2e.zalo import (
    DONE,
    WAIT,
    Services,
    ZaloClock,
    eventually,
    file_case,
    http_get,
    metric,
    next_message,
    rows,
    say,
)
from tests.fakes.zalo_oa_api import FakeZaloOA
from tests.fakes.zalo_zns_api import (
    DEFAULT_TEMPLATE_IDS,
    FakeZaloZNS,
    ZnsMessage,
    templates_setting,
)
from tests.fakes.zalo_zns_events import HIGH_STARS, LOW_STARS, ZALO_TZ
from tests.support import dossier

pytestmark = pytest.mark.e2e
RATING = DEFAULT_TEMPLATE_IDS["rating"]
CONTACT_KEY = "c1:e2e-zns-contact-key-0123456789abcdef"
AGENCY = "000.00.01.H12"
HEAD = "4400000000000000777"
ADMIN = "4400000000000000101"
CITIZEN = "2512523625412515"
PHONE = "0912345678"  # the dossier's default SoDienThoai
OTHER_PHONE = "0987654321"
# The forms a phone number could be written in, none of which may be kept in clear.
PHONE_FORMS = ("0912345678", "84912345678", "+84 912 345 678", "912345678", "912 345 678")
NOTE = "Phải chờ cả buổi sáng mới được trả kết quả"


@pytest.fixture
async def zns(zalo_oa: FakeZaloOA) -> AsyncIterator[FakeZaloZNS]:
    """A fake ZNS on the fake OA's tokens, clock and webhook."""
    fake = FakeZaloZNS(zalo_oa)
    await fake.start()
    yield fake
    await fake.stop()


async def serve_zns(
    services: Services, zns: FakeZaloZNS, oa_clock: ZaloClock, **env: str
) -> ServiceProcess:
    """`sipas serve` with ZNS on (every template named, phones sealed), its clock set again to
    the fakes' once it runs: it takes a new instant from the moment it reads the file, so the
    rating poll's window and the fakes' submit times agree within milliseconds."""
    service = await services.start(
        ZALO_ZNS_API_BASE_URL=zns.url,
        ZALO_ZNS_TEMPLATES=templates_setting(),
        SIPAS_CONTACT_KEY=CONTACT_KEY,
        **env,
    )
    oa_clock.set(datetime.fromtimestamp(zns.now_ms() / 1000, ZALO_TZ))
    return service


async def returned(service: ServiceProcess, code: str, **fields: Any) -> None:
    """The case reaches the survey status (its result handed over this morning)."""
    await post_event(service, dossier(code, TrangThaiHoSo=10, **{**DONE, **fields}))


async def rating_sent(zns: FakeZaloZNS, phone: str = PHONE, count: int = 1) -> ZnsMessage:
    return await zns.wait_for_message(phone, template_id=RATING, count=count, timeout=WAIT)


async def survey_of(service: ServiceProcess, code: str) -> dict[str, Any]:
    return dict((await read_case(service, code))["survey"])


async def completed(service: ServiceProcess, code: str) -> dict[str, Any]:
    """The case's survey once the read API shows it completed."""

    async def check() -> dict[str, Any] | None:
        survey = await survey_of(service, code)
        return survey if survey["status"] == "completed" else None

    found: dict[str, Any] = await eventually(check)
    return found


async def metric_reaches(service: ServiceProcess, name: str, value: float, **labels: str) -> None:
    async def check() -> bool:
        _, page = await http_get(service, "/metrics")
        return metric(page, name, **labels) >= value

    await eventually(check)


async def join_as_head(fake: FakeZaloOA) -> None:
    """The admin (`SIPAS_ADMINS`) invites a head of the agency on the OA, who sends the code."""
    invitation = await say(fake, ADMIN, f"/invite head {AGENCY}", "thủ trưởng")
    code = (invitation.text or "").strip().splitlines()[-1]
    confirmed = await say(fake, HEAD, code)
    assert "thủ trưởng" in (confirmed.text or ""), confirmed


# -- 1: a rating by webhook, a low score alerting the head ------------------------------------


async def test_a_low_rating_completes_the_survey_and_alerts_the_head(
    oa_service: Services, zalo_oa: FakeZaloOA, zns: FakeZaloZNS, oa_clock: ZaloClock
) -> None:
    service = await serve_zns(oa_service, zns, oa_clock, SIPAS_ADMINS=f"zalo_oa:{ADMIN}")
    await file_case(service, "HS-Z1")
    await join_as_head(zalo_oa)
    await returned(service, "HS-Z1")

    message = await rating_sent(zns)
    assert message.phone == "84912345678"
    assert message.template_data == {
        "ma_ho_so": "HS-Z1",
        "ten_thu_tuc": "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
        "ten_co_quan": "Trung tâm Phục vụ hành chính công tỉnh",
        "ngay_tra": "05/10/2026",
    }
    assert message.tracking_id is not None and message.tracking_id.isdigit()
    assert (await survey_of(service, "HS-Z1"))["status"] == "invited"

    before = len(zalo_oa.messages_to(HEAD))
    reasons = [LOW_STARS[0], LOW_STARS[2]]
    answer = await zns.rate(message, 2, NOTE, reasons)
    assert answer.status == 200, answer
    assert await completed(service, "HS-Z1") == {"status": "completed", "answers": 2}

    alert = await next_message(zalo_oa, HEAD, before, "Ý kiến chưa hài lòng", timeout=15)
    text = alert.text or ""
    assert "HS-Z1" in text and "Không hài lòng" in text, text
    assert NOTE in text and LOW_STARS[0] in text, text
    assert not any(form in text for form in PHONE_FORMS) and "Nguyễn Thị Hằng" not in text
    database = str(service.env["SIPAS_DATABASE_URL"])
    assert [row[0] for row in await rows(database, "SELECT kind FROM alerts")] == ["low_score"]
    assert len(zns.sent) == 1 and zalo_oa.messages_to(CITIZEN) == []


# -- 2: a lost webhook, found by the poll ------------------------------------------------------


async def test_a_rating_whose_webhook_was_lost_is_found_by_the_poll(
    oa_service: Services, zalo_oa: FakeZaloOA, zns: FakeZaloZNS, oa_clock: ZaloClock
) -> None:
    service = await serve_zns(oa_service, zns, oa_clock, ZALO_ZNS_POLL_SECONDS="1")
    await returned(service, "HS-Z2")
    message = await rating_sent(zns)
    deliveries = len(zns.deliveries)

    answer = await zns.rate(message, 4, feedbacks=[HIGH_STARS[0]], lose_webhook=True)
    assert answer.status == 0 and zns.lost, answer
    assert await completed(service, "HS-Z2") == {"status": "completed", "answers": 2}
    # No webhook carried it: the product read it back with /rating/get.
    assert len(zns.deliveries) == deliveries
    assert any(c.kind == "rating" and c.ok for c in zns.calls)
    await metric_reaches(service, "sipas_zns_ratings_total", 1, outcome="recorded")


# -- 3: the same rating twice ------------------------------------------------------------------


@pytest.mark.both_databases
async def test_the_same_rating_delivered_twice_is_one_response(
    oa_service: Services, zalo_oa: FakeZaloOA, zns: FakeZaloZNS, oa_clock: ZaloClock
) -> None:
    service = await serve_zns(oa_service, zns, oa_clock)
    await returned(service, "HS-Z3")
    message = await rating_sent(zns)
    await zns.rate(message, 5, "Cán bộ hướng dẫn tận tình", [HIGH_STARS[1]])
    first = await completed(service, "HS-Z3")
    assert first == {"status": "completed", "answers": 2}

    again = await zns.redeliver(zns.events[-1])
    assert again.status == 200, again
    # The redelivery was seen (as a duplicate event, or as a rating already in effect).
    await eventually(lambda: _seen_again(service))
    assert await survey_of(service, "HS-Z3") == first
    database = str(service.env["SIPAS_DATABASE_URL"])
    surveys = await rows(database, "SELECT id FROM surveys WHERE case_code = 'HS-Z3'")
    assert len(surveys) == 1
    _, page = await http_get(service, "/metrics")
    assert metric(page, "sipas_zns_ratings_total", outcome="recorded") == 1
    assert len(zns.sent) == 1


async def _seen_again(service: ServiceProcess) -> bool:
    _, page = await http_get(service, "/metrics")
    duplicate = metric(page, "sipas_zalo_oa_events_duplicate_total", kind="user_feedback")
    stale = metric(page, "sipas_zns_ratings_total", outcome="stale")
    return duplicate + stale >= 1


# -- 4: the daily quota ------------------------------------------------------------------------


async def test_with_the_quota_spent_nothing_goes_out_until_the_next_day(
    oa_service: Services, zalo_oa: FakeZaloOA, zns: FakeZaloZNS, oa_clock: ZaloClock
) -> None:
    service = await serve_zns(oa_service, zns, oa_clock)
    database = str(service.env["SIPAS_DATABASE_URL"])
    zns.set_quota(0)
    await returned(service, "HS-Z4")
    await zns.wait_until(lambda: [c for c in zns.calls if c.kind == "message"], WAIT)
    await returned(service, "HS-Z5", SoDienThoai=OTHER_PHONE)
    # The second invitation waits for the day too, without asking Zalo again.
    waiting = await eventually(lambda: _tried_zns_rows(database, 2))
    assert [row[0] for row in waiting] == ["pending", "pending"], waiting
    assert all("quota" in str(row[1]) for row in waiting), waiting
    calls = [c for c in zns.calls if c.kind == "message"]
    assert [c.error for c in calls] == [-144] and zns.sent == []
    for code in ("HS-Z4", "HS-Z5"):
        assert (await survey_of(service, code))["status"] == "invited"

    # The next morning (past midnight and the quiet hours): both go out, oldest first.
    oa_clock.set(oa_clock.instant.replace(hour=8) + timedelta(days=1))
    first = await rating_sent(zns, PHONE)
    second = await rating_sent(zns, OTHER_PHONE)
    assert [m.template_data["ma_ho_so"] for m in zns.sent] == ["HS-Z4", "HS-Z5"]
    assert first.sent_time <= second.sent_time
    assert zns.quota == (zns.daily_quota, zns.daily_quota - 2)
    await metric_reaches(service, "sipas_zns_quota_refusals_total", 1)


async def _tried_zns_rows(database: str, count: int) -> list[Any]:
    """The ZNS outbox rows (status, last error), once `count` of them were tried and settled."""
    found = await rows(
        database,
        "SELECT o.status, o.last_error, o.attempts FROM outbox o"
        " JOIN chats c ON c.id = o.chat_id WHERE c.channel = 'zns' ORDER BY o.id",
    )
    tried = [row for row in found if row[2] > 0 and row[0] != "sending"]
    return found if len(tried) >= count else []


# -- 5: the phone number is never kept in clear -------------------------------------------------


def _leaks(data: bytes) -> list[str]:
    return [form for form in PHONE_FORMS if form.encode() in data]


@pytest.mark.parametrize("database_kind", ["sqlite"])  # the files searched are SQLite's
async def test_the_phone_number_is_in_no_database_file_and_no_log_line(
    oa_service: Services, zalo_oa: FakeZaloOA, zns: FakeZaloZNS, oa_clock: ZaloClock
) -> None:
    zns.receipts = True  # each ZNS send is followed by a receipt naming the phone
    service = await serve_zns(
        oa_service, zns, oa_clock, ZALO_ZNS_POLL_SECONDS="1", SIPAS_LOG_LEVEL="DEBUG"
    )
    await returned(service, "HS-L1", SoDienThoai="+84 912 345 678")
    await returned(service, "HS-L2", SoDienThoai="84912345678")
    await zns.wait_until(lambda: len(zns.sent) == 2, WAIT)
    await zns.drain()
    by_case = {m.template_data["ma_ho_so"]: m for m in zns.sent}
    assert {m.phone for m in zns.sent} == {"84912345678"}
    rated = await zns.rate(by_case["HS-L1"], 1, "Chờ quá lâu", [LOW_STARS[1]])
    lost = await zns.rate(by_case["HS-L2"], 3, lose_webhook=True)
    for code in ("HS-L1", "HS-L2"):  # by the webhook, by the poll
        await completed(service, code)
    assert (await zns.redeliver(rated.event)).status == 200
    assert (await zns.redeliver(lost.event)).status == 200  # late, after the poll
    # Both receipts (naming the phone) and both ratings were taken in and stored.
    await metric_reaches(
        service, "sipas_zalo_oa_events_accepted_total", 2, kind="user_received_message"
    )
    await metric_reaches(service, "sipas_zalo_oa_events_accepted_total", 2, kind="user_feedback")

    # A citizen on the OA shares the same phone: linked to the case filed with it.
    await file_case(service, "HS-L3", SoDienThoai=PHONE)
    await zalo_oa.send_text(CITIZEN, "xin chào")
    await zalo_oa.wait_until(
        lambda: any(m.kind == "request_user_info" for m in zalo_oa.messages_to(CITIZEN)), WAIT
    )
    before = len(zalo_oa.messages_to(CITIZEN))
    await zalo_oa.submit_info(CITIZEN, "+84 912 345 678")
    linked = await next_message(zalo_oa, CITIZEN, before, "Đã liên kết")
    assert "HS-L3" in (linked.text or ""), linked

    url = make_url(str(service.env["SIPAS_DATABASE_URL"]))
    assert url.database is not None
    db = Path(url.database)
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    assert files[0].exists() and files[1].exists()
    written = b"".join(f.read_bytes() for f in files if f.exists())
    # The search looks at the right files: the cases and the sealed contacts are in them.
    assert b"HS-L1" in written and b"HS-L3" in written
    database = str(service.env["SIPAS_DATABASE_URL"])
    assert len(await rows(database, "SELECT case_code FROM case_contacts")) >= 3
    running = {str(f): _leaks(f.read_bytes()) for f in files if f.exists()}
    assert await oa_service.stop(service) == 0
    stopped = {str(f): _leaks(f.read_bytes()) for f in files if f.exists()}
    log = service.log()
    assert "zns" in log, log[-2000:]
    assert {"running": running, "stopped": stopped, "log": _leaks(log.encode())} == {
        "running": {str(f): [] for f in files if str(f) in running},
        "stopped": {str(f): [] for f in files if str(f) in stopped},
        "log": [],
    }
