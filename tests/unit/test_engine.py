"""The survey engine (bot/survey/engine.py): asking order, branches, progress, answer parsing.

Everything here is what a citizen sees: which question comes next, how far along they are,
and whether the button they pressed or the words they typed count as an answer.
"""

from __future__ import annotations

import pytest

from bot.survey.engine import (
    MAX_TEXT,
    AnswerError,
    Given,
    Toggle,
    ask_order,
    next_question,
    parse_button,
    parse_text,
    progress,
)
from bot.survey.questionnaire import FORMS, Question, Questionnaire, builtin

FOUR = Given(value_int=4)


@pytest.fixture(params=FORMS)
def form(request: pytest.FixtureRequest) -> Questionnaire:
    return builtin(request.param)


@pytest.fixture
def short() -> Questionnaire:
    return builtin("short")


@pytest.fixture
def full() -> Questionnaire:
    return builtin("full")


def q(form: Questionnaire, code: str) -> Question:
    found = form.question(code)
    assert found is not None, code
    return found


def typical(question: Question) -> Given:
    """A satisfied answer of the right shape: 4 on a scale, "no" to a complaint, …"""
    if question.kind == "likert5":
        return FOUR
    if question.kind == "yes_no":
        return Given(value_int=0)
    if question.kind == "choice":
        return Given(choices=(question.options[0].code,))
    return Given(value_text="Tốt")


def walk(form: Questionnaire, pick: dict[str, Given] | None = None) -> list[str]:
    """Answer the survey question by question as the engine asks; return the codes asked."""
    pick = pick or {}
    answers: dict[str, Given] = {}
    asked: list[str] = []
    for _ in range(len(form.questions) + 1):
        question = next_question(form, answers)
        if question is None:
            return asked
        asked.append(question.code)
        answers[question.code] = pick.get(question.code, typical(question))
    raise AssertionError(f"the survey never ended; asked {asked}")


def non_branch(form: Questionnaire) -> list[str]:
    return [x.code for x in form.questions if not x.is_branch]


def branch_of(form: Questionnaire, factor: int) -> str:
    return next(x.code for x in form.questions if x.after_low_in_factor == factor)


def likert_codes(form: Questionnaire, factor: int) -> list[str]:
    return [x.code for x in form.questions if x.kind == "likert5" and x.factor == factor]


# --- asking order -----------------------------------------------------------------------------


def test_both_forms_have_a_branch_per_factor(form: Questionnaire) -> None:
    factors = [x.after_low_in_factor for x in form.questions if x.after_low_in_factor is not None]
    assert sorted(factors) == [1, 2, 3, 4, 5]


def test_satisfied_walk_asks_every_non_branch_question_once_in_order(form: Questionnaire) -> None:
    asked = walk(form)
    assert asked == non_branch(form)
    assert len(asked) == len(set(asked))
    assert not any(code.endswith(".WHY") for code in asked)


def test_survey_is_complete_after_the_last_answer(form: Questionnaire) -> None:
    answers = {x.code: typical(x) for x in form.questions if not x.is_branch}
    assert next_question(form, answers) is None
    assert next_question(form, {}) == form.questions[0]


@pytest.mark.parametrize("low", [1, 2])
@pytest.mark.parametrize("factor", [1, 2, 3, 4, 5])
def test_low_answer_asks_why_right_after_it(form: Questionnaire, factor: int, low: int) -> None:
    first = likert_codes(form, factor)[0]
    asked = walk(form, {first: Given(value_int=low)})
    why = branch_of(form, factor)
    assert asked.count(why) == 1
    assert asked[asked.index(first) + 1] == why
    # nothing else changes: the rest is still the normal questions in order
    assert [c for c in asked if c != why] == non_branch(form)


@pytest.mark.parametrize("factor", [1, 2, 3, 4, 5])
def test_answer_three_asks_no_why(form: Questionnaire, factor: int) -> None:
    picks = {code: Given(value_int=3) for code in likert_codes(form, factor)}
    assert walk(form, picks) == non_branch(form)


