"""The fake ZNS, driven over real HTTP as the product's ZNS sender and rating poller will.

These tests pin down that `tests.fakes.zalo_zns_api.FakeZaloZNS` speaks ZNS's wire format
(HTTP 200 with negative `error` codes, the template parameters and their limits, the daily
quota and its reset at midnight in Vietnam, `/rating/get` paging) and that the citizen's
ratings come back as signed `user_feedback` events, so tests of the product can trust it. The
signature is checked here with hashlib, independently of the fakes' own code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.zalo_oa_api import DEFAULT_APP_ID, DEFAULT_OA_ID, FakeZaloOA
from tests.fakes.zalo_zns_api import DEFAULT_TEMPLATE_IDS, FakeZaloZNS, templates_setting

APP_SECRET_KEY = "TEST-ZALO-OA-SECRET-KEY"  # the OA fake's default, spelled out on purpose
TOKEN = "TEST-ZALO-OA-ACCESS-TOKEN-0"
PHONE = "84912345678"
OTHER = "84987654321"
NO_ZALO = "84901112223"
RATING = DEFAULT_TEMPLATE_IDS["rating"]
INVITE = DEFAULT_TEMPLATE_IDS["invite"]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
FROZEN = datetime(2026, 3, 2, 9, 0, tzinfo=VN).timestamp()  # the fake clock moves by advance only
DATA = {
    "ma_ho_so": "H45.01-260301-0001",
    "ten_thu_tuc": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "ten_co_quan": "UBND phường Phú Hội",
    "ngay_tra": "02/03/2026",
}


def mac_of(raw: bytes, timestamp: str) -> str:
    digest = hashlib.sha256(
        DEFAULT_APP_ID.encode() + raw + timestamp.encode() + APP_SECRET_KEY.encode()
    )
    return "mac=" + digest.hexdigest()


class Receiver:
    """A stand-in for the product's `POST /zalo/webhook`: answers 401 to a bad signature."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.raws: list[bytes] = []
        self.refused = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw)
        if request.headers.get("X-ZEvent-Signature") != mac_of(raw, str(body["timestamp"])):
            self.refused += 1
            return web.json_response({"error": "bad signature"}, status=401)
        self.raws.append(raw)
        self.bodies.append(body)
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/zalo/webhook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/zalo/webhook"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloZNS]:
    server = FakeZaloZNS(no_account=[NO_ZALO], clock=lambda: FROZEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def receiver(fake: FakeZaloZNS) -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    fake.webhook_url = found.url
    yield found
    assert found.runner is not None
    await found.runner.cleanup()


async def send(
    http: aiohttp.ClientSession,
    fake: FakeZaloZNS,
    *,
    phone: Any = PHONE,
    template_id: Any = RATING,
    data: Any = None,
    tracking_id: Any = "inv-0001",
    token: str = TOKEN,
) -> dict[str, Any]:
    body = {
        "phone": phone,
        "template_id": template_id,
        "template_data": dict(DATA) if data is None else data,
        "tracking_id": tracking_id,
    }
    url = f"{fake.url}/message/template"
    async with http.post(url, json=body, headers={"access_token": token}) as resp:
        assert resp.status == 200
        answer: dict[str, Any] = await resp.json()
        return answer


async def ratings(
    http: aiohttp.ClientSession, fake: FakeZaloZNS, token: str = TOKEN, **params: Any
) -> dict[str, Any]:
    later = fake.now_ms() + 60_000  # a re-rating may be stamped a millisecond ahead
    query = {"template_id": RATING, "from_time": 0, "to_time": later, "offset": 0}
    query |= {"limit": 100, **params}
    url = f"{fake.url}/rating/get"
    async with http.get(
        url, params={k: str(v) for k, v in query.items()}, headers={"access_token": token}
    ) as resp:
        assert resp.status == 200
        answer: dict[str, Any] = await resp.json()
        return answer


async def test_a_rating_template_is_sent_recorded_and_counted_against_the_quota(
    fake: FakeZaloZNS, http: aiohttp.ClientSession
) -> None:
    answer = await send(http, fake)

    assert answer["error"] == 0 and answer["message"] == "Success"
    data = answer["data"]
    assert data["quota"] == {"dailyQuota": "500", "remainingQuota": "499"}
    sent = await fake.wait_for_message("0912 345 678", template_id=RATING, timeout=1)
    assert sent.msg_id == data["msg_id"] and data["sent_time"] == str(sent.sent_time)
    assert (sent.phone, sent.tracking_id, sent.template_type) == (PHONE, "inv-0001", "rating")
    assert sent.template_data == DATA and sent.rating is None

    second = await send(http, fake, phone=OTHER, tracking_id="x" * 48)
    assert second["data"]["quota"]["remainingQuota"] == "498"
    assert fake.messages_to(PHONE) == [sent] and len(fake.sent) == 2
    assert templates_setting() == (
        f"rating={RATING},invite={INVITE},apology={DEFAULT_TEMPLATE_IDS['apology']},"
        f"result_ready={DEFAULT_TEMPLATE_IDS['result_ready']}"
    )


async def test_bad_sends_get_zalos_codes_and_spend_nothing(
    fake: FakeZaloZNS, http: aiohttp.ClientSession
) -> None:
    cases: list[tuple[int, dict[str, Any]]] = [
        (-124, {"token": "nope"}),
        (-124, {"token": ""}),
        (-109, {"template_id": "999999"}),
        (-108, {"phone": "0912345678"}),
        (-108, {"phone": "8491234567"}),
        (-108, {"phone": 84912345678}),
        (-111, {"data": {}}),
        (-132, {"data": {k: v for k, v in DATA.items() if k != "ngay_tra"}}),
        (-132, {"data": {**DATA, "so_dien_thoai": "0912345678"}}),
        (-132, {"data": {**DATA, "ma_ho_so": "x" * 31}}),
        (-132, {"data": {**DATA, "ma_ho_so": ""}}),
        (-132, {"data": {**DATA, "ma_ho_so": 12}}),
        (-132, {"data": {**DATA, "ngay_tra": "2026-03-02"}}),
        (-132, {"tracking_id": "x" * 49}),
        (-118, {"phone": NO_ZALO}),
    ]
    for code, change in cases:
        answer = await send(http, fake, **change)
        assert answer["error"] == code, change
        assert isinstance(answer["message"], str) and "data" not in answer
    assert fake.sent == [] and fake.quota == (500, 500)
    assert all(c.detail for c in fake.calls) and not any(c.ok for c in fake.calls)

    headers = {"access_token": TOKEN, "Content-Type": "application/json"}
    url = f"{fake.url}/message/template"
    async with http.post(url, data=b"{not json", headers=headers) as resp:
        assert (await resp.json())["error"] == -122
    async with http.post(url, data=b"", headers=headers) as resp:
        assert (await resp.json())["error"] == -121
    assert (await send(http, fake, template_id=INVITE, data=DATA))["error"] == -132
    invite = {k: v for k, v in DATA.items() if k != "ngay_tra"}
    assert (await send(http, fake, template_id=INVITE, data=invite))["error"] == -132
    token = "AbCdEfGhIjKlMnOpQrSt_-"
    for bad in ("not a token", token + "x"):
        data = invite | {"ma_khao_sat": bad}
        assert (await send(http, fake, template_id=INVITE, data=data))["error"] == -132
    data = invite | {"ma_khao_sat": token}
    assert (await send(http, fake, template_id=INVITE, data=data))["error"] == 0
    # The approved button opens the case's web survey with the token in its place.
    assert fake.sent[-1].button == f"/s/{token}"


async def test_the_quota_runs_out_and_is_whole_again_after_midnight_in_vietnam(
    fake: FakeZaloZNS, http: aiohttp.ClientSession
) -> None:
    fake.set_now(datetime(2026, 3, 2, 23, 58, tzinfo=VN))
    fake.set_quota(1)
    assert (await send(http, fake))["data"]["quota"]["remainingQuota"] == "0"
    refused = await send(http, fake)
    assert refused == {"error": -144, "message": "OA has exceeded maximum daily quota"}
    fake.advance(minutes=1, seconds=59)  # 23:59:59 in Huế: still the same day
    assert (await send(http, fake))["error"] == -144

    fake.advance(seconds=2)
    answer = await send(http, fake)
    assert answer["data"]["quota"] == {"dailyQuota": "500", "remainingQuota": "499"}
    fake.set_quota(5, daily=20)
    assert fake.quota == (20, 5)
    fake.advance(days=1)
    assert fake.quota == (20, 20) and len(fake.sent) == 2


async def test_a_rating_is_a_signed_user_feedback_and_the_last_rating_counts(
    fake: FakeZaloZNS, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await send(http, fake)
    message = fake.sent[0]
    status, body = await fake.rate(message, 2, "Chờ lâu quá", ["Giải quyết chậm"])
    assert (status, json.loads(body)) == (200, {"ok": True})

    event = receiver.bodies[0]
    assert set(event) == {"app_id", "oa_id", "event_name", "timestamp", "message"}
    assert (event["app_id"], event["oa_id"]) == (DEFAULT_APP_ID, DEFAULT_OA_ID)
    assert event["event_name"] == "user_feedback"
    first = event["message"]
    assert first == {
        "msg_id": message.msg_id,
        "tracking_id": "inv-0001",
        "rate": 2,
        "note": "Chờ lâu quá",
        "feedbacks": ["Giải quyết chậm"],
        "submit_time": event["timestamp"],
    }
    assert first["submit_time"].isdigit()
    assert "Chờ lâu".encode() in receiver.raws[0]  # UTF-8 on the wire, not \\u escapes

    await fake.rate(message, 5)  # rated again within the same millisecond, no options picked
    again = receiver.bodies[1]["message"]
    assert again["rate"] == 5 and again["feedbacks"] is None and again["note"] == ""
    assert int(again["submit_time"]) > int(first["submit_time"])
    assert message.rating is not None and message.rating.rate == 5
    rows = (await ratings(http, fake))["data"]
    assert rows["total"] == 1 and rows["data"][0]["rate"] == 5
    assert receiver.refused == 0 and [d.status for d in fake.deliveries] == [200, 200]


async def test_what_the_rating_form_does_not_allow_is_refused(
    fake: FakeZaloZNS, http: aiohttp.ClientSession
) -> None:
    await send(http, fake)
    invite_data = {k: DATA[k] for k in list(DATA)[:3]} | {"ma_khao_sat": "A" * 22}
    await send(http, fake, template_id=INVITE, data=invite_data)
    rating, invite = fake.sent
    bad: list[tuple[Any, Any]] = [
        (0, None),
        (6, None),
        (True, None),
        (5, ["Giải quyết chậm"]),  # an option of the low star levels only
        (1, ["Tự nghĩ ra"]),
        (1, ["x" * 51]),
        (1, ["Giải quyết chậm"] * 6),
    ]
    for stars, picked in bad:
        with pytest.raises(ValueError):
            await fake.rate(rating, stars, feedbacks=picked)
    with pytest.raises(ValueError):
        await fake.rate(invite, 5)
    assert rating.ratings == [] and fake.events == []

    free = FakeZaloZNS(templates={"7": {"type": "rating", "params": ["ma"]}})
    await free.start()
    try:
        answer = await send(http, free, template_id="7", data={"ma": "H1"})
        assert answer["error"] == 0
        status, _ = await free.rate(free.sent[0], 4, feedbacks=["Bất kỳ lựa chọn nào"])
        assert status == 0  # no webhook set: recorded, answered by nobody
        assert free.sent[0].ratings[0].feedbacks == ["Bất kỳ lựa chọn nào"]
    finally:
        await free.stop()


async def test_rating_get_pages_the_latest_ratings_in_an_inclusive_window(
    fake: FakeZaloZNS, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    for i in range(7):
        await send(http, fake, tracking_id=f"inv-{i}")
    start = fake.now_ms()
    times = []
    for i, message in enumerate(fake.sent):
        fake.advance(minutes=1)
        await fake.rate(message, 1 + i % 5, lose_webhook=i == 6)
        times.append(start + (i + 1) * 60_000)
    assert [m.rating.submit_time if m.rating else 0 for m in fake.sent] == times
    assert len(receiver.bodies) == 6 and len(fake.lost) == 1  # the 7th only reaches the poll

    seen: list[str] = []
    for offset in (0, 3, 6):
        page = (await ratings(http, fake, offset=offset, limit=3))["data"]
        assert page["total"] == 7
        seen += [row["trackingId"] for row in page["data"]]
    assert seen == [f"inv-{i}" for i in range(7)]
    row = (await ratings(http, fake, offset=6, limit=3))["data"]["data"][0]
    assert set(row) == {"msgId", "trackingId", "rate", "note", "feedbacks", "submitDate"}
    assert row["submitDate"] == str(times[6]) and row["msgId"] == fake.sent[6].msg_id

    window = (await ratings(http, fake, from_time=times[1], to_time=times[3]))["data"]
    assert [r["trackingId"] for r in window["data"]] == ["inv-1", "inv-2", "inv-3"]
    assert window["total"] == 3
    await fake.rate(fake.sent[2], 4)  # re-rated later: it leaves the window
    window = (await ratings(http, fake, from_time=times[1], to_time=times[3]))["data"]
    assert [r["trackingId"] for r in window["data"]] == ["inv-1", "inv-3"]

    for params in ({"limit": 101}, {"limit": 0}, {"offset": "-1"}, {"from_time": "x"}):
        assert (await ratings(http, fake, **params))["error"] == -132, params
    assert (await ratings(http, fake, from_time=times[3], to_time=times[1]))["error"] == -132
    assert (await ratings(http, fake, template_id="999999"))["error"] == -109
    assert (await ratings(http, fake, token="nope"))["error"] == -124
    empty = (await ratings(http, fake, template_id=INVITE))["data"]
    assert empty == {"total": 0, "data": []}

    status, _ = await fake.redeliver(fake.lost[0])  # the lost webhook arrives at last
    assert status == 200 and receiver.raws[-1] == fake.lost[0].raw


async def test_a_delivery_receipt_names_the_citizen_by_phone(http: aiohttp.ClientSession) -> None:
    found = Receiver()
    await found.start()
    fake = FakeZaloZNS(receipts=True, webhook_url=found.url)
    await fake.start()
    try:
        answer = await send(http, fake)
        await fake.drain()
        receipt = found.bodies[0]
        assert receipt["event_name"] == "user_received_message"
        assert receipt["recipient"] == {"id": PHONE} and receipt["sender"] == {"id": DEFAULT_OA_ID}
        assert receipt["message"]["msg_id"] == answer["data"]["msg_id"]
        assert receipt["message"]["delivery_time"].isdigit() and found.refused == 0
    finally:
        await fake.stop()
        assert found.runner is not None
        await found.runner.cleanup()


async def test_injected_faults_and_waiting(fake: FakeZaloZNS, http: aiohttp.ClientSession) -> None:
    fake.fail_next("message", error=-144)
    assert (await send(http, fake))["error"] == -144
    fake.fail_next("/message/template", status=502, times=2)
    body = {"phone": PHONE, "template_id": RATING, "template_data": DATA, "tracking_id": "t"}
    url, headers = f"{fake.url}/message/template", {"access_token": TOKEN}
    for _ in range(2):
        async with http.post(url, json=body, headers=headers) as resp:
            assert resp.status == 502
    assert fake.sent == [] and fake.calls[-1].injected and fake.quota == (500, 500)

    fake.fail_next(status=504, execute=True)  # sent and counted, but the answer is lost
    async with http.post(url, json=body, headers=headers) as resp:
        assert resp.status == 504
    assert len(fake.sent) == 1 and fake.quota == (500, 499)
    fake.fail_next("rating", status=503)
    async with http.get(f"{fake.url}/rating/get", headers=headers) as resp:
        assert resp.status == 503
    with pytest.raises(ValueError):
        fake.fail_next("upload")

    await send(http, fake)
    second = await fake.wait_for_message(PHONE, count=2, timeout=1)
    assert second is fake.sent[1]
    with pytest.raises(TimeoutError):
        await fake.wait_for_message(PHONE, count=3, timeout=0.05)


async def test_tokens_follow_the_oa_or_a_callable(http: aiohttp.ClientSession) -> None:
    oa = FakeZaloOA()
    zns = FakeZaloZNS(oa)
    await zns.start()
    try:
        assert zns.now_ms() - oa.now_ms() < 1000
        assert (await send(http, zns, token=oa.access_token))["error"] == 0
        oa.expire_access_token()
        assert (await send(http, zns, token=oa.access_token))["error"] == -124
        old = oa.access_token
        new, _ = oa.issue_new_pair()
        assert (await send(http, zns, token=old))["error"] == -124
        assert (await send(http, zns, token=new))["error"] == 0

        current = ["first"]
        zns.oa, zns.tokens = None, lambda: current[0]
        assert (await send(http, zns, token="first"))["error"] == 0
        current[0] = "second"
        assert (await send(http, zns, token="first"))["error"] == -124
        assert (await send(http, zns, token="second"))["error"] == 0
    finally:
        await zns.stop()
