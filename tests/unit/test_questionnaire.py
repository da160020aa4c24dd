"""The built-in SIPAS questionnaires (bot/data/questionnaires.json) and the rules they obey."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from typing import Any

import pytest

from bot.survey.questionnaire import (
    DATA_FILE,
    FORMS,
    Option,
    Question,
    Questionnaire,
    QuestionnaireError,
    builtin,
    check,
)

CRITERIA = [
    "1.1", "1.2", "1.3", "1.4",
    "2.1", "2.2", "2.3", "2.4",
    "3.1", "3.2", "3.3", "3.4", "3.5",
    "4.1", "4.2", "4.3",
    "5.1", "5.2", "5.3",
]  # fmt: skip
VI_MARKS = set("ạảãàáâấầẩẫậăắằẳẵặẹẻẽèéêếềểễệịỉĩìíọỏõòóôốồổỗộơớờởỡợụủũùúưứừửữựỵỷỹỳýđ")
CALLBACK_LIMIT = 64  # Telegram's callback_data limit, in bytes
SURVEY_ID = "9" * 10
MAX_OPTION = 40
MAX_TEXT = 200


def callback(question: str, option: str) -> bytes:
    return f"a:{SURVEY_ID}:{question}:{option}".encode()


def vi_texts(form: Questionnaire) -> list[tuple[str, str]]:
    out = [(q.code, q.text_vi) for q in form.questions]
    out += [(f"{q.code}/{o.code}", o.text_vi) for q in form.questions for o in q.options]
    return [*out, (f"{form.base}/title", form.title_vi)]


def en_texts(form: Questionnaire) -> list[tuple[str, str]]:
    out = [(q.code, q.text_en) for q in form.questions]
    out += [(f"{q.code}/{o.code}", o.text_en) for q in form.questions for o in q.options]
    return [*out, (f"{form.base}/title", form.title_en)]


@pytest.fixture(params=FORMS)
def form(request: pytest.FixtureRequest) -> Questionnaire:
    return builtin(request.param)


@pytest.fixture
def short() -> Questionnaire:
    return builtin("short")


@pytest.fixture
def full() -> Questionnaire:
    return builtin("full")


def with_questions(form: Questionnaire, questions: list[Question]) -> Questionnaire:
    return dataclasses.replace(form, questions=tuple(questions))


def get(form: Questionnaire, code: str) -> Question:
    q = form.question(code)
    assert q is not None, code
    return q


def replaced(form: Questionnaire, target: str, **changes: Any) -> list[Question]:
    assert form.question(target) is not None, target
    return [dataclasses.replace(q, **changes) if q.code == target else q for q in form.questions]


# --- loading -------------------------------------------------------------------------------------


def test_data_file_is_utf8_json_with_both_forms() -> None:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert set(data["forms"]) == set(FORMS)
    for body in data["forms"].values():
        assert {"title_vi", "title_en", "questions"} <= set(body)


def test_forms_load_and_pass_check(form: Questionnaire) -> None:
    check(form)
    assert form.base in FORMS
    assert form.version == 0
    assert form.title_vi.strip() and form.title_en.strip()


def test_titles() -> None:
    assert "rút gọn" in builtin("short").title_vi
    full = builtin("full")
    assert "SIPAS" in full.title_vi and "19" in full.title_vi
    assert "19" in full.title_en


def test_unknown_form_is_refused() -> None:
    with pytest.raises(QuestionnaireError, match="nope"):
        builtin("nope")


# --- structure -----------------------------------------------------------------------------------


def test_full_form_has_the_19_criteria_in_order(full: Questionnaire) -> None:
    criteria = [q for q in full.questions if q.topic == "criterion"]
    assert [q.code for q in criteria] == CRITERIA
    for q in criteria:
        assert q.kind == "likert5"
        assert q.factor == int(q.code[0])
        # Feedback criteria can be skipped: many citizens never sent any feedback.
        assert q.required == (not q.code.startswith("5."))
        assert not q.is_branch


def test_full_form_order(full: Questionnaire) -> None:
    codes = [q.code for q in full.questions]
    expected = []
    for n in range(1, 6):
        expected += [c for c in CRITERIA if c.startswith(f"{n}.")] + [f"F{n}.WHY"]
    expected += ["OVERALL", "MONEY", "HARASS", "ONTIME", "VISITS", "EXPECT", "COMMENT"]
    assert codes == expected


def test_short_form_has_one_question_per_factor(short: Questionnaire) -> None:
    likert = [q for q in short.questions if q.topic == "criterion"]
    assert [q.code for q in likert] == ["F1", "F2", "F3", "F4", "F5"]
    for n, q in enumerate(likert, start=1):
        assert q.kind == "likert5"
        assert q.factor == n
        assert q.required
    assert 10 <= sum(not q.is_branch for q in short.questions) <= 13


def test_short_form_order(short: Questionnaire) -> None:
    codes = [q.code for q in short.questions]
    expected = [c for n in range(1, 6) for c in (f"F{n}", f"F{n}.WHY")]
    expected += ["OVERALL", "MONEY", "HARASS", "ONTIME", "EXPECT", "COMMENT"]
    assert codes == expected


def test_codes_are_unique(form: Questionnaire) -> None:
    codes = [q.code for q in form.questions]
    assert len(codes) == len(set(codes))
    for q in form.questions:
        assert len({o.code for o in q.options}) == len(q.options), q.code


def test_every_likert_factor_has_exactly_one_branch(form: Questionnaire) -> None:
    factors = {q.factor for q in form.questions if q.kind == "likert5" and q.factor}
    assert factors == {1, 2, 3, 4, 5}
    for n in factors:
        branches = [q for q in form.questions if q.after_low_in_factor == n]
        assert [b.code for b in branches] == [f"F{n}.WHY"]


def test_branches_sit_after_the_last_question_of_their_factor(form: Questionnaire) -> None:
    for q in form.questions:
        if not q.is_branch:
            continue
        i = form.index(q.code)
        before = form.questions[i - 1]
        assert before.kind == "likert5" and before.factor == q.after_low_in_factor, q.code
        later = form.questions[i + 1 :]
        assert all(p.factor != q.after_low_in_factor for p in later if p.kind == "likert5")


def test_branch_questions_shape(form: Questionnaire) -> None:
    for q in (q for q in form.questions if q.is_branch):
        assert q.kind == "choice"
        assert q.topic == "reason"
        assert q.factor == q.after_low_in_factor
        assert not q.required
        assert q.max_choices == 1
        assert 4 <= len(q.options) <= 6  # 3–5 specific reasons and "other"
        assert q.options[-1].code == "OTHER"
        assert "khác" in q.options[-1].text_vi.lower()


def test_officer_reasons_cover_attitude_harassment_and_money(form: Questionnaire) -> None:
    reasons = " | ".join(o.text_vi.lower() for o in get(form, "F3.WHY").options)
    for word in ("lịch sự", "hướng dẫn", "nhũng nhiễu", "tiền"):
        assert word in reasons


def test_shared_questions_are_identical_in_both_forms(
    short: Questionnaire, full: Questionnaire
) -> None:
    shared = {q.code for q in short.questions} & {q.code for q in full.questions}
    assert shared >= {"OVERALL", "MONEY", "HARASS", "ONTIME", "EXPECT", "COMMENT"}
    assert shared >= {f"F{n}.WHY" for n in range(1, 6)}
    for code in shared:
        assert short.question(code) == full.question(code), code


def test_objective_and_closing_questions(form: Questionnaire) -> None:
    expected = {
        "OVERALL": ("likert5", "overall", True),
        "MONEY": ("yes_no", "money_asked", True),
        "HARASS": ("yes_no", "harassment", True),
        "ONTIME": ("yes_no", "on_time", True),
        "EXPECT": ("choice", "expectations", True),
        "COMMENT": ("text", "suggestion", False),
    }
    for code, (kind, topic, required) in expected.items():
        q = form.question(code)
        assert q is not None, code
        assert (q.kind, q.topic, q.required, q.factor) == (kind, topic, required, None), code


def test_visits_question(full: Questionnaire) -> None:
    q = full.question("VISITS")
    assert q is not None
    assert (q.kind, q.topic, q.factor, q.max_choices) == ("choice", "visits", None, 1)
    assert [o.code for o in q.options] == ["V1", "V2", "V3", "V4"]
    assert [o.text_vi for o in q.options] == ["1 lần", "2 lần", "3 lần", "Từ 4 lần trở lên"]


def test_expectations_question(form: Questionnaire) -> None:
    q = form.question("EXPECT")
    assert q is not None
    assert len(q.options) == 8
    assert [o.code for o in q.options] == [f"E{i}" for i in range(1, 9)]
    assert q.max_choices == 2


# --- texts ---------------------------------------------------------------------------------------


def test_option_labels_fit_a_button(form: Questionnaire) -> None:
    for q in form.questions:
        for o in q.options:
            assert 0 < len(o.text_vi) <= MAX_OPTION, (q.code, o.code, o.text_vi)
            assert 0 < len(o.text_en) <= MAX_OPTION, (q.code, o.code, o.text_en)


def test_question_texts_are_short(form: Questionnaire) -> None:
    for q in form.questions:
        assert 0 < len(q.text_vi) <= MAX_TEXT, q.code
        assert 0 < len(q.text_en) <= MAX_TEXT, q.code


def test_vietnamese_texts_carry_diacritics(form: Questionnaire) -> None:
    for where, text in vi_texts(form):
        assert VI_MARKS & set(text.lower()), where


def test_texts_are_nfc(form: Questionnaire) -> None:
    for where, text in vi_texts(form) + en_texts(form):
        assert unicodedata.is_normalized("NFC", text), where


def test_english_texts_are_english(form: Questionnaire) -> None:
    for where, text in en_texts(form):
        assert not VI_MARKS & set(text.lower()), where


def test_citizen_is_addressed_politely(form: Questionnaire) -> None:
    asked = [q for q in form.questions if q.topic != "criterion"]
    for q in asked:
        assert "Ông/Bà" in q.text_vi, q.code


def test_likert_texts_do_not_list_the_levels(form: Questionnaire) -> None:
    for q in form.questions:
        assert "Rất không hài lòng" not in q.text_vi, q.code
        assert "Bình thường" not in q.text_vi, q.code


def test_callback_data_fits(form: Questionnaire) -> None:
    for q in form.questions:
        for o in q.options:
            assert len(callback(q.code, o.code)) <= CALLBACK_LIMIT, (q.code, o.code)
        # five levels, yes/no and skip carry short codes of their own; leave them room
        assert len(callback(q.code, "x" * 8)) <= CALLBACK_LIMIT, q.code


# --- round trip ----------------------------------------------------------------------------------


def test_round_trip_keeps_questions(form: Questionnaire) -> None:
    data = json.loads(json.dumps(form.to_dict(), ensure_ascii=False))
    again = Questionnaire.from_dict(data)
    assert again.questions == form.questions
    assert again == form
    for q in form.questions:
        assert Question.from_dict(q.to_dict()) == q


# --- check() refuses broken definitions ---------------------------------------------------------


def test_duplicate_code_is_refused(short: Questionnaire) -> None:
    questions = replaced(short, "HARASS", code="MONEY")
    with pytest.raises(QuestionnaireError, match="twice"):
        with_questions(builtin("short"), questions)


def test_unknown_kind_is_refused(short: Questionnaire) -> None:
    with pytest.raises(QuestionnaireError, match="kind"):
        with_questions(builtin("short"), replaced(short, "OVERALL", kind="stars"))


def test_unknown_topic_is_refused(short: Questionnaire) -> None:
    with pytest.raises(QuestionnaireError, match="topic"):
        with_questions(builtin("short"), replaced(short, "MONEY", topic="bribe"))


def test_choice_with_one_option_is_refused(short: Questionnaire) -> None:
    expect = get(short, "EXPECT")
    questions = replaced(short, "EXPECT", options=expect.options[:1], max_choices=1)
    with pytest.raises(QuestionnaireError, match="two options"):
        with_questions(builtin("short"), questions)


def test_too_many_picks_is_refused(short: Questionnaire) -> None:
    with pytest.raises(QuestionnaireError, match="max_choices"):
        with_questions(builtin("short"), replaced(short, "EXPECT", max_choices=9))


def test_options_on_a_non_choice_are_refused(short: Questionnaire) -> None:
    options = (Option("A", "Có", "Yes"), Option("B", "Không", "No"))
    with pytest.raises(QuestionnaireError, match="only a choice"):
        with_questions(builtin("short"), replaced(short, "MONEY", options=options))


def test_branch_without_a_likert_question_in_its_factor_is_refused(short: Questionnaire) -> None:
    questions = [q for q in short.questions if q.code != "F5"]
    with pytest.raises(QuestionnaireError, match="five-level"):
        with_questions(builtin("short"), questions)


def test_required_branch_is_refused(full: Questionnaire) -> None:
    with pytest.raises(QuestionnaireError, match="optional"):
        with_questions(builtin("full"), replaced(full, "F3.WHY", required=True))


def test_missing_english_text_is_refused(full: Questionnaire) -> None:
    with pytest.raises(QuestionnaireError, match="English"):
        with_questions(builtin("full"), replaced(full, "3.1", text_en="  "))


def test_bad_code_is_refused(short: Questionnaire) -> None:
    with pytest.raises(QuestionnaireError, match="code must be"):
        with_questions(builtin("short"), replaced(short, "COMMENT", code="góp ý"))


def test_form_without_a_five_level_question_is_refused(short: Questionnaire) -> None:
    questions = [q for q in short.questions if q.kind != "likert5" and not q.is_branch]
    with pytest.raises(QuestionnaireError, match="at least one five-level"):
        with_questions(builtin("short"), questions)


def test_broken_question_data_is_refused() -> None:
    with pytest.raises(QuestionnaireError):
        Question.from_dict({"code": "X", "kind": "likert5"})  # no topic, no texts


def test_replace_does_not_touch_the_original(short: Questionnaire) -> None:
    smaller = dataclasses.replace(short, questions=short.questions[:2])
    assert smaller.question("COMMENT") is None
    assert short.question("COMMENT") is not None