def test_low_on_a_later_criterion_asks_why_after_that_criterion(full: Questionnaire) -> None:
    asked = walk(full, {"1.3": Given(value_int=2)})
    assert asked[asked.index("1.3") + 1] == "F1.WHY"
    assert asked.index("F1.WHY") > asked.index("1.2")


@pytest.mark.parametrize("factor", [1, 2, 3, 4, 5])
def test_several_low_criteria_of_one_factor_ask_why_once(full: Questionnaire, factor: int) -> None:
    codes = likert_codes(full, factor)
    assert len(codes) >= 3
    asked = walk(full, {code: Given(value_int=1) for code in codes})
    why = branch_of(full, factor)
    assert asked.count(why) == 1
    assert asked[asked.index(codes[0]) + 1] == why
    assert len(asked) == len(non_branch(full)) + 1


@pytest.mark.parametrize("factor", [1, 2, 3, 4, 5])
def test_several_low_criteria_count_one_why_in_progress(full: Questionnaire, factor: int) -> None:
    codes = likert_codes(full, factor)
    answers = {code: Given(value_int=2) for code in codes}
    order = [x.code for x in ask_order(full, answers)]
    assert order.count(branch_of(full, factor)) == 1
    assert progress(full, answers) == (len(codes) + 1, len(non_branch(full)) + 1)


def test_every_factor_low_asks_five_whys(form: Questionnaire) -> None:
    picks = {x.code: Given(value_int=1) for x in form.questions if x.kind == "likert5" and x.factor}
    asked = walk(form, picks)
    whys = [c for c in asked if c.endswith(".WHY")]
    assert whys == [f"F{f}.WHY" for f in range(1, 6)]
    assert len(asked) == len(non_branch(form)) + 5


def test_low_overall_asks_no_why(form: Questionnaire) -> None:
    assert walk(form, {"OVERALL": Given(value_int=1)}) == non_branch(form)


def test_skipped_why_is_not_asked_again(short: Questionnaire) -> None:
    answers = {"F1": Given(value_int=1), "F1.WHY": Given(skipped=True)}
    nxt = next_question(short, answers)
    assert nxt is not None and nxt.code == "F2"


def test_ask_order_lists_the_branch_only_once_low(short: Questionnaire) -> None:
    assert [x.code for x in ask_order(short, {})] == non_branch(short)
    order = [x.code for x in ask_order(short, {"F1": Given(value_int=2)})]
    assert order[:3] == ["F1", "F1.WHY", "F2"]


# --- progress ---------------------------------------------------------------------------------


def test_progress_counts_up_to_the_total(form: Questionnaire) -> None:
    total = len(non_branch(form))
    answers: dict[str, Given] = {}
    seen = []
    while (question := next_question(form, answers)) is not None:
        seen.append(progress(form, answers))
        answers[question.code] = typical(question)
    assert seen == [(n, total) for n in range(1, total + 1)]


def test_progress_of_a_finished_survey_stays_on_the_last_question(form: Questionnaire) -> None:
    answers = {x.code: typical(x) for x in form.questions if not x.is_branch}
    total = len(non_branch(form))
    assert progress(form, answers) == (total, total)


def test_progress_total_grows_by_one_when_why_is_inserted(short: Questionnaire) -> None:
    assert progress(short, {}) == (1, 11)
    assert progress(short, {"F1": FOUR}) == (2, 11)
    assert progress(short, {"F1": Given(value_int=2)}) == (2, 12)
    assert progress(short, {"F1": Given(value_int=2), "F1.WHY": Given(choices=("R1",))}) == (
        3,
        12,
    )


def test_progress_through_a_low_walk(full: Questionnaire) -> None:
    answers: dict[str, Given] = {}
    seen = []
    while (question := next_question(full, answers)) is not None:
        seen.append(progress(full, answers))
        low = question.code == "2.2"
        answers[question.code] = Given(value_int=1) if low else typical(question)
    total = len(non_branch(full))
    positions = [p for p, _ in seen]
    assert positions == list(range(1, total + 2))
    totals = [t for _, t in seen]
    cut = positions.index(7)  # 2.2 is question 6: the branch counts once 2.2 is answered
    assert totals[:cut] == [total] * cut
    assert totals[cut:] == [total + 1] * (len(seen) - cut)


