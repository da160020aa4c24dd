"""The real `sipas serve` on a fake Zalo OA: linking, surveys by taps and typing, forged and
redelivered events, closed reply windows, token rotation across a restart, unfollow, heads."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.e2e.conftest import post_event, read_case
from tests.e2e.zalo import *  # noqa: F403 (the fixtures)
from tests.e2e.zalo import (
    DONE,
    QUESTIONS,
    WAIT,
    Services,
    ZaloClock,
    eventually,
    file_case,
    http_get,
    invited,
    link,
    metric,
    next_message,
    rows,
    say,
    tap,
)
from tests.fakes.zalo_oa_api import DEFAULT_ACCESS_TOKEN, DEFAULT_REFRESH_TOKEN, FakeZaloOA
from tests.fakes.zalo_oa_events import OaSentMessage
from tests.support import dossier

pytestmark = pytest.mark.e2e
CITIZEN, OTHER, HEAD = "2512523625412515", "7300000000000000042", "4400000000000000777"
AGENCY = "000.00.01.H12"
THANKS = "Cảm ơn Ông/Bà đã hoàn thành khảo sát"


# -- 1, 2: linking -------------------------------------------------------------------------


async def test_a_typed_link_code_links_the_case_and_a_wrong_one_is_answered_politely(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    link_code = await file_case(service, "HS-1")
    wrong = "ABCD-EFGH" if link_code != "ABCD-EFGH" else "HJKM-NPQR"

    refused = await say(zalo_oa, CITIZEN, f"mã {wrong}")
    assert "Mã liên kết này không đúng" in (refused.text or ""), refused
    # An unlinked user who writes is also asked for their phone, once.
    await zalo_oa.wait_until(
        lambda: zalo_oa.messages_to(CITIZEN)[-1].kind == "request_user_info", WAIT
    )
    assert (await read_case(service, "HS-1"))["survey"]["status"] == "none"

    linked = await say(zalo_oa, CITIZEN, f"Mã hồ sơ của tôi: {link_code.lower()} ạ", "HS-1")
    assert linked.text is not None and "Đã liên kết hồ sơ HS-1" in linked.text
    assert (await read_case(service, "HS-1"))["survey"] == {"status": "linked", "answers": 0}
    # Written from the OA's own wire facts: the answer to the webhook came at once.
    assert all(d.status == 200 and d.elapsed < 2 for d in zalo_oa.deliveries), zalo_oa.deliveries


async def test_a_shared_phone_links_every_case_filed_with_it(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    for code in ("HS-P1", "HS-P2"):
        await file_case(service, code)
    await file_case(service, "HS-P3", SoDienThoai="0987654321")

    await zalo_oa.send_text(CITIZEN, "xin chào")
    form = await zalo_oa.wait_until(
        lambda: next(
            (m for m in zalo_oa.messages_to(CITIZEN) if m.kind == "request_user_info"), None
        ),
        WAIT,
    )
    assert form.element is not None and "số điện thoại" in form.element["title"]
    assert sum(m.kind == "request_user_info" for m in zalo_oa.messages_to(CITIZEN)) == 1

    before = len(zalo_oa.messages_to(CITIZEN))
    await zalo_oa.submit_info(CITIZEN, "0912345678")
    linked = await next_message(zalo_oa, CITIZEN, before, "Đã liên kết")
    assert linked.text is not None and "Đã liên kết 2 hồ sơ" in linked.text
    assert "HS-P1" in linked.text and "HS-P2" in linked.text and "HS-P3" not in linked.text
    for code, status in (("HS-P1", "linked"), ("HS-P2", "linked"), ("HS-P3", "none")):
        assert (await read_case(service, code))["survey"]["status"] == status
    # The phone is kept only as its keyed hash: not in the events the OA sent.
    stored = await rows(str(service.env["SIPAS_DATABASE_URL"]), "SELECT body FROM channel_events")
    assert stored and not any("912345678" in str(row[0]) for row in stored)


# -- 3: surveys ----------------------------------------------------------------------------


async def survey_by_taps(fake: FakeZaloOA, user: str, question: OaSentMessage) -> None:
    for number in range(1, 7):
        assert f"Câu {number}/{QUESTIONS}" in (question.text or ""), question
        assert [b.title.split(". ", 1)[-1] for b in question.buttons] == [
            "Rất không hài lòng",
            "Không hài lòng",
            "Bình thường",
            "Hài lòng",
            "Rất hài lòng",
        ]
        assert all(b.type == "oa.query.hide" for b in question.buttons)
        question = await tap(fake, user, question, "Rất hài lòng", f"Đã ghi nhận câu {number}")
    for number in range(7, 10):
        assert [b.title for b in question.buttons] == ["Có", "Không"], question
        question = await tap(fake, user, question, "Không", f"Đã ghi nhận câu {number}")
    # More options than the OA's five buttons: numbered in the text, typed.
    assert f"Câu 10/{QUESTIONS}" in (question.text or "") and not question.buttons
    assert "\n1. " in (question.text or "")
    question = await say(fake, user, "2 5", "Đã ghi nhận câu 10")
    assert f"Câu 11/{QUESTIONS}" in (question.text or ""), question
    thanks = await tap(fake, user, question, "Bỏ qua")
    assert THANKS in (thanks.text or ""), thanks


async def survey_by_typing(fake: FakeZaloOA, user: str, question: OaSentMessage) -> None:
    replies = ["5", "hai long", "rat hai long", "4", "binh thuong", "Bình thường"]
    replies += ["khong", "k", "co", "1, 3"]
    noted = ["Rất hài lòng", "Hài lòng", "Rất hài lòng", "Hài lòng", "Bình thường"]
    noted += ["Bình thường", "Không", "Không", "Có"]
    noted += ["Cung cấp thông tin tốt hơn; Nâng cao năng lực công chức"]
    for number, (words, label) in enumerate(zip(replies, noted, strict=True), 1):
        assert f"Câu {number}/{QUESTIONS}" in (question.text or ""), question
        question = await say(fake, user, words, f"Đã ghi nhận câu {number}")
        assert f"Đã ghi nhận câu {number}: {label}" in (question.text or ""), question
    thanks = await say(fake, user, "Cán bộ hướng dẫn tận tình.")
    assert THANKS in (thanks.text or ""), thanks


@pytest.mark.both_databases
async def test_a_survey_by_taps_and_one_by_typing_are_completed(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    await link(zalo_oa, CITIZEN, service, "HS-T")
    await link(zalo_oa, OTHER, service, "HS-Y")
    tapped, typed = await asyncio.gather(
        invited(zalo_oa, service, CITIZEN, "HS-T"), invited(zalo_oa, service, OTHER, "HS-Y")
    )
    assert "HS-T" in (tapped.text or "") and "HS-Y" in (typed.text or "")
    await asyncio.gather(
        survey_by_taps(zalo_oa, CITIZEN, tapped), survey_by_typing(zalo_oa, OTHER, typed)
    )
    # The comment skipped is no answer.
    assert (await read_case(service, "HS-T"))["survey"] == {"status": "completed", "answers": 10}
    assert (await read_case(service, "HS-Y"))["survey"] == {"status": "completed", "answers": 11}
    assert zalo_oa.billable_count == 0


@pytest.mark.parametrize("database_kind", ["sqlite"])  # wording: one database is enough
async def test_numbered_choices_on_the_oa_are_worded_for_typing(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    await link(zalo_oa, CITIZEN, service, "HS-N")
    question = await invited(zalo_oa, service, CITIZEN, "HS-N")
    for number, words in enumerate(["5"] * 6 + ["k"] * 3, 1):
        question = await say(zalo_oa, CITIZEN, words, f"Đã ghi nhận câu {number}")
    assert f"Câu 10/{QUESTIONS}" in (question.text or "") and not question.buttons
    assert "bấm" not in (question.text or "").lower(), question.text
    unclear = await say(zalo_oa, CITIZEN, "cái nào cũng được")
    assert "nút" not in (unclear.text or ""), unclear.text
    picked = await say(zalo_oa, CITIZEN, "1")
    assert "bấm" not in (picked.text or "").lower(), picked.text


# -- 4, 5: forged and redelivered events ---------------------------------------------------


async def test_a_forged_event_is_refused_and_changes_nothing(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    link_code = await file_case(service, "HS-F")
    for mac in ("mac=" + "0" * 64, None):
        answer = await zalo_oa.send_forged(zalo_oa.text_event(CITIZEN, f"mã {link_code}"), mac=mac)
        assert answer.status == 401, answer

    database = str(service.env["SIPAS_DATABASE_URL"])
    assert await rows(database, "SELECT id FROM channel_events") == []
    assert (await read_case(service, "HS-F"))["survey"]["status"] == "none"
    status, page = await http_get(service, "/metrics")
    assert status == 200 and metric(page, "sipas_zalo_oa_events_forged_total") == 2
    # The next genuine event is the first the user is answered for.
    helped = await say(zalo_oa, CITIZEN, "/help")
    assert zalo_oa.messages_to(CITIZEN) == [helped]


@pytest.mark.both_databases
async def test_a_redelivered_event_is_acted_on_once(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    await link(zalo_oa, CITIZEN, service, "HS-R")
    question = await invited(zalo_oa, service, CITIZEN, "HS-R")
    before = len(zalo_oa.messages_to(CITIZEN))

    answer = await zalo_oa.send_text(CITIZEN, "5")
    second = await zalo_oa.wait_for_message(CITIZEN, contains=f"Câu 2/{QUESTIONS}", timeout=WAIT)
    again = await zalo_oa.redeliver(answer.event)
    assert again.status == 200, again
    # Acted on twice, the same "5" would have answered question 2 as well.
    third = await say(zalo_oa, CITIZEN, "4")
    assert "Đã ghi nhận câu 2: Hài lòng" in (third.text or ""), third
    assert f"Câu 3/{QUESTIONS}" in (third.text or "")
    assert zalo_oa.messages_to(CITIZEN)[before:] == [second, third]
    assert question.message_id != second.message_id
    assert (await read_case(service, "HS-R"))["survey"] == {"status": "in_progress", "answers": 2}
    _, page = await http_get(service, "/metrics")
    assert metric(page, "sipas_zalo_oa_events_duplicate_total", kind="user_send_text") == 1


# -- 6: a closed reply window --------------------------------------------------------------


async def test_no_survey_is_sent_into_a_closed_reply_window(
    oa_service: Services, zalo_oa: FakeZaloOA, oa_clock: ZaloClock
) -> None:
    service = await oa_service.start()
    await link(zalo_oa, CITIZEN, service, "HS-W")
    sent_before = len(zalo_oa.messages_to(CITIZEN))
    calls_before = len(zalo_oa.calls)
    database = str(service.env["SIPAS_DATABASE_URL"])
    ((last_row,),) = await rows(database, "SELECT max(id) FROM outbox")

    later = oa_clock.instant + timedelta(days=8)
    oa_clock.set(later)
    assert zalo_oa.window(CITIZEN) == "closed"
    handed_over = (later - timedelta(hours=1)).strftime("%Y%m%d%H%M%S")
    await post_event(
        service, dossier("HS-W", TrangThaiHoSo=10, ThoiDiemXuLy=handed_over, NgayTra=handed_over)
    )
    assert (await read_case(service, "HS-W"))["TrangThaiHoSo"] == 10

    failed = await eventually(
        lambda: rows(
            database,
            "SELECT status, last_error, kind FROM outbox"
            " WHERE id > :last AND status NOT IN ('pending', 'sending')",
            last=last_row,
        )
    )
    assert [(row[0], str(row[1]).split(":", 1)[0], row[2]) for row in failed] == [
        ("failed", "unreachable", "question")
    ], failed
    _, page = await http_get(service, "/metrics")
    assert metric(page, "sipas_outbox_unreachable_total", channel="zalo_oa", kind="question") == 1
    assert len(zalo_oa.messages_to(CITIZEN)) == sent_before
    assert [c for c in zalo_oa.calls[calls_before:] if c.kind == "message"] == []


# -- 7: the token pair across a restart ----------------------------------------------------


@pytest.mark.both_databases
async def test_a_restart_after_a_token_refresh_uses_the_stored_new_pair(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    await say(zalo_oa, CITIZEN, "/help")
    zalo_oa.expire_access_token()
    await say(zalo_oa, CITIZEN, "/help")
    assert zalo_oa.refresh_count == 1
    new_access = zalo_oa.access_token
    assert new_access != DEFAULT_ACCESS_TOKEN

    assert await oa_service.stop(service) == 0
    restarted = await oa_service.start()  # the first pair is still in its settings
    await say(zalo_oa, CITIZEN, "/help")
    assert restarted.port == service.port
    assert zalo_oa.refresh_count == 1
    refreshes = [c for c in zalo_oa.calls if c.kind == "refresh"]
    assert [c.form.get("refresh_token") for c in refreshes] == [DEFAULT_REFRESH_TOKEN]
    messages = [(c.access_token, c.ok) for c in zalo_oa.calls if c.kind == "message"]
    assert messages == [
        (DEFAULT_ACCESS_TOKEN, True),
        (DEFAULT_ACCESS_TOKEN, False),  # expired: refreshed, then sent again
        (new_access, True),
        (new_access, True),  # after the restart
    ]
    # The stored pair is sealed: neither token is in the database in clear.
    stored = await rows(str(service.env["SIPAS_DATABASE_URL"]), "SELECT * FROM channel_tokens")
    assert len(stored) == 1
    assert new_access not in str(stored[0]) and zalo_oa.refresh_token not in str(stored[0])


# -- 8: unfollow ---------------------------------------------------------------------------


async def test_unfollow_stops_everything_and_follow_again_welcomes(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    await link(zalo_oa, CITIZEN, service, "HS-U")
    await link(zalo_oa, OTHER, service, "HS-V")
    sent_before = len(zalo_oa.messages_to(CITIZEN))
    assert (await zalo_oa.unfollow(CITIZEN)).status == 200

    database = str(service.env["SIPAS_DATABASE_URL"])
    await eventually(
        lambda: rows(
            database,
            "SELECT c.id FROM chats c JOIN chat_activity a"
            " ON a.channel = c.channel AND a.external_id = c.external_id"
            " WHERE c.external_id = :user AND c.blocked_at IS NOT NULL AND NOT a.followed",
            user=CITIZEN,
        )
    )
    await post_event(service, dossier("HS-U", TrangThaiHoSo=10, **DONE))
    # Cases reach the survey loop in order: once the later one's question is out, the first
    # was passed over.
    await invited(zalo_oa, service, OTHER, "HS-V")
    assert zalo_oa.messages_to(CITIZEN)[sent_before:] == []
    assert (await read_case(service, "HS-U"))["survey"]["status"] == "linked"

    await zalo_oa.follow(CITIZEN)
    welcome = await next_message(zalo_oa, CITIZEN, sent_before, "Xin chào")
    assert (welcome.text or "").startswith("Xin chào"), welcome


# -- 9: a head on the OA -------------------------------------------------------------------


async def answer_low(fake: FakeZaloOA, user: str, question: OaSentMessage) -> OaSentMessage:
    """Answer every question, the third with the lowest level: returns the thanks."""
    while THANKS not in (question.text or ""):
        titles = [b.title for b in question.buttons]
        shown = question.text or ""
        if "Câu 3/" in shown and titles:
            question = await tap(fake, user, question, "Rất không hài lòng")
        elif "Rất hài lòng" in " ".join(titles):
            question = await tap(fake, user, question, "4. Hài lòng")
        elif titles == ["Có", "Không"]:
            question = await tap(fake, user, question, "Không")
        elif "\n1. " in shown:
            question = await say(fake, user, "1")
        elif "Đã chọn" in shown:
            question = await say(fake, user, "xong")
        elif titles:
            question = await tap(fake, user, question, titles[0])
        else:
            question = await say(fake, user, "Cán bộ hẹn đi hẹn lại nhiều lần.")
    return question


async def test_a_head_on_the_oa_gets_a_low_score_alert_and_acknowledges_it(
    oa_service: Services, zalo_oa: FakeZaloOA
) -> None:
    service = await oa_service.start()
    await link(zalo_oa, CITIZEN, service, "HS-H")
    printed = await asyncio.to_thread(service.cli, "invite", "head", "--agency", AGENCY)
    (code,) = [line.split()[0] for line in printed.splitlines() if "Zalo OA" in line]
    confirmed = await say(zalo_oa, HEAD, code)
    assert "thủ trưởng" in (confirmed.text or ""), confirmed

    question = await invited(zalo_oa, service, CITIZEN, "HS-H")
    await answer_low(zalo_oa, CITIZEN, question)
    alert = await zalo_oa.wait_for_message(HEAD, contains="Ý kiến chưa hài lòng", timeout=15)
    assert "HS-H" in (alert.text or "") and "Rất không hài lòng" in (alert.text or "")
    assert "Nguyễn Thị Hằng" not in (alert.text or "") and "0912345678" not in (alert.text or "")
    assert [b.title for b in alert.buttons] == ["Đã tiếp nhận", "Đã xử lý"]

    acked = await tap(zalo_oa, HEAD, alert, "Đã tiếp nhận")
    assert "Đã ghi nhận: đã tiếp nhận" in (acked.text or ""), acked
    database = str(service.env["SIPAS_DATABASE_URL"])
    assert await rows(database, "SELECT id FROM alerts WHERE acknowledged_at IS NOT NULL")
