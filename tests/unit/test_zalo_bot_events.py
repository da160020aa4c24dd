"""Reading Zalo Bot Platform updates into neutral events (`bot.zalo_bot.events`).

The updates are the shapes the platform sends (the fake server's, `tests.fakes.zalo_bot_api`):
wrapped or flat, text, sticker or image; what the router hears must not depend on the wrapper.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from bot.channels.inbound import ChatRef, Command, Media, Start, Text
from bot.zalo_bot.events import read_update
from tests.fakes.zalo_bot_api import IMAGE_EVENT, STICKER_EVENT, TEXT_EVENT

USER = "e4ea2cd5189df1c3a88c"
INVITE = "i" + "Ab3_-" * 4 + "xy"  # "i" and 22 characters, as `RoleInvites` makes them


SENDER = {"id": USER, "display_name": "Nguyễn Văn A", "is_bot": False}


def update(
    text: str | None = "Xin chào", *, event: str = TEXT_EVENT, sender: Any = SENDER, **message: Any
) -> dict[str, Any]:
    """An update as the platform sends it; `sender` is the message's "from"."""
    found: dict[str, Any] = {
        "message_id": "2b7c1e0f9a8d",
        "date": 1_760_000_000_000,
        "chat": {"id": USER, "chat_type": "PRIVATE"},
        "from": sender,
    }
    if text is not None:
        found["text"] = text
    found.update(message)
    return {"event_name": event, "message": found}


def chat(**fields: Any) -> ChatRef:
    values: dict[str, Any] = {
        "channel": "zalo_bot",
        "external_id": USER,
        "language": "vi",
        "private": True,
        "name": "Nguyễn Văn A",
    }
    values.update(fields)
    return ChatRef(**values)


def event_of(text: str) -> object:
    found = read_update(update(text))
    assert found is not None
    return found.event


def test_a_wrapped_and_a_flat_body_read_the_same() -> None:
    flat = read_update(update("Xin chào"))
    wrapped = read_update({"ok": True, "result": update("Xin chào")})
    assert flat is not None and wrapped is not None
    assert flat == wrapped
    assert (flat.dedupe_key, flat.kind, flat.user) == ("2b7c1e0f9a8d", TEXT_EVENT, USER)
    assert flat.event == Text(chat(), "Xin chào")
    assert flat.body == update("Xin chào"), "the update is stored unwrapped"


def test_the_stored_body_reads_back_to_the_same_event() -> None:
    found = read_update(update("4"))
    assert found is not None
    stored = {**found.body, "_user": found.user}  # what the inbox keeps
    again = read_update(stored)
    assert again is not None and again.event == found.event == Text(chat(), "4")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", Start(chat(), None)),
        ("/start abc_DEF-1", Start(chat(), "abc_DEF-1")),
        ("  /START abc  ", Start(chat(), "abc")),
        ("/stop", Command(chat(), "stop")),
        ("/Help", Command(chat(), "help")),
        ("/language en", Command(chat(), "language", ("en",))),
        ("/status H12.22-261001-0001", Command(chat(), "status", ("H12.22-261001-0001",))),
        ("/report 2026-09  csv", Command(chat(), "report", ("2026-09", "csv"))),
        ("/alerts@sipas_bot", Command(chat(), "alerts")),
    ],
)
def test_commands_are_read_by_name(text: str, expected: object) -> None:
    assert event_of(text) == expected


@pytest.mark.parametrize("text", ["/hài lòng", "/ 4", "/", "a /stop", "4", "hai long", "HL"])
def test_other_text_stays_text_for_the_router(text: str) -> None:
    assert event_of(text) == Text(chat(), text)


def test_a_bare_invite_code_starts_like_a_deep_link() -> None:
    assert event_of(INVITE) == Start(chat(), INVITE)
    assert event_of(f"  {INVITE}\n") == Start(chat(), INVITE)


@pytest.mark.parametrize(
    "text", [INVITE[:-1], INVITE + "z", f"mã {INVITE}", "x" + INVITE[1:], INVITE[:10] + "é" * 13]
)
def test_what_is_not_exactly_an_invite_code_is_text(text: str) -> None:
    assert event_of(text) == Text(chat(), text)


def test_stickers_images_and_empty_text_are_media() -> None:
    sticker = update(None, event=STICKER_EVENT, sticker="bfe458bf", url="https://zalo/e")
    image = update(None, event=IMAGE_EVENT, photo_url="https://photo/x.jpg", caption="ảnh")
    for body in (sticker, image, update("   "), update(None, event="message.unknown.received")):
        found = read_update(body)
        assert found is not None and found.event == Media(chat()), body
    found = read_update(sticker)
    assert found is not None and found.kind == STICKER_EVENT


def test_a_group_chat_is_not_private_and_an_absent_type_is() -> None:
    group = update("4", chat={"id": "g-77", "chat_type": "GROUP"})
    found = read_update(group)
    assert found is not None
    assert found.event == Text(chat(external_id="g-77", private=False), "4")
    assert found.user == USER, "the inbox orders a group's updates by their sender"
    untyped = read_update(update("4", chat={"id": USER}))
    assert untyped is not None and untyped.event == Text(chat(), "4")


def test_numeric_ids_become_text_and_a_missing_chat_falls_back_to_the_sender() -> None:
    found = read_update(update("4", chat=None, sender={"id": 12345, "display_name": "B"}))
    assert found is not None
    assert found.user == "12345"
    assert found.event == Text(chat(external_id="12345", name="B"), "4")


def test_the_bots_own_messages_and_chatless_updates_are_not_acted_on() -> None:
    own = read_update(update("4", sender={"id": "bot", "is_bot": True}))
    assert own is not None and own.event is None
    nobody = read_update(update("4", chat=None, sender=None))
    assert nobody is not None and nobody.event is None and nobody.user == ""


def test_without_a_message_id_the_key_is_the_updates_hash() -> None:
    body = update("4", message_id=None)
    found = read_update(body)
    assert found is not None
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert found.dedupe_key == hashlib.sha256(canonical.encode()).hexdigest()
    other = read_update(update("5", message_id=None))
    assert other is not None and other.dedupe_key != found.dedupe_key
    wrapped = read_update({"ok": True, "result": body})
    assert wrapped is not None and wrapped.dedupe_key == found.dedupe_key


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ok": True},
        {"ok": True, "result": "nothing"},
        {"ok": True, "result": {"event_name": TEXT_EVENT}},
        {"event_name": 5, "message": {}},
        {"event_name": TEXT_EVENT, "message": "hello"},
        {"update_id": 1, "message": {"text": "telegram"}},
    ],
)
def test_a_body_that_is_no_update_is_refused(body: dict[str, Any]) -> None:
    assert read_update(body) is None