# --- buttons ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["1", "2", "3", "4", "5"])
def test_likert_button(short: Questionnaire, level: str) -> None:
    assert parse_button(q(short, "F1"), level) == Given(value_int=int(level))


@pytest.mark.parametrize("value", ["0", "6", "x", "", "10", "-1", " 3", "y", "done"])
def test_likert_button_out_of_range_is_stale(short: Questionnaire, value: str) -> None:
    with pytest.raises(AnswerError) as err:
        parse_button(q(short, "F1"), value)
    assert err.value.reason == "stale_button"


def test_likert_button_with_a_superscript_digit_is_stale(short: Questionnaire) -> None:
    with pytest.raises(AnswerError) as err:
        parse_button(q(short, "F1"), "²")
    assert err.value.reason == "stale_button"


def test_yes_no_buttons(short: Questionnaire) -> None:
    money = q(short, "MONEY")
    assert parse_button(money, "y") == Given(value_int=1)
    assert parse_button(money, "n") == Given(value_int=0)
    with pytest.raises(AnswerError) as err:
        parse_button(money, "1")
    assert err.value.reason == "stale_button"


def test_skip_required_is_refused(form: Questionnaire) -> None:
    for question in form.questions:
        if question.required:
            with pytest.raises(AnswerError) as err:
                parse_button(question, "skip")
            assert err.value.reason == "required", question.code


def test_skip_optional_is_recorded(form: Questionnaire) -> None:
    optional = [x for x in form.questions if not x.required]
    assert any(x.kind == "text" for x in optional)
    for question in optional:
        assert parse_button(question, "skip") == Given(skipped=True), question.code


def test_single_choice_button(short: Questionnaire) -> None:
    why = q(short, "F3.WHY")
    assert parse_button(why, "R2") == Given(choices=("R2",))
    with pytest.raises(AnswerError) as err:
        parse_button(why, "R9")
    assert err.value.reason == "stale_button"
    with pytest.raises(AnswerError):
        parse_button(why, "done")


def test_multi_choice_two_distinct_picks_answer(short: Questionnaire) -> None:
    expect = q(short, "EXPECT")
    assert expect.max_choices == 2
    first = parse_button(expect, "E3")
    assert first == Toggle(choices=("E3",))
    second = parse_button(expect, "E5", draft=first.choices)
    assert second == Given(choices=("E3", "E5"))


def test_multi_choice_same_pick_twice_toggles_off(short: Questionnaire) -> None:
    expect = q(short, "EXPECT")
    on = parse_button(expect, "E1")
    assert isinstance(on, Toggle)
    off = parse_button(expect, "E1", draft=on.choices)
    assert off == Toggle(choices=())


def test_multi_choice_done(short: Questionnaire) -> None:
    expect = q(short, "EXPECT")
    with pytest.raises(AnswerError) as err:
        parse_button(expect, "done")
    assert err.value.reason == "pick_one"
    assert parse_button(expect, "done", draft=("E7",)) == Given(choices=("E7",))


def test_multi_choice_unknown_option_is_stale(short: Questionnaire) -> None:
    with pytest.raises(AnswerError) as err:
        parse_button(q(short, "EXPECT"), "E9", draft=("E1",))
    assert err.value.reason == "stale_button"


# --- typed answers ----------------------------------------------------------------------------


def test_text_answer_is_stripped(short: Questionnaire) -> None:
    comment = q(short, "COMMENT")
    assert parse_text(comment, "  Cán bộ nhiệt tình.\n") == Given(value_text="Cán bộ nhiệt tình.")


def test_text_answer_length_limit(short: Questionnaire) -> None:
    comment = q(short, "COMMENT")
    assert MAX_TEXT == 1000
    longest = "ý" * 1000
    assert parse_text(comment, f"  {longest}  ") == Given(value_text=longest)
    with pytest.raises(AnswerError) as err:
        parse_text(comment, "a" * 1001)
    assert err.value.reason == "too_long"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t "])
