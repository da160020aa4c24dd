"""Zalo OA webhook events read without I/O: the signature, what each kind is, what of it is
stored, and the neutral event a stored body stands for."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import pytest

from bot.channels.inbound import (
    ChatRef,
    Command,
    Media,
    Press,
    SharedPhone,
    Start,
    Text,
    Unsubscribed,
)
from bot.heads.invites import INVITE_PREFIX
from bot.onestop.links import KeyRing
from bot.sealing import Sealer, SealError
from bot.zalo_oa import TAP_PREFIX
from bot.zalo_oa.events import (
    PHONE_PURPOSE,
    SEALED_PHONE,
    EventError,
    read_event,
    safe_body,
    text_event,
    to_inbound,
)
from bot.zalo_oa.signature import mac, verify

APP_ID = "1384924370520157862"
SECRET = "TEST-ZALO-OA-SECRET-KEY"
OA_ID = "579745863508352884"
USER = "2512523625412515"
TS = "1760000000000"  # 2025-10-09 08:53:20 UTC
SEALER = Sealer(KeyRing.single(b"zalo-oa-events-test"), PHONE_PURPOSE)
CHAT = ChatRef(channel="zalo_oa", external_id=USER, language="vi", private=True)


def from_user(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "user_id_by_app": "5512",
        "event_name": kind,
        "timestamp": TS,
        "sender": {"id": USER},
        "recipient": {"id": OA_ID},
        **fields,
    }


def from_oa(kind: str, **fields: Any) -> dict[str, Any]:
    return {**from_user(kind, **fields), "sender": {"id": OA_ID}, "recipient": {"id": USER}}


def follow(kind: str = "follow") -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "oa_id": OA_ID,
        "event_name": kind,
        "timestamp": TS,
        "source": "oa_profile",
        "follower": {"id": USER},
    }


def text(value: str, msg_id: str = "m1") -> dict[str, Any]:
    return from_user("user_send_text", message={"text": value, "msg_id": msg_id})


def stored(body: dict[str, Any]) -> dict[str, Any]:
    """What the webhook keeps, through JSON as the database would."""
    kept: dict[str, Any] = json.loads(json.dumps(safe_body(body, SEALER)))
    return kept


def inbound(body: dict[str, Any]) -> object:
    return to_inbound(stored(body), sealer=SEALER, oa_id=OA_ID)


# -- the signature ------------------------------------------------------------------------


def test_mac_matches_a_vector_computed_by_hand() -> None:
    raw = b'{"event_name":"user_send_text","timestamp":"1760000000000"}'
    # printf '%s' "$APP_ID$RAW$TS$SECRET" | sha256sum
    expected = "mac=1657067268fbcc94c32b9cf497a38f3c4e7720bd420614aeec66eccb663f9424"
    assert mac(APP_ID, raw, TS, SECRET) == expected
    assert verify(expected, app_id=APP_ID, raw_body=raw, timestamp=TS, secret_key=SECRET)
    assert verify(
        expected.upper().replace("MAC=", "mac="),
        app_id=APP_ID,
        raw_body=raw,
        timestamp=TS,
        secret_key=SECRET,
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "mac=" + "0" * 64,
        "1657067268fbcc94c32b9cf497a38f3c4e7720bd420614aeec66eccb663f9424",
    ],
)
def test_a_wrong_or_missing_mac_is_refused(header: str | None) -> None:
    raw = b'{"event_name":"user_send_text","timestamp":"1760000000000"}'
    assert not verify(header, app_id=APP_ID, raw_body=raw, timestamp=TS, secret_key=SECRET)


def test_the_mac_covers_body_timestamp_app_and_key() -> None:
    raw = b'{"a":1}'
    good = mac(APP_ID, raw, TS, SECRET)
    check = {"app_id": APP_ID, "raw_body": raw, "timestamp": TS, "secret_key": SECRET}
    assert verify(good, **check)  # type: ignore[arg-type]
    for field, other in [
        ("raw_body", b'{"a":2}'),
        ("timestamp", "1760000000001"),
        ("app_id", "1"),
        ("secret_key", "other"),
    ]:
        assert not verify(good, **{**check, field: other})  # type: ignore[arg-type]
    assert not verify(good, app_id=APP_ID, raw_body=raw, timestamp=TS, secret_key="")


# -- what each kind is --------------------------------------------------------------------


def test_a_text_is_an_interaction_acted_on_keyed_by_its_message_id() -> None:
    event = read_event(text("xin chào", "abc123"), oa_id=OA_ID)
    assert event.kind == "user_send_text"
    assert event.dedupe_key == "user_send_text:abc123"
    assert event.user == USER
    assert event.at == datetime(2025, 10, 9, 8, 53, 20)
    assert event.interaction and event.acted and event.known
    assert event.followed is None


@pytest.mark.parametrize(
    ("body", "user", "interaction", "acted", "followed"),
    [
        (follow(), USER, True, True, True),
        (follow("unfollow"), USER, False, True, False),
        (from_user("user_submit_info", info={"phone": "84912345678"}), USER, True, True, None),
        (from_user("user_send_sticker", message={"msg_id": "s1"}), USER, True, True, None),
        (from_user("user_send_image", message={"msg_id": "i1"}), USER, True, True, None),
        (from_oa("oa_send_text", message={"msg_id": "o1", "text": "hi"}), USER, False, False, None),
        (from_oa("user_received_message", message={"msg_id": "o1"}), USER, False, False, None),
        (from_oa("user_seen_message", message={"msg_ids": ["o1"]}), USER, False, False, None),
        # Anything our OA sent is an echo, whatever its kind says.
        (from_oa("user_send_text", message={"msg_id": "o2"}), USER, False, False, None),
        (from_user("user_reacted_message", message={"msg_id": "r"}), USER, False, False, None),
    ],
)
def test_each_kind_names_its_user_and_whether_it_counts(
    body: dict[str, Any], user: str, interaction: bool, acted: bool, followed: bool | None
) -> None:
    event = read_event(body, oa_id=OA_ID)
    assert (event.user, event.interaction, event.acted, event.followed) == (
        user,
        interaction,
        acted,
        followed,
    )


def test_receipts_and_echoes_and_unknown_kinds_are_only_recorded() -> None:
    for body in (
        from_oa("oa_send_text", message={"msg_id": "o1", "text": "hi"}),
        from_oa("oa_send_image", message={"msg_id": "o3"}),
        from_oa("user_received_message", message={"msg_id": "o1"}),
        from_oa("user_seen_message", message={"msg_ids": ["o1", "o2"]}),
        from_user("something_new", message={"msg_id": "n1"}),
    ):
        assert inbound(body) is None
    assert not read_event(from_user("something_new"), oa_id=OA_ID).known
    assert read_event(from_oa("user_seen_message"), oa_id=OA_ID).known


def test_dedupe_keys() -> None:
    raw = b'{"event_name":"follow"}'
    keyed = read_event(follow(), raw, oa_id=OA_ID)
    assert keyed.dedupe_key == "sha256:" + hashlib.sha256(raw).hexdigest()
    # The same kind and message id is the same event; another kind is another.
    assert read_event(text("a", "m9")).dedupe_key == read_event(text("b", "m9")).dedupe_key
    receipt = from_oa("user_received_message", message={"msg_id": "m9"})
    assert read_event(receipt).dedupe_key == "user_received_message:m9"
    # Without the raw body, a body without message id is keyed by its content.
    assert read_event(follow()).dedupe_key == read_event(dict(follow())).dedupe_key
    assert read_event(follow()).dedupe_key != read_event(follow("unfollow")).dedupe_key
    # A ZNS rating may be given twice for one message: each submission is its own event.
    rating = {"event_name": "user_feedback", "timestamp": TS, "oa_id": OA_ID}
    first = {**rating, "message": {"msg_id": "z1", "submit_time": "1", "tracking_id": "inv-7"}}
    again = {**rating, "message": {"msg_id": "z1", "submit_time": "2", "tracking_id": "inv-7"}}
    assert read_event(first).dedupe_key == "user_feedback:z1:1"
    assert read_event(first).dedupe_key != read_event(again).dedupe_key
    assert read_event(first).user == "zns:inv-7"
    assert len(read_event(text("x", "m" * 500)).dedupe_key) <= 128


@pytest.mark.parametrize(
    "body",
    [
        {"timestamp": TS},
        {"event_name": "", "timestamp": TS},
        {"event_name": "follow"},
        {"event_name": "follow", "timestamp": "yesterday"},
        {"event_name": "follow", "timestamp": None},
        {"event_name": 5, "timestamp": TS},
    ],
)
def test_no_kind_or_no_timestamp_is_no_event(body: dict[str, Any]) -> None:
    with pytest.raises(EventError):
        read_event(body)


# -- what is stored -----------------------------------------------------------------------


def test_the_stored_body_has_the_phone_sealed_and_no_name_or_address() -> None:
    body = from_user(
        "user_submit_info",
        info={
            "name": "Nguyễn Văn A",
            "phone": "84912345678",
            "address": "12 Lê Lợi",
            "city": "Thừa Thiên Huế",
            "district": "Thành phố Huế",
            "ward": "Phường Phú Hội",
            "full_address": "12 Lê Lợi, Phường Phú Hội",
        },
    )
    kept = stored(body)
    dumped = json.dumps(kept, ensure_ascii=False)
    for secret in ("84912345678", "912345678", "Nguyễn", "Lê Lợi", "Huế", "Phú Hội"):
        assert secret not in dumped
    assert set(kept["info"]) == {SEALED_PHONE}
    assert SEALER.open(kept["info"][SEALED_PHONE]) == "84912345678"
    assert kept["sender"] == {"id": USER}


def test_a_phone_standing_for_a_user_id_is_not_stored() -> None:
    receipt = {
        "event_name": "user_received_message",
        "app_id": APP_ID,
        "timestamp": TS,
        "sender": {"id": OA_ID},
        "recipient": {"id": "84912345678"},
        "message": {"msg_id": "z9", "tracking_id": "inv-3", "delivery_time": TS},
    }
    event = read_event(receipt)
    assert event.user == "zns:inv-3"
    assert "912345678" not in json.dumps(stored(receipt))
    assert read_event(stored(receipt)).user == event.user


def test_attachments_are_stored_as_their_types_only() -> None:
    url = "https://photo.zdn.vn/private/a.jpg"
    body = from_user(
        "user_send_location",
        message={
            "msg_id": "l1",
            "text": "nhà tôi",
            "attachments": [{"type": "location", "payload": {"coordinates": {"latitude": "16"}}}],
        },
    )
    image = from_user(
        "user_send_image",
        message={"msg_id": "i1", "attachments": [{"type": "image", "payload": {"url": url}}]},
    )
    assert stored(body)["message"] == {"msg_id": "l1", "attachment_types": ["location"]}
    assert url not in json.dumps(stored(image))


def test_echo_text_is_not_kept() -> None:
    echo = from_oa("oa_send_text", message={"msg_id": "o1", "text": "Mã hồ sơ HS-1"})
    assert "HS-1" not in json.dumps(stored(echo))


# -- the neutral events -------------------------------------------------------------------


def test_each_acted_kind_becomes_its_neutral_event() -> None:
    assert inbound(follow()) == Start(CHAT)
    assert inbound(follow("unfollow")) == Unsubscribed(CHAT)
    shared = from_user("user_submit_info", info={"name": "A", "phone": "84912345678"})
    assert inbound(shared) == SharedPhone(CHAT, "84912345678", own=True)
    for kind in ("user_send_sticker", "user_send_image", "user_send_gif", "user_send_file"):
        assert inbound(from_user(kind, message={"msg_id": "x"})) == Media(CHAT)
    assert inbound(text("xin chào")) == Text(CHAT, "xin chào")


def test_a_shared_info_without_phone_is_nothing() -> None:
    assert inbound(from_user("user_submit_info", info={"name": "A"})) is None


def test_a_phone_sealed_with_another_key_does_not_open() -> None:
    kept = stored(from_user("user_submit_info", info={"phone": "84912345678"}))
    other = Sealer(KeyRing.single(b"another key"), PHONE_PURPOSE)
    with pytest.raises(SealError):
        to_inbound(kept, sealer=other, oa_id=OA_ID)


def test_typed_text_splits_like_the_telegram_handlers() -> None:
    invite = INVITE_PREFIX + "Ab3-_" * 4 + "xy"
    assert len(invite) == 23
    assert inbound(text(TAP_PREFIX + "s:12:q1:4")) == Press(CHAT, "s:12:q1:4")
    assert inbound(text("/report")) == Command(CHAT, "report")
    assert inbound(text("/report 2026-09 HUE")) == Command(CHAT, "report", ("2026-09", "HUE"))
    assert inbound(text("/Stop")) == Command(CHAT, "stop")
    assert inbound(text("/start x")) == Start(CHAT, "x")
    assert inbound(text("/start")) == Start(CHAT, None)
    assert inbound(text(f" {invite} ")) == Start(CHAT, invite)
    assert inbound(text("mã ABCD-EFGH")) == Text(CHAT, "mã ABCD-EFGH")
    # Not a tap: the prefix must open the text; an invite code is only one alone.
    assert text_event(CHAT, "xem #sv s:1") == Text(CHAT, "xem #sv s:1")
    assert text_event(CHAT, f"mã {invite}") == Text(CHAT, f"mã {invite}")
    assert text_event(CHAT, "i" + "a" * 21) == Text(CHAT, "i" + "a" * 21)
