"""Typed numbers on channels without buttons: what the sender records and what a typed
message picks (bot/channels/numbered.py, bot/conversation/typed.py)."""

from __future__ import annotations

from bot.channels.actions import answer_action
from bot.channels.base import Capabilities, Choice, MessageView
from bot.channels.numbered import as_shown, typed_numbers
from bot.conversation.typed import OutOfRange, Picks, read_typed, survey_options

PLAIN = Capabilities(max_buttons=0, edits_in_place=False, command_menus=False, text_limit=2000)
BUTTONS = Capabilities(max_buttons=100, edits_in_place=True, command_menus=True, text_limit=4096)
LIKERT = tuple(answer_action(7, "F1", str(level)) for level in range(1, 6))
MULTI = (answer_action(7, "EX", "E1"), answer_action(7, "EX", "E2"), answer_action(7, "EX", "done"))


def test_typed_numbers_read_one_or_a_list_and_nothing_else() -> None:
    assert typed_numbers(" 2 ") == (2,)
    assert typed_numbers("2.") == (2,)
    assert typed_numbers("1, 3") == (1, 3)
    assert typed_numbers("1 3;4") == (1, 3, 4)
    for other in ("", "hai", "1.5", "²", "①", "1, a", "1234567"):
        assert typed_numbers(other) is None, other


def test_numbered_options_record_what_the_numbers_mean() -> None:
    view = MessageView("Câu 1/5", [[Choice("Có", "k:1:a")], [Choice("Không", "k:1:d")]])
    shown, actions = as_shown(view, PLAIN)
    assert shown.choices == [] and shown.text.endswith("1. Có\n2. Không")
    assert actions == ("k:1:a", "k:1:d")
    assert as_shown(view, BUTTONS) == (view, None)
    assert as_shown(MessageView("no choices"), PLAIN) == (MessageView("no choices"), None)


def test_more_options_than_the_channel_has_buttons_are_numbered_and_recorded() -> None:
    """The Zalo OA carries five buttons: a longer list is typed by number there too."""
    few = Capabilities(max_buttons=5, edits_in_place=False, command_menus=False, text_limit=2000)
    options = [[Choice(f"Phương án {n}", f"k:{n}:a")] for n in range(1, 8)]
    shown, actions = as_shown(MessageView("Câu 9/11", options), few)
    assert shown.choices == [] and "7. Phương án 7" in shown.text
    assert actions == tuple(f"k:{n}:a" for n in range(1, 8))
    five = MessageView("Câu 1/11", options[:5])
    assert as_shown(five, few) == (five, ())


def test_pending_survey_options_are_told_apart() -> None:
    likert = survey_options(LIKERT)
    assert likert is not None and (likert.code, likert.multi) == ("F1", False)
    found = survey_options(MULTI)
    assert found is not None and (found.survey_id, found.code, found.multi) == (7, "EX", True)
    assert survey_options(("k:1:a", "k:1:d")) is None
    assert survey_options((LIKERT[0], answer_action(8, "F1", "2"))) is None


def test_a_typed_message_picks_presses_or_is_out_of_range() -> None:
    assert read_typed("4", LIKERT, multi=False) == Picks((LIKERT[3],))
    assert read_typed("6", LIKERT, multi=False) == OutOfRange(5)
    assert read_typed("0", LIKERT, multi=False) == OutOfRange(5)
    assert read_typed("1, 3", LIKERT, multi=False) == OutOfRange(5)
    assert read_typed("hài lòng", LIKERT, multi=False) is None  # words go to the engine
    assert read_typed("2, 1, 2", MULTI, multi=True) == Picks((MULTI[1], MULTI[0]))
    assert read_typed("Xong", MULTI, multi=True) == Picks((MULTI[2],))
    assert read_typed("done", MULTI, multi=True) == Picks((MULTI[2],))
    assert read_typed("xong", LIKERT, multi=False) is None