def test_blank_text_is_refused(short: Questionnaire, blank: str) -> None:
    with pytest.raises(AnswerError) as err:
        parse_text(q(short, "COMMENT"), blank)
    assert err.value.reason == "empty"


@pytest.mark.parametrize("word", ["bỏ qua", "Bỏ qua", "BỎ QUA", "skip", " Skip "])
def test_skip_word_on_optional(short: Questionnaire, word: str) -> None:
    assert parse_text(q(short, "COMMENT"), word) == Given(skipped=True)
    assert parse_text(q(short, "F1.WHY"), word) == Given(skipped=True)


def test_skip_word_on_required_is_not_a_skip(short: Questionnaire) -> None:
    with pytest.raises(AnswerError) as err:
        parse_text(q(short, "F1"), "bỏ qua")
    assert err.value.reason == "use_buttons"


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("5", 5),
        (" 1 ", 1),
        ("Rất hài lòng", 5),
        ("rat hai long", 5),
        ("RẤT HÀI LÒNG", 5),
        ("Hài lòng", 4),
        ("hai long", 4),
        ("Bình thường", 3),
        ("Không hài lòng", 2),
        ("rất không hài lòng", 1),
        ("Rat  khong   hai long", 1),
    ],
)
def test_likert_typed(short: Questionnaire, typed: str, level: int) -> None:
    assert parse_text(q(short, "F1"), typed) == Given(value_int=level)


@pytest.mark.parametrize("typed", ["hello", "0", "6", "4.5", "hài"])
def test_likert_typed_nonsense(short: Questionnaire, typed: str) -> None:
    with pytest.raises(AnswerError) as err:
        parse_text(q(short, "F1"), typed)
    assert err.value.reason == "use_buttons"


def test_likert_typed_superscript_digit(short: Questionnaire) -> None:
    with pytest.raises(AnswerError) as err:
        parse_text(q(short, "F1"), "²")
    assert err.value.reason == "use_buttons"


@pytest.mark.parametrize(
    ("typed", "value"),
    [("Có", 1), ("có", 1), ("CÓ", 1), ("yes", 1), ("không", 0), ("Không", 0), ("no", 0)],
)
def test_yes_no_typed(short: Questionnaire, typed: str, value: int) -> None:
    assert parse_text(q(short, "MONEY"), typed) == Given(value_int=value)


def test_yes_no_typed_nonsense(short: Questionnaire) -> None:
    with pytest.raises(AnswerError) as err:
        parse_text(q(short, "MONEY"), "có lẽ")
    assert err.value.reason == "use_buttons"


def test_choice_typed_positions(short: Questionnaire) -> None:
    expect = q(short, "EXPECT")
    assert parse_text(expect, "1 3") == Given(choices=("E1", "E3"))
    assert parse_text(expect, "2,8") == Given(choices=("E2", "E8"))
    assert parse_text(expect, "4") == Given(choices=("E4",))


def test_choice_typed_too_many(short: Questionnaire) -> None:
    with pytest.raises(AnswerError) as err:
        parse_text(q(short, "EXPECT"), "1 2 3")
    assert err.value.reason == "use_buttons"


def test_single_choice_typed(full: Questionnaire) -> None:
    visits = q(full, "VISITS")
    assert parse_text(visits, "2") == Given(choices=("V2",))
    with pytest.raises(AnswerError):
        parse_text(visits, "1 3")
    with pytest.raises(AnswerError):
        parse_text(visits, "tôi không nhớ")


def test_choice_typed_superscript_digit(short: Questionnaire) -> None:
    with pytest.raises(AnswerError) as err:
        parse_text(q(short, "EXPECT"), "1²")
    assert err.value.reason == "use_buttons"


@pytest.mark.parametrize("typed", ["1 9", "0", "1 0", "abc 1"])
def test_choice_typed_numbers_out_of_range_are_refused_not_dropped(
    short: Questionnaire, typed: str
) -> None:
    question = short.question("EXPECT")
    assert question is not None
    with pytest.raises(AnswerError) as refused:
        parse_text(question, typed)
    assert refused.value.reason == "use_buttons"
