"""The editing rules of the questionnaire draft, the admin texts and the preview's position."""

from __future__ import annotations

import random
import re
import string
from pathlib import Path
from typing import Any

import pytest

from bot.commands import questionnaire_admin as admin
from bot.commands import questionnaire_dialogs as dialogs
from bot.commands import questionnaire_edits as edits
from bot.commands import questionnaire_input as inp
from bot.commands import questionnaire_preview as preview
from bot.commands import questionnaire_rules as rules
from bot.commands.questionnaire_edits import error_text
from bot.commands.questionnaire_input import EditError
from bot.commands.questionnaire_texts import MESSAGES, qtext
from bot.survey.engine import Given, ask_order, next_question, progress
from bot.survey.questionnaire import Questionnaire, builtin
from bot.telegram.render import question_keyboard


def short() -> dict[str, Any]:
    return builtin("short").to_dict()


def question(definition: dict[str, Any], code: str) -> dict[str, Any]:
    return next(q for q in definition["questions"] if q["code"] == code)


def refused(key: str, fn: Any, *args: Any) -> EditError:
    with pytest.raises(EditError) as caught:
        fn(*args)
    assert caught.value.key == key, caught.value.key
    return caught.value


# -- parsing what an admin types ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [("vi", "text_vi"), ("Loại", "kind"), ("chủ đề", "topic"), ("Nhóm", "factor"),
     ("bắt buộc", "required"), ("lựa chọn", "options"), ("tối đa", "max_choices"),
     ("kind", "kind")],
)  # fmt: skip
def test_fields_are_understood_with_or_without_diacritics(raw: str, field: str) -> None:
    assert inp.parse_field(raw) == field


def test_values_are_parsed_or_refused_with_a_reason() -> None:
    assert inp.parse_kind("2") == "yes_no"
    assert inp.parse_kind("Có/Không".replace("/", "")) == "yes_no"
    assert inp.parse_kind("Tự luận") == "text"
    refused("bad_kind", inp.parse_kind, "5")
    assert inp.parse_required("Có") is True and inp.parse_required("không") is False
    refused("bad_required", inp.parse_required, "có lẽ")
    assert inp.parse_factor("3") == 3 and inp.parse_factor("-") is None
    refused("bad_factor", inp.parse_factor, "6")
    assert inp.parse_topic("1", "yes_no") == "money_asked"
    refused("bad_topic", inp.parse_topic, "4", "yes_no")
    refused("bad_code", inp.parse_code, "câu 1")
    refused("empty_text", inp.parse_text, "   ")
    refused("text_too_long", inp.parse_text, "a" * (inp.MAX_TEXT + 1))
    assert inp.parse_text("  Hai   dòng\nmột câu ") == "Hai dòng một câu"
    assert inp.parse_base("Đầy đủ") == "full" and inp.parse_base("rút gọn") == "short"
    refused("bad_base", inp.parse_base, "dài")


def test_options_one_a_line_or_separated_by_semicolons() -> None:
    expected = [
        {"code": "A1", "text_vi": "Chờ lâu", "text_en": "Long wait"},
        {"code": "A2", "text_vi": "Thiếu hướng dẫn", "text_en": "No guidance"},
    ]
    assert inp.parse_options("A1 = Chờ lâu | Long wait\nA2=Thiếu hướng dẫn|No guidance") == (
        expected
    )
    assert inp.parse_options("A1 = Chờ lâu | Long wait; A2 = Thiếu hướng dẫn | No guidance") == (
        expected
    )
    refused("need_options", inp.parse_options, "A1 = Chờ lâu | Long wait")
    refused("bad_option", inp.parse_options, "A1 = Chờ lâu; A2 = Khác | Other")
    refused("bad_option_code", inp.parse_options, "A-1 = Chờ | Wait; A2 = Khác | Other")
    refused("option_twice", inp.parse_options, "A = Chờ | Wait; A = Khác | Other")
    refused("option_too_long", inp.parse_options, f"A = {'x' * 61} | y; B = Khác | Other")


# -- editing --------------------------------------------------------------------------------


def test_edit_text_returns_only_what_changed() -> None:
    new, before, after = rules.edit("short", short(), "F1", {"vi": "Câu mới"})
    assert question(new, "F1")["text_vi"] == "Câu mới"
    assert before == {"text_vi": question(short(), "F1")["text_vi"]}
    assert after == {"text_vi": "Câu mới"}
    assert [q["code"] for q in new["questions"]] == [q["code"] for q in short()["questions"]]


