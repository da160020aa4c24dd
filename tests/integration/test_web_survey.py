"""The web survey behind the receipt's link (`GET/POST /s/<token>`), in the whole service on
SQLite and PostgreSQL: the case page, the form, the one-response rule shared with the chats,
validation and CSRF, expiry, the heads' alerts, headers, size and rate limits."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import create_app
from bot.channels.inbound import ChatRef
from bot.onestop.links import format_link_code
from bot.survey.questionnaire import builtin
from bot.web.keys import ENGINE, SERVICES, SURVEYS
from bot.web.pages import FormPage, survey_form
from bot.web.pages.layout import SCRIPT
from bot.web.ratelimit import PageLimits, WindowCounter
from bot.web.survey_page import LIMITS
from tests.conftest import make_settings
from tests.fakes.zalo_oa_api import DEFAULT_OA_ID, DEFAULT_OA_SECRET_KEY, FakeZaloOA
from tests.support import bearer, dossier, signed

CASE = "H12.22-261001-0001"
OTHER = "H12.22-261001-0002"
BASE = "http://127.0.0.1:8080"
Fields = dict[str, str | list[str]]
# Every question of the built-in short form answered well (no "why?" question called for).
HIGH: Fields = {
    "q_F1": "4",
    "q_F2": "5",
    "q_F3": "4",
    "q_F4": "5",
    "q_F5": "4",
    "q_OVERALL": "5",
    "q_MONEY": "n",
    "q_HARASS": "n",
    "q_ONTIME": "y",
    "q_EXPECT": ["E1", "E3"],
    "q_COMMENT": "Cán bộ nhiệt tình.",
}
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def deliver(client: TestClient, code: str = CASE, **fields: Any) -> dict[str, Any]:
    body, headers = signed(dossier(code, **fields))
    answer = await client.post("/api/v1/onestop/events", data=body, headers=headers)
    assert answer.status in (200, 202), await answer.text()
    return dict(await answer.json())


async def case_at_survey(client: TestClient, code: str = CASE, **fields: Any) -> str:
    """Deliver the case at status 10; the path of its web link."""
    body = await deliver(client, code, TrangThaiHoSo=10, **fields)
    return str(body["links"]["web"]).removeprefix(BASE)


def flatten(fields: Fields) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        pairs.extend((name, v) for v in ([value] if isinstance(value, str) else value))
    return pairs


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def hidden_fields(html: str) -> list[tuple[str, str]]:
    return [
        (unescape(n), unescape(v))
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    ]


async def open_form(client: TestClient, path: str) -> tuple[str, str]:
    page = await client.get(path)
    html = await page.text()
    assert page.status == 200, html
    assert 'id="survey"' in html, html
    return html, csrf_of(html)


async def submit(
    client: TestClient, path: str, fields: Fields, *, csrf: str | None, extra: Fields | None = None
) -> ClientResponse:
    pairs = flatten(fields) + flatten(extra or {})
    if csrf is not None:
        pairs.append(("csrf", csrf))
    return await client.post(path, data=pairs, allow_redirects=False)


async def survey_of(client: TestClient, code: str = CASE) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/cases/{code}", headers=bearer())
    return dict((await answer.json())["survey"])


async def rows(client: TestClient, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with client.app[ENGINE].connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(text(sql), params)).all()]


async def answers_of(client: TestClient, code: str = CASE) -> dict[str, Any]:
    found = await rows(
        client,
        "SELECT a.question_code, a.value_int, a.value_text, a.choices, a.skipped FROM answers a "
        "JOIN surveys s ON s.id = a.survey_id WHERE s.case_code = :code",
        code=code,
    )
    return {r["question_code"]: r for r in found}


def json_value(value: Any) -> Any:
    """A JSON column as read back (SQLite gives the text, PostgreSQL the value)."""
    return json.loads(value) if isinstance(value, str) else value


def choices(answer: dict[str, Any]) -> list[str]:
    return list(json_value(answer["choices"]))


def assert_page_headers(response: ClientResponse) -> None:
    for name, value in PAGE_HEADERS.items():
        assert response.headers.get(name) == value, name
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


# -- the page as the case stands ------------------------------------------------------------


async def test_before_the_survey_status_the_case_page_and_how_to_follow_it(
    migrated_url: str,
) -> None:
    async with FakeZaloOA() as fake:
        settings = make_settings(
            migrated_url,
            zalo_oa_id=DEFAULT_OA_ID,
            zalo_oa_secret_key=DEFAULT_OA_SECRET_KEY,
            zalo_oa_api_base_url=fake.url,
            zalo_oauth_base_url=fake.url,
            scheduler_enabled=False,
        )
        async with TestClient(TestServer(create_app(settings))) as client:
            body = await deliver(client, TrangThaiHoSo=4)
            page = await client.get(body["links"]["web"].removeprefix(BASE))
            html = await page.text()
    assert page.status == 200
    assert CASE in html and "Đang xử lý" in html and "Nguyễn Thị Hằng" not in html
    assert f'href="https://zalo.me/{DEFAULT_OA_ID}"' in html
    code = re.search(r'<p class="code" id="link-code"[^>]*>([^<]+)</p>', html)
    assert code and code.group(1) == format_link_code(body["link_code"])
    assert 'id="survey"' not in html


async def test_without_a_zalo_channel_no_code_is_printed(client: TestClient) -> None:
    body = await deliver(client)
    html = await (await client.get(body["links"]["web"].removeprefix(BASE))).text()
    assert "Được tiếp nhận" in html
    assert 'id="link-code"' not in html and body["link_code"] not in html


async def test_every_value_from_the_payload_is_escaped(client: TestClient) -> None:
    hostile = '<script>alert("x")</script>'
    path = await case_at_survey(client, TenTTHC=hostile)
    html, _ = await open_form(client, path)
    assert hostile not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    # the page's own script is the only one
    assert html.count("<script>") == 1


async def test_at_the_survey_status_the_form_with_its_contract_fields(
    client: TestClient,
) -> None:
    path = await case_at_survey(client)
    page = await client.get(path)
    html = await page.text()
    assert page.status == 200
    assert_page_headers(page)
    assert len(await page.read()) < 50_000
    form = builtin("short")
    for question in form.questions:
        assert f'id="f_{question.code}"' in html, question.code
    for value in "12345":
        assert (
            f'<label for="q_F1-{value}"><input type="radio" id="q_F1-{value}" name="q_F1"' in html
        )
    assert 'type="radio" id="q_MONEY-y" name="q_MONEY" value="y"' in html
    assert 'type="checkbox" id="q_EXPECT-E1" name="q_EXPECT" value="E1"' in html
    assert '<textarea id="q_COMMENT" name="q_COMMENT"' in html
    # the "why?" questions wait, hidden and disabled, for a low answer
    assert 'id="f_F1.WHY" data-why="1" hidden disabled' in html
    assert 'data-f="1"' in html
    # the policy allows exactly the page's script and style, by hash
    policy = page.headers["Content-Security-Policy"]
    script = html.split("<script>", 1)[1].split("</script>", 1)[0]
    assert script == SCRIPT
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy


async def test_english_on_request(client: TestClient) -> None:
    path = await case_at_survey(client)
    html, csrf = await open_form(client, path + "?lang=en")
    assert '<html lang="en">' in html and "Tell us how you were served" in html
    assert "Very satisfied" in html
    sent = await submit(client, path + "?lang=en", HIGH, csrf=csrf)
    assert sent.status == 303
    assert sent.headers["Location"] == path + "?lang=en"
    assert "Thank you" in await (await client.get(sent.headers["Location"])).text()


async def test_the_full_form_fits_in_50_kb() -> None:
    form = builtin("full")
    for lang in ("vi", "en"):
        html = survey_form(lang, FormPage(CASE, "Thủ tục " * 20, form, csrf="x" * 22))
        assert len(html.encode("utf-8")) < 50_000, len(html.encode("utf-8"))


async def test_an_unknown_link_is_a_404_page(client: TestClient) -> None:
    for path in ("/s/AAAAAAAAAAAAAAAAAAAAAA", "/s/short", "/s/" + "A" * 23):
        page = await client.get(path)
        assert page.status == 404, path
        assert page.content_type == "text/html"
        assert "Không tìm thấy hồ sơ" in await page.text()
        assert_page_headers(page)
    posted = await client.post("/s/AAAAAAAAAAAAAAAAAAAAAA", data={"q_F1": "4"})
    assert posted.status == 404


# -- answering -------------------------------------------------------------------------------


async def test_all_answers_complete_the_survey_and_show_thanks(client: TestClient) -> None:
    path = await case_at_survey(client)
    _, csrf = await open_form(client, path)
    sent = await submit(client, path, HIGH, csrf=csrf)
    assert sent.status == 303 and sent.headers["Location"] == path
    thanks = await client.get(path)
    assert "Cảm ơn Ông/Bà" in await thanks.text()
    assert await survey_of(client) == {"status": "completed", "answers": 11}
    stored = await answers_of(client)
    assert stored["F1"]["value_int"] == 4 and stored["ONTIME"]["value_int"] == 1
    assert choices(stored["EXPECT"]) == ["E1", "E3"]
    assert stored["COMMENT"]["value_text"] == "Cán bộ nhiệt tình."
    assert "F1.WHY" not in stored  # no low score: the "why?" questions are not asked
    source = await rows(client, "SELECT source, chat_id FROM surveys")
    assert source == [{"source": "web", "chat_id": None}]
    # one response per case: a second form records nothing more
    again = await submit(client, path, {**HIGH, "q_F1": "1"}, csrf=csrf)
    assert again.status == 200
    assert 'id="again"' in await again.text()
    assert (await answers_of(client))["F1"]["value_int"] == 4


async def test_missing_required_answers_are_marked_and_values_kept(client: TestClient) -> None:
    path = await case_at_survey(client)
    _, csrf = await open_form(client, path)
    partial = {k: v for k, v in HIGH.items() if k not in ("q_F2", "q_HARASS")}
    sent = await submit(client, path, partial, csrf=csrf)
    html = await sent.text()
    assert sent.status == 200
    assert 'id="problems"' in html and "Còn 2 câu bắt buộc" in html
    assert 'id="e_F2"' in html and 'id="e_HARASS"' in html and 'id="e_F1"' not in html
    assert re.search(r'id="q_F1-4"[^>]* checked>', html)
    assert not re.search(r'id="q_F1-3"[^>]* checked>', html)
    assert re.search(r'id="q_EXPECT-E3"[^>]* checked>', html)
    assert ">Cán bộ nhiệt tình.</textarea>" in html
    assert await survey_of(client) == {"status": "none", "answers": 0}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"q_NOPE": "1"}, None),
        ({"q_F1": "6"}, "e_F1"),
        ({"q_F1": ["4", "5"]}, "e_F1"),
        ({"q_MONEY": "maybe"}, "e_MONEY"),
        ({"q_EXPECT": ["E1", "E2", "E3"]}, "e_EXPECT"),
        ({"q_EXPECT": ["E1", "ZZ"]}, "e_EXPECT"),
        ({"q_COMMENT": "a" * 1001}, "e_COMMENT"),
    ],
)
async def test_a_value_the_questionnaire_does_not_offer_is_refused(
    client: TestClient, change: Fields, where: str | None
) -> None:
    path = await case_at_survey(client)
    _, csrf = await open_form(client, path)
    sent = await submit(client, path, {**HIGH, **change}, csrf=csrf)
    html = await sent.text()
    assert sent.status == 400
    assert 'id="problems"' in html
    if where is not None:
        assert f'id="{where}"' in html
    assert await survey_of(client) == {"status": "none", "answers": 0}


async def test_a_thousand_characters_are_accepted(client: TestClient) -> None:
    path = await case_at_survey(client)
    _, csrf = await open_form(client, path)
    # 998 letters, a line break (one character, as a browser's maxlength counts it) and one more,
    # between spaces that are trimmed
    comment = "  " + "ư" * 998 + "\r\nx\x00 "
    sent = await submit(client, path, {**HIGH, "q_COMMENT": comment}, csrf=csrf)
    assert sent.status == 303
    assert (await answers_of(client))["COMMENT"]["value_text"] == "ư" * 998 + "\nx"


async def test_a_wrong_or_missing_csrf_records_nothing(client: TestClient) -> None:
    path = await case_at_survey(client)
    _, csrf = await open_form(client, path)
    other_path = await case_at_survey(client, OTHER)
    _, other_csrf = await open_form(client, other_path)
    for given in (None, "", "wrong", other_csrf, csrf + "x"):
        sent = await submit(client, path, HIGH, csrf=given)
        assert sent.status == 403, given
        assert_page_headers(sent)
        assert "chưa có gì được ghi nhận" in await sent.text()
    assert await survey_of(client) == {"status": "none", "answers": 0}
    wrong_type = await client.post(
        path, data=json.dumps({"csrf": csrf}), headers={"Content-Type": "application/json"}
    )
    assert wrong_type.status == 415


async def test_without_script_the_why_question_comes_on_a_second_step(
    client: TestClient,
) -> None:
    path = await case_at_survey(client)
    _, csrf = await open_form(client, path)
    sent = await submit(client, path, {**HIGH, "q_F2": "1"}, csrf=csrf)
    html = await sent.text()
    assert sent.status == 200
    assert 'id="f_F2.WHY"' in html and "hidden disabled" not in html
    assert 'id="f_F1"' not in html  # only the "why?" question is asked
    assert await survey_of(client) == {"status": "none", "answers": 0}
    carried = hidden_fields(html)
    assert ("seen", "F2.WHY") in carried and ("q_F2", "1") in carried
    final = await client.post(path, data=[*carried, ("q_F2.WHY", "R2")], allow_redirects=False)
    assert final.status == 303
    stored = await answers_of(client)
    assert stored["F2"]["value_int"] == 1
    assert choices(stored["F2.WHY"]) == ["R2"]


async def test_with_script_a_shown_why_question_left_empty_is_skipped(
    client: TestClient,
) -> None:
    path = await case_at_survey(client)
    _, csrf = await open_form(client, path)
    sent = await submit(client, path, {**HIGH, "q_F2": "2"}, csrf=csrf, extra={"seen": "F2.WHY"})
    assert sent.status == 303
    stored = await answers_of(client)
    assert stored["F2.WHY"]["skipped"] in (True, 1)
    assert await survey_of(client) == {"status": "completed", "answers": 11}


async def test_an_expired_survey_says_so(client: TestClient) -> None:
    path = await case_at_survey(client)
    client.app[SURVEYS].expiry = timedelta(0)
    page = await client.get(path)
    assert page.status == 200 and 'id="expired"' in await page.text()
    client.app[SURVEYS].expiry = timedelta(days=7)
    _, csrf = await open_form(client, path)
    client.app[SURVEYS].expiry = timedelta(0)
    sent = await submit(client, path, HIGH, csrf=csrf)
    assert sent.status == 409 and 'id="expired"' in await sent.text()
    assert await survey_of(client) == {"status": "none", "answers": 0}


# -- the same survey as the chats -------------------------------------------------------------

CHAT = ChatRef(channel="telegram", external_id="7001")


async def chat_survey(client: TestClient, path: str) -> int:
    """Link a chat to the case behind `path` (at the survey status): its survey opens."""
    await client.app[SERVICES].linking.on_start(CHAT, path.rsplit("/", 1)[1])
    found = await rows(client, "SELECT id, chat_id FROM surveys WHERE case_code = :c", c=CASE)
    assert found and found[0]["chat_id"] is not None
    return int(found[0]["id"])


async def press(client: TestClient, survey_id: int, code: str, value: str) -> str | None:
    result = await client.app[SURVEYS].on_press(CHAT, survey_id, code, value)
    return result.notice


async def test_a_chat_survey_half_done_is_finished_on_the_web(client: TestClient) -> None:
    path = await case_at_survey(client)
    survey_id = await chat_survey(client, path)
    assert await press(client, survey_id, "F1", "3") is None
    assert await press(client, survey_id, "F2", "4") is None
    html, csrf = await open_form(client, path)
    assert 'id="f_F1"' not in html and 'id="f_F2"' not in html and 'id="f_F3"' in html
    assert "đã trả lời 2 câu" in html
    sent = await submit(client, path, HIGH, csrf=csrf)  # F1 and F2 sent again: the chat's stand
    assert sent.status == 303
    stored = await answers_of(client)
    assert stored["F1"]["value_int"] == 3 and stored["F2"]["value_int"] == 4
    assert await survey_of(client) == {"status": "completed", "answers": 11}
    pending = await rows(
        client, "SELECT id FROM outbox WHERE survey_id = :s AND status = 'pending'", s=survey_id
    )
    assert pending == []  # the chat's waiting question is not sent any more
    # the chat comes back: the survey is answered, nothing more is recorded
    assert await press(client, survey_id, "F3", "1") == "survey_answered"
    assert (await answers_of(client))["F3"]["value_int"] == 4


async def test_a_chat_and_the_web_finishing_at_once_make_one_response(
    client: TestClient,
) -> None:
    path = await case_at_survey(client)
    survey_id = await chat_survey(client, path)
    for code, value in [("F1", "4"), ("F2", "5"), ("F3", "4"), ("F4", "5"), ("F5", "4")]:
        assert await press(client, survey_id, code, value) is None
    for code, value in [("OVERALL", "5"), ("MONEY", "n"), ("HARASS", "n"), ("ONTIME", "y")]:
        assert await press(client, survey_id, code, value) is None
    assert await press(client, survey_id, "EXPECT", "E1") is None
    assert await press(client, survey_id, "EXPECT", "E2") is None
    _, csrf = await open_form(client, path)
    web, notice = await asyncio.gather(
        submit(client, path, {"q_COMMENT": "từ web"}, csrf=csrf),
        press(client, survey_id, "COMMENT", "skip"),
    )
    comment = (await answers_of(client))["COMMENT"]
    if web.status == 303:
        assert notice in ("already_answered", "survey_answered")
        assert comment["value_text"] == "từ web"
    else:
        assert notice is None and web.status == 200
        assert 'id="again"' in await web.text()
        assert comment["skipped"] in (True, 1)
    assert await survey_of(client) == {
        "status": "completed",
        "answers": 11 if web.status == 303 else 10,
    }


async def test_a_chat_survey_past_its_expiry_or_stopped_is_not_answered_on_the_web(
    client: TestClient,
) -> None:
    path = await case_at_survey(client)
    survey_id = await chat_survey(client, path)
    _, csrf = await open_form(client, path)
    async with client.app[ENGINE].begin() as conn:
        await conn.execute(
            text("UPDATE surveys SET expires_at = :past WHERE id = :s"),
            {"past": client.app[SURVEYS].clock.utcnow() - timedelta(minutes=1), "s": survey_id},
        )
    page = await client.get(path)
    assert page.status == 200 and 'id="expired"' in await page.text()
    sent = await submit(client, path, HIGH, csrf=csrf)
    assert sent.status == 409 and await answers_of(client) == {}
    async with client.app[ENGINE].begin() as conn:
        await conn.execute(
            text("UPDATE surveys SET expires_at = :later WHERE id = :s"),
            {"later": client.app[SURVEYS].clock.utcnow() + timedelta(days=1), "s": survey_id},
        )
    await client.app[SURVEYS].on_stop(CHAT)  # /stop in the chat ends its survey
    page = await client.get(path)
    assert 'id="closed"' in await page.text()
    assert (await submit(client, path, HIGH, csrf=csrf)).status == 409
    assert await answers_of(client) == {}


async def test_a_chat_that_answers_a_low_score_gets_its_why_on_the_web(
    client: TestClient,
) -> None:
    path = await case_at_survey(client)
    survey_id = await chat_survey(client, path)
    assert await press(client, survey_id, "F1", "1") is None
    html, csrf = await open_form(client, path)
    # the chat's low answer called for F1.WHY: shown at once, no script needed
    assert 'id="f_F1.WHY"' in html and 'id="f_F1.WHY" data-why' not in html
    sent = await submit(client, path, {**HIGH, "q_F1.WHY": "R1"}, csrf=csrf)
    assert sent.status == 303
    assert (await answers_of(client))["F1.WHY"]["skipped"] in (False, 0)


async def test_a_low_score_on_the_web_alerts_the_heads_as_from_a_chat(
    client: TestClient,
) -> None:
    low = {**HIGH, "q_F3": "1", "q_F3.WHY": "R2", "q_MONEY": "y", "q_COMMENT": ""}
    # the chat answers one case
    chat_path = await case_at_survey(client)
    survey_id = await chat_survey(client, chat_path)
    for code, value in [
        ("F1", "4"),
        ("F2", "5"),
        ("F3", "1"),
        ("F3.WHY", "R2"),
        ("F4", "5"),
        ("F5", "4"),
        ("OVERALL", "5"),
        ("MONEY", "y"),
        ("HARASS", "n"),
        ("ONTIME", "y"),
        ("EXPECT", "E1"),
        ("EXPECT", "E3"),
        ("COMMENT", "skip"),
    ]:
        assert await press(client, survey_id, code, value) is None, code
    # the web answers another, the same way
    path = await case_at_survey(client, OTHER)
    _, csrf = await open_form(client, path)
    sent = await submit(client, path, low, csrf=csrf, extra={"seen": "F3.WHY"})
    assert sent.status == 303
    alerts = await rows(client, "SELECT kind, complaint, payload, survey_id FROM alerts")
    assert len(alerts) == 2
    payloads = [json_value(a["payload"]) for a in alerts]
    by_code = {p["code"]: p for p in payloads}
    chat_alert, web_alert = by_code[CASE], by_code[OTHER]
    assert {k: v for k, v in web_alert.items() if k != "code"} == {
        k: v for k, v in chat_alert.items() if k != "code"
    }
    assert web_alert["low"] == [["F3", 1]] and web_alert["money"] is True
    assert all(a["kind"] == "low_score" and a["complaint"] in (True, 1) for a in alerts)


# -- limits ----------------------------------------------------------------------------------


@pytest.fixture
async def limited(migrated_url: str) -> AsyncIterator[TestClient]:
    app = create_app(make_settings(migrated_url, scheduler_enabled=False))
    app[LIMITS] = PageLimits(per_token=WindowCounter(3))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_too_many_requests_for_one_link_get_a_readable_429(limited: TestClient) -> None:
    path = await case_at_survey(limited)
    for _ in range(3):
        assert (await limited.get(path)).status == 200
    refused = await limited.get(path)
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Quá nhiều yêu cầu" in await refused.text()
    assert_page_headers(refused)
    other = await case_at_survey(limited, OTHER)
    assert (await limited.get(other)).status == 200  # another citizen's link is not held up


def test_one_address_may_send_at_least_300_requests_a_minute() -> None:
    now = [0.0]
    limits = PageLimits(
        per_address=WindowCounter(PageLimits().per_address.limit, clock=lambda: now[0])
    )
    assert limits.per_address.limit >= 300
    for i in range(300):
        assert limits.check(f"token-{i}", "203.0.113.7") == 0
    counter = WindowCounter(2, clock=lambda: now[0])
    assert counter.hit("a") == 0 and counter.hit("a") == 0 and counter.hit("a") > 0
    now[0] = 61.0
    assert counter.hit("a") == 0  # a new window
