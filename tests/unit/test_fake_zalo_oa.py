"""The fake Zalo Official Account, driven over real HTTP as the product's OA adapter will.

These tests pin down that `tests.fakes.zalo_oa_api.FakeZaloOA` speaks the OA API's wire format
(HTTP 200 with negative `error` codes, buttons and their limits, the 48 h / 7 d windows, single
use refresh tokens) and signs its webhook events as Zalo does, so tests of the adapter can
trust it. The signature is checked here with hashlib, independently of the fake's own code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fakes import tiny_png
from tests.fakes.zalo_oa_api import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_OA_ID,
    DEFAULT_OA_SECRET_KEY,
    SIGNATURE_HEADER,
    FakeZaloOA,
)

USER = "2512523625412515"
OTHER = "8801234567890123"
LIKERT = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


def mac_of(raw: bytes, timestamp: str) -> str:
    digest = hashlib.sha256(
        DEFAULT_APP_ID.encode() + raw + timestamp.encode() + DEFAULT_OA_SECRET_KEY.encode()
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
        if request.headers.get(SIGNATURE_HEADER) != mac_of(raw, str(body.get("timestamp", ""))):
            self.refused += 1
            return web.json_response({"error": "bad signature"}, status=401)
        self.raws.append(raw)
        self.bodies.append(body)
        return web.json_response({"ok": True})

    def named(self, name: str) -> list[dict[str, Any]]:
        return [b for b in self.bodies if b.get("event_name") == name]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/zalo/webhook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/zalo/webhook"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOA]:
    server = FakeZaloOA()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def receiver(fake: FakeZaloOA) -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    fake.webhook_url = found.url
    yield found
    assert found.runner is not None
    await found.runner.cleanup()


async def send(
    http: aiohttp.ClientSession,
    fake: FakeZaloOA,
    message: dict[str, Any],
    *,
    user: str = USER,
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"access_token": fake.access_token if token is None else token}
    body = {"recipient": {"user_id": user}, "message": message}
    async with http.post(f"{fake.url}/v3.0/oa/message/cs", json=body, headers=headers) as resp:
        assert resp.status == 200
        answer: dict[str, Any] = await resp.json()
        return answer


def with_buttons(text: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    return {"text": text, "attachment": {"type": "template", "payload": {"buttons": buttons}}}


def query(title: str, payload: str, kind: str = "oa.query.hide") -> dict[str, Any]:
    return {"title": title, "type": kind, "payload": payload}


async def refresh(
    http: aiohttp.ClientSession,
    fake: FakeZaloOA,
    refresh_token: str,
    *,
    secret: str = DEFAULT_APP_SECRET,
) -> tuple[int, dict[str, Any]]:
    form = {"refresh_token": refresh_token, "app_id": DEFAULT_APP_ID, "grant_type": "refresh_token"}
    url = f"{fake.url}/v4/oa/access_token"
    async with http.post(url, data=form, headers={"secret_key": secret}) as resp:
        if resp.status != 200:
            return resp.status, {}
        return resp.status, await resp.json(content_type=None)


async def test_a_message_with_buttons_is_recorded_and_a_tap_comes_back_as_text(
    fake: FakeZaloOA, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    fake.add_user(USER)
    buttons = [query(label, f"#sv q1 {i}") for i, label in enumerate(LIKERT, 1)]
    answer = await send(http, fake, with_buttons("Câu 1: Anh/chị hài lòng không?", buttons))

    assert answer["error"] == 0 and answer["message"] == "Success"
    assert answer["data"]["user_id"] == USER
    shown = await fake.wait_for_message(USER, contains="Câu 1")
    assert shown.kind == "buttons" and shown.message_id == answer["data"]["message_id"]
    assert shown.buttons[3] == ("Hài lòng", "oa.query.hide", "#sv q1 4")
    assert not shown.billable and fake.billable_count == 0

    status, _ = await fake.tap(USER, shown, "Hài lòng")
    assert status == 200
    tap = receiver.named("user_send_text")[-1]
    assert tap["message"]["text"] == "#sv q1 4"
    assert tap["sender"] == {"id": USER} and tap["recipient"] == {"id": DEFAULT_OA_ID}
    assert isinstance(tap["timestamp"], str) and tap["timestamp"].isdigit()
    with pytest.raises(LookupError):
        await fake.tap(USER, shown, "lòng")  # ambiguous: five titles contain it


async def test_button_and_text_limits_are_refused_with_201(
    fake: FakeZaloOA, http: aiohttp.ClientSession
) -> None:
    fake.add_user(USER)
    six = [query(f"Lựa chọn {i}", f"#sv {i}") for i in range(6)]
    bad_forms = [
        with_buttons("Câu hỏi", six),
        with_buttons("Câu hỏi", [query("x" * 101, "#sv 1")]),
        with_buttons("Câu hỏi", [query("Có", "p" * 1001)]),
        with_buttons("Câu hỏi", [query("Có", "#sv y", kind="oa.query.whatever")]),
        with_buttons("Câu hỏi", [{"title": "Mở", "type": "oa.open.url", "payload": "x"}]),
        {"text": "x" * 2001},
        {"text": ""},
    ]
    for form in bad_forms:
        answer = await send(http, fake, form)
        assert answer == {"error": -201, "message": "Parameters are invalid"}, form
    assert fake.calls[-1].detail is not None and not fake.calls[-1].ok

    url_button = {"title": "Mở", "type": "oa.open.url", "payload": {"url": "https://x.vn/s/a"}}
    five = with_buttons("Câu hỏi", [*six[:4], url_button])
    assert (await send(http, fake, five))["error"] == 0
    assert fake.messages_to(USER)[-1].buttons[4].payload == {"url": "https://x.vn/s/a"}
    with pytest.raises(ValueError):
        await fake.tap(USER, fake.messages_to(USER)[-1], "Mở")


async def test_replies_are_billable_after_48_hours_and_refused_after_7_days(
    fake: FakeZaloOA, http: aiohttp.ClientSession
) -> None:
    fake.add_user(USER)
    fake.advance(hours=47)
    assert fake.window(USER) == "free"
    assert (await send(http, fake, {"text": "trong 48 giờ"}))["error"] == 0
    fake.advance(hours=2)
    assert fake.window(USER) == "billable"
    assert (await send(http, fake, {"text": "sau 49 giờ"}))["error"] == 0
    fake.advance(days=4, hours=22)  # 167 hours since the last interaction
    assert (await send(http, fake, {"text": "gần 7 ngày"}))["error"] == 0
    assert [m.billable for m in fake.messages_to(USER)] == [False, True, True]
    assert fake.billable_count == 2

    fake.advance(hours=2)  # 7 days and 1 hour since the last interaction
    answer = await send(http, fake, {"text": "quá 7 ngày"})
    assert answer["error"] == -230
    assert "7 days" in answer["message"]
    assert len(fake.messages_to(USER)) == 3

    await fake.send_text(USER, "xin chào")  # no webhook: queued only, and it reopens the window
    assert fake.events[-1].name == "user_send_text"
    assert (await send(http, fake, {"text": "lại mở"}))["error"] == 0
    assert fake.messages_to(USER)[-1].billable is False


async def test_unknown_unfollowed_and_never_interacting_users(
    fake: FakeZaloOA, http: aiohttp.ClientSession
) -> None:
    assert (await send(http, fake, {"text": "ai đó"}, user="404"))["error"] == -213
    await fake.follow(USER)
    await fake.unfollow(USER)
    assert (await send(http, fake, {"text": "đã bỏ theo dõi"}))["error"] == -213
    fake.add_user(OTHER, interacted=False)
    assert (await send(http, fake, {"text": "chưa tương tác"}, user=OTHER))["error"] == -230


async def test_tokens_missing_expired_and_rate_limited(
    fake: FakeZaloOA, http: aiohttp.ClientSession
) -> None:
    fake.add_user(USER)
    assert (await send(http, fake, {"text": "a"}, token=""))["error"] == -216
    assert (await send(http, fake, {"text": "a"}, token="nope"))["error"] == -216
    fake.expire_access_token()
    expired = await send(http, fake, {"text": "a"})
    assert expired == {"error": -220, "message": "Access token has expired"}

    status, tokens = await refresh(http, fake, fake.refresh_token)
    assert status == 200 and tokens["access_token"] == fake.access_token
    fake.calls_per_minute = 2
    assert (await send(http, fake, {"text": "1"}))["error"] == 0
    assert (await send(http, fake, {"text": "2"}))["error"] == 0
    assert (await send(http, fake, {"text": "3"}))["error"] == -32
    fake.advance(minutes=1, seconds=1)
    assert (await send(http, fake, {"text": "4"}))["error"] == 0


async def test_refresh_rotates_both_tokens_and_the_old_ones_die(
    fake: FakeZaloOA, http: aiohttp.ClientSession
) -> None:
    fake.add_user(USER)
    old_access, old_refresh = fake.access_token, fake.refresh_token

    status, tokens = await refresh(http, fake, old_refresh)
    assert status == 200
    assert set(tokens) == {"access_token", "refresh_token", "expires_in"}
    assert tokens["expires_in"] == "90000"
    assert tokens["access_token"] == fake.access_token != old_access
    assert tokens["refresh_token"] == fake.refresh_token != old_refresh
    assert fake.refresh_count == 1

    assert (await send(http, fake, {"text": "a"}, token=old_access))["error"] == -216
    assert (await send(http, fake, {"text": "a"}))["error"] == 0
    _, reused = await refresh(http, fake, old_refresh)
    assert reused["error"] == -14014 and "error_name" in reused and "error_description" in reused
    _, wrong_secret = await refresh(http, fake, fake.refresh_token, secret="wrong")
    assert wrong_secret["error"] == -14002
    assert fake.refresh_count == 1

    fake.fail_next("refresh", status=503)
    assert (await refresh(http, fake, fake.refresh_token))[0] == 503
    assert (await refresh(http, fake, fake.refresh_token))[0] == 200
    fake.fail_refresh_for_good()
    _, refused = await refresh(http, fake, fake.refresh_token)
    assert refused["error"] == -14014 and fake.refresh_count == 2


async def test_user_events_are_signed_and_a_send_is_echoed_then_receipted(
    fake: FakeZaloOA, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    status, body = await fake.follow(USER)
    assert (status, json.loads(body)) == (200, {"ok": True})
    follow = receiver.named("follow")[0]
    assert follow["follower"] == {"id": USER} and follow["oa_id"] == DEFAULT_OA_ID
    assert follow["app_id"] == DEFAULT_APP_ID and follow["source"] == "oa_profile"

    answer = await send(http, fake, {"text": "Chào anh/chị"})
    await fake.drain()
    echo, receipt = receiver.bodies[-2:]
    message_id = answer["data"]["message_id"]
    assert echo["event_name"] == "oa_send_text"
    assert echo["sender"] == {"id": DEFAULT_OA_ID} and echo["recipient"] == {"id": USER}
    assert echo["message"] == {"text": "Chào anh/chị", "msg_id": message_id}
    assert receipt["event_name"] == "user_received_message"
    assert receipt["message"] == {"msg_id": message_id}

    await fake.send_sticker(USER)
    await fake.seen(USER)
    sticker, seen = receiver.bodies[-2:]
    assert sticker["message"]["attachments"][0]["type"] == "sticker"
    assert seen["message"] == {"msg_ids": [message_id]}
    assert receiver.refused == 0 and all(d.status == 200 for d in fake.deliveries)


async def test_redelivery_is_byte_identical_and_a_forged_event_is_refused(
    fake: FakeZaloOA, receiver: Receiver
) -> None:
    await fake.send_text(USER, "mã ABCD-EFGH, cảm ơn")
    first = fake.events[-1]
    assert "cảm ơn".encode() in first.raw  # UTF-8 on the wire, not \\u escapes
    await fake.redeliver(first)
    assert receiver.raws == [first.raw, first.raw]

    status, _ = await fake.send_forged(fake.text_event(USER, "giả mạo"))
    assert status == 401
    status, _ = await fake.send_forged(first, mac=None)
    assert status == 401
    assert receiver.refused == 2 and [d.forged for d in fake.deliveries][-2:] == [True, True]

    status, _ = await fake.send_raw_event({"event_name": "something_new", "timestamp": "17"})
    assert status == 200 and receiver.bodies[-1]["event_name"] == "something_new"


async def test_submit_info_needs_a_request_and_reports_the_phone_as_84(
    fake: FakeZaloOA, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await fake.follow(USER)
    with pytest.raises(RuntimeError):
        await fake.submit_info(USER, "0912345678")
    element = {"title": "Chia sẻ số điện thoại", "subtitle": "Để tra cứu hồ sơ", "image_url": ""}
    payload = {"template_type": "request_user_info", "elements": [element]}
    form = {"attachment": {"type": "template", "payload": payload}}
    assert (await send(http, fake, form))["error"] == -201  # image_url must be a URL
    element["image_url"] = "https://khaosat.example.gov.vn/logo.png"
    assert (await send(http, fake, form))["error"] == 0
    assert fake.messages_to(USER)[-1].kind == "request_user_info"

    await fake.submit_info(USER, "0912345678", name="Trần Thị B")
    info = receiver.named("user_submit_info")[-1]["info"]
    assert info["phone"] == "84912345678" and info["name"] == "Trần Thị B"
    assert {"address", "city", "district", "ward"} <= set(info)
    await fake.submit_info(USER, "+84 912 345 678", new_format=True)
    info = receiver.named("user_submit_info")[-1]["info"]
    assert set(info) == {"name", "phone", "full_address"} and info["phone"] == "84912345678"


async def test_upload_then_send_the_image(
    fake: FakeZaloOA, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    fake.add_user(USER)
    headers = {"access_token": fake.access_token}
    url = f"{fake.url}/v2.0/oa/upload/image"

    async def upload(data: bytes, name: str = "qr.png") -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type="image/png")
        async with http.post(url, data=form, headers=headers) as resp:
            answer: dict[str, Any] = await resp.json()
            return answer

    png = tiny_png()
    uploaded = await upload(png)
    attachment_id = uploaded["data"]["attachment_id"]
    assert fake.uploads[attachment_id] == png
    assert (await upload(b"not an image", "a.txt"))["error"] == -201
    assert (await upload(png + b"\0" * (1024 * 1024)))["error"] == -210

    def image(attachment: str) -> dict[str, Any]:
        element = {"media_type": "image", "attachment_id": attachment}
        payload = {"template_type": "media", "elements": [element]}
        return {"text": "Mã QR", "attachment": {"type": "template", "payload": payload}}

    assert (await send(http, fake, image("unknown")))["error"] == -201
    assert (await send(http, fake, image(attachment_id)))["error"] == 0
    sent = fake.messages_to(USER)[-1]
    assert (sent.kind, sent.attachment_id, sent.text) == ("image", attachment_id, "Mã QR")
    await fake.drain()
    assert [b["event_name"] for b in receiver.bodies[-2:]] == [
        "oa_send_image",
        "user_received_message",
    ]


async def test_injected_faults_and_waiting_for_the_nth_message(
    fake: FakeZaloOA, http: aiohttp.ClientSession
) -> None:
    fake.add_user(USER)
    fake.fail_next("message", error=-32)
    assert (await send(http, fake, {"text": "a"}))["error"] == -32
    fake.fail_next("/v3.0/oa/message/cs", status=502)
    headers = {"access_token": fake.access_token}
    body = {"recipient": {"user_id": USER}, "message": {"text": "b"}}
    async with http.post(f"{fake.url}/v3.0/oa/message/cs", json=body, headers=headers) as resp:
        assert resp.status == 502
    assert fake.messages_to(USER) == [] and fake.calls[-1].injected

    fake.fail_next("message", status=504, execute=True)  # sent, but the answer is lost
    async with http.post(f"{fake.url}/v3.0/oa/message/cs", json=body, headers=headers) as resp:
        assert resp.status == 504
    await send(http, fake, {"text": "b"})
    second = await fake.wait_for_message(USER, contains="b", count=2, timeout=1)
    assert second is fake.messages_to(USER)[1]
    with pytest.raises(TimeoutError):
        await fake.wait_for_message(USER, contains="b", count=3, timeout=0.05)
    async with http.get(
        f"{fake.url}/v3.0/oa/quota/message", params={"user_id": USER}, headers=headers
    ) as resp:
        quota = (await resp.json())["data"]
    assert quota["quota_type"] == "reply" and quota["remain"] == quota["total"] - 2