def test_unknown_question_or_no_change_is_refused() -> None:
    refused("unknown_code", rules.edit, "short", short(), "F9", {"vi": "x"})
    same = question(short(), "F1")["text_vi"]
    refused("unchanged", rules.edit, "short", short(), "F1", {"vi": f"  {same} "})


def test_kind_change_needs_a_fitting_topic_and_drops_options() -> None:
    # a complaint question cannot silently become a five-level score
    error = refused("kind_needs_topic", rules.edit, "short", short(), "MONEY", {"loai": "likert5"})
    assert error.params["topics"] == "criterion, overall"
    new, _b, after = rules.edit("short", short(), "MONEY", {"loai": "likert5", "chude": "overall"})
    assert (question(new, "MONEY")["kind"], question(new, "MONEY")["topic"]) == (
        "likert5",
        "overall",
    )
    assert after == {"kind": "likert5", "topic": "overall"}
    # EXPECT (choice) → text: the only text topic is chosen, options are dropped
    new, _b, _a = rules.edit("short", short(), "EXPECT", {"kind": "text"})
    expect = question(new, "EXPECT")
    assert (expect["topic"], expect["options"], expect["max_choices"]) == ("suggestion", [], 1)


def test_a_choice_needs_options_first() -> None:
    refused("kind_needs_options", rules.edit, "short", short(), "COMMENT", {"kind": "choice"})
    new, _b, _a = rules.edit(
        "short",
        short(),
        "COMMENT",
        {"kind": "choice", "options": "A = Một | One; B = Hai | Two", "topic": "expectations"},
    )
    assert [o["code"] for o in question(new, "COMMENT")["options"]] == ["A", "B"]


def test_topic_must_fit_the_kind_and_factor_the_topic() -> None:
    refused("topic_kind", rules.edit, "short", short(), "F1", {"topic": "money_asked"})
    refused(
        "topic_kind", rules.edit, "short", short(), "F1", {"kind": "likert5", "topic": "visits"}
    )
    refused("factor_unused", rules.edit, "short", short(), "OVERALL", {"factor": "2"})
    full = builtin("full").to_dict()
    refused("factor_needed", rules.edit, "full", full, "1.1", {"factor": "-"})


def test_branch_rules_hold() -> None:
    # F1 is the only five-level question of factor 1, and F1.WHY hangs on it
    refused("branch_no_likert", rules.edit, "short", short(), "F1", {"factor": "2"})
    refused("branch_no_likert", rules.remove, "short", short(), "F1")
    refused("branch_optional", rules.edit, "short", short(), "F1.WHY", {"required": "co"})
    # moving a reason to another factor moves its branch too
    removed, _ = rules.remove("short", short(), "F2.WHY")
    new, _b, after = rules.edit("short", removed, "F1.WHY", {"factor": "2"})
    assert question(new, "F1.WHY")["after_low_in_factor"] == 2
    assert after == {"factor": 2, "after_low_in_factor": 2}


def test_max_choices_must_fit_the_options() -> None:
    refused("bad_max", rules.edit, "short", short(), "EXPECT", {"toida": "9"})
    new, _b, _a = rules.edit("short", short(), "EXPECT", {"toida": "3"})
    assert question(new, "EXPECT")["max_choices"] == 3


def test_a_form_keeps_a_five_level_question() -> None:
    minimal = {
        "questions": [
            {
                "code": "Q",
                "kind": "likert5",
                "topic": "overall",
                "factor": None,
                "text_vi": "Hài lòng?",
                "text_en": "Satisfied?",
            }
        ]
    }
    refused("need_likert", rules.remove, "custom", minimal, "Q")


def test_add_appends_a_checked_question() -> None:
    fields = {
        "code": "WAIT",
        "kind": "yes_no",
        "topic": "on_time",
        "text_vi": "Ông/Bà có phải chờ lâu không?",
        "text_en": "Did you wait long?",
        "required": False,
    }
    new = rules.add("short", short(), rules.new_question(fields))
    assert new["questions"][-1]["code"] == "WAIT" and new["questions"][-1]["required"] is False
    refused("code_taken", rules.add, "short", new, rules.new_question(fields))
    refused("code_taken", rules.add, "short", new, rules.new_question({**fields, "code": "wait"}))
    assert rules.known_code(new, "f1.why") == "F1.WHY"
    refused("unknown_code", rules.known_code, new, "F1.WHYNOT")
    reason = rules.new_question(
        {
            "code": "F1.WHY2",
            "kind": "choice",
            "topic": "reason",
            "factor": 1,
            "text_vi": "Vì sao?",
            "text_en": "Why?",
            "options": inp.parse_options("A = Chờ | Wait; B = Khác | Other"),
        }
    )
    assert (reason["after_low_in_factor"], reason["required"]) == (1, False)


