"""The one action codec (bot/channels/actions.py) and the numbered options of buttonless
channels (bot/channels/numbered.py)."""

from __future__ import annotations

import pytest

from bot.channels.actions import (
    AlertPress,
    FollowUp,
    ModuleAction,
    SurveyAnswer,
    decode,
    encode,
)
from bot.channels.base import Choice, MessageView
from bot.channels.numbered import numbered, pick
from bot.channels.pieces import pieces
from bot.telegram.sender import CAPABILITIES

ACTIONS = [
    SurveyAnswer(123456789012345678, "F1.WHY", "R2"),
    AlertPress(9, "ack"),
    AlertPress(10, "done"),
    FollowUp(11, True),
    FollowUp(12, False),
    ModuleAction("pv:3:0,1:4"),
]


def modules(data: str) -> bool:
    return data.startswith("pv:")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("prefix", ["", "#sv "])
def test_every_action_round_trips_within_64_bytes(action: object, prefix: str) -> None:
    data = encode(action, prefix=prefix)  # type: ignore[arg-type]
    assert len(data.encode()) <= 64
    assert decode(data, prefix=prefix, owns_module=modules) == action


def test_the_wire_forms_stay_what_chats_already_hold() -> None:
    assert encode(SurveyAnswer(7, "F1", "4")) == "a:7:F1:4"
    assert encode(AlertPress(7, "ack")) == "k:7:a"
    assert encode(FollowUp(7, False)) == "f:7:n"


@pytest.mark.parametrize(
    "data",
    [
        "",
        "a:1234567890123456789:F1:4",  # an id too long for the database
        "a:-1:F1:4",
        "a:1:F1",
        "k:1:x",
        "k:12:a:extra",
        "f:1:maybe",
        "pv:1",  # a module prefix nobody registered
        "zz:1:2",
    ],
)
def test_anything_the_bot_did_not_make_decodes_to_none(data: str) -> None:
    assert decode(data) is None


def test_a_prefixed_payload_without_the_prefix_is_not_an_action() -> None:
    assert decode("a:1:F1:4", prefix="#sv ") is None


def test_numbered_options_replace_the_buttons_and_map_back() -> None:
    view = MessageView(
        "Câu 1/3",
        [[Choice("1. Rất không hài lòng", "a:1:F1:1")], [Choice("Bỏ qua", "a:1:F1:skip")]],
    )
    shown = numbered(view)
    assert shown.choices == []
    assert shown.text.split("\n")[-2:] == ["1. Rất không hài lòng", "2. Bỏ qua"]
    options = view.flat_choices()
    assert pick(options, " 2 ") == "a:1:F1:skip"
    assert pick(options, "1.") == "a:1:F1:1"
    assert pick(options, "3") is None
    assert pick(options, "hai") is None


def test_a_long_view_is_cut_and_keeps_its_choices_on_the_last_piece() -> None:
    view = MessageView("\n".join(["x" * 100] * 100), [[Choice("OK", "pv:1")]])
    parts = pieces(view, CAPABILITIES)
    assert len(parts) == 3
    assert all(len(p.text) <= 4096 for p in parts)
    assert [bool(p.choices) for p in parts] == [False, False, True]


def test_a_picture_caption_is_cut_and_the_rest_follows() -> None:
    view = MessageView("y" * 1500, picture=b"png")
    first, rest = pieces(view, CAPABILITIES)
    assert first.picture == b"png" and len(first.text) == 1024
    assert rest.picture is None and len(rest.text) == 476