def test_move_reorders_and_checks_the_position() -> None:
    new, old_at, new_at = rules.move("short", short(), "COMMENT", "1")
    assert new["questions"][0]["code"] == "COMMENT" and (old_at, new_at) == (16, 1)
    refused("bad_position", rules.move, "short", short(), "COMMENT", "17")
    refused("bad_position", rules.move, "short", short(), "COMMENT", "đầu")


def test_differences_name_what_the_draft_changes() -> None:
    draft, _b, _a = rules.edit("short", short(), "F2", {"vi": "Khác"})
    draft, _ = rules.remove("short", draft, "COMMENT")
    draft, _o, _n = rules.move("short", draft, "OVERALL", "1")
    assert rules.differences(short(), draft) == {
        "added": [],
        "removed": ["COMMENT"],
        "changed": ["F2"],
        "moved": ["order"],
    }
    assert rules.differences(short(), rules.rebase("short")) == {
        "added": [],
        "removed": [],
        "changed": [],
        "moved": [],
    }


# -- texts ----------------------------------------------------------------------------------


def test_every_message_exists_in_both_languages_with_the_same_placeholders() -> None:
    formatter = string.Formatter()
    assert MESSAGES["vi"].keys() == MESSAGES["en"].keys()
    for key, vi in MESSAGES["vi"].items():

        def names(text: str) -> set[str]:
            return {name for _, name, _, _ in formatter.parse(text) if name}

        assert names(vi) == names(MESSAGES["en"][key]), key


def test_every_refusal_has_a_vietnamese_message() -> None:
    sources = [rules.__file__, inp.__file__, dialogs.__file__, edits.__file__, admin.__file__]
    raised = {
        key
        for path in sources
        for key in re.findall(r'(?:EditError\(|qtext\([^,]+,)\s*"(\w+)"', Path(path).read_text())
    }
    assert {"no_form", "kind_needs_topic", "edited", "published"} <= raised
    raised |= {key for _, key in rules._CHECK_KEYS}
    missing = raised - MESSAGES["vi"].keys()
    assert not missing
    # a broken form read back from `check` is translated, never shown in English
    broken = short()
    broken["questions"] = [*broken["questions"], dict(question(broken, "F1"))]
    error = refused("code_taken", rules.validated, "short", broken)
    assert error_text("vi", error) == "Mã “F1” đã có trong bộ câu hỏi; hãy chọn mã khác."
    assert qtext("en", "code_taken", code="F1").startswith("Code “F1” is already used")


# -- preview position -----------------------------------------------------------------------


def test_preview_data_round_trips_and_fits_telegram() -> None:
    form = builtin("full")
    position = preview.Position("a1b2c3", answered=len(form.questions), lows=(0, 5, 10, 15, 20))
    data = preview.press_data(position, (0, 1, 2, 3, 4, 5, 6, 7), "OTHER")
    assert len(data.encode()) <= 64
    assert preview.parse_data(data) == (position, (0, 1, 2, 3, 4, 5, 6, 7), "OTHER")
    assert preview.parse_data("pv:zz:1") is None and preview.parse_data("a:1:F1:5") is None


@pytest.mark.parametrize("base", ["short", "full"])
def test_preview_follows_the_same_branches_as_a_real_survey(base: str) -> None:
    form = builtin(base)
    rng = random.Random(7)
    for _ in range(50):
        answers: dict[str, Given] = {}
        position = preview.Position("x")
        while (q := next_question(form, answers)) is not None:
            assert next_question(form, preview.replay(form, position)) == q
            replayed = preview.replay(form, position)
            assert progress(form, replayed) == progress(form, answers)
            if q.kind == "likert5":
                given = Given(value_int=rng.randint(1, 5))
            else:
                given = Given(skipped=True)
            position = preview.advanced(form, position, q, given)
            answers[q.code] = given
        assert [x.code for x in ask_order(form, answers)] == [
            x.code for x in ask_order(form, preview.replay(form, position))
        ]


def test_preview_shows_the_citizens_buttons() -> None:
    form = Questionnaire.from_dict(short())
    for code in ("F1", "F1.WHY", "MONEY", "EXPECT", "COMMENT"):
        q = form.question(code)
        assert q is not None
        citizen = question_keyboard(1, q, "vi")
        labels = [[b.text for b in row] for row in citizen.inline_keyboard] if citizen else []
        position = preview.Position("x")
        shown = preview._buttons(q, position, "vi", ())
        assert [[b.label for b in row] for row in shown] == labels
        assert all(b.data.startswith("pv:x:") for row in shown for b in row)
