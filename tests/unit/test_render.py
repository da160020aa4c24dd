"""Telegram rendering (bot/telegram/render.py): the buttons and messages a citizen sees.

The contract (interfaces.md "Telegram conversation"): a five-level question shows one button
per level, in order, containing the level's label; yes/no shows `Có` and `Không`; a free-text
question is answered by typing, with a `Bỏ qua` button when optional.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.survey.engine import Given
from bot.survey.questionnaire import FORMS, Question, Questionnaire, builtin
from bot.telegram.render import (
    TelegramRenderer,
    answer_label,
    answered_text,
    parse_alert_press,
    parse_follow_up,
    parse_press,
    press_data,
    prompt,
    question_keyboard,
)

SURVEY_ID = 1234567890  # ten digits, like a long-lived database
LABELS_VI = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
LABELS_EN = ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"]
CODE = "000.00.12.H56-260301-0001"
PROCEDURE = "Cấp giấy phép xây dựng"
TODAY = date(2026, 3, 15)


@pytest.fixture
def short() -> Questionnaire:
    return builtin("short")


def q(form: Questionnaire, code: str) -> Question:
    found = form.question(code)
    assert found is not None, code
    return found


def rows(markup: object) -> list[list[tuple[str, str]]]:
    assert isinstance(markup, InlineKeyboardMarkup)
    return [[(b.text, str(b.callback_data)) for b in row] for row in markup.inline_keyboard]


def texts(markup: object) -> list[str]:
    return [text for row in rows(markup) for text, _ in row]


def optional_likert() -> Question:
    full = builtin("full")
    question = q(full, "5.1")
    assert question.kind == "likert5" and not question.required
    return question


# --- keyboards --------------------------------------------------------------------------------


def test_likert_keyboard_has_five_levels_in_order(short: Questionnaire) -> None:
    question = q(short, "F1")
    assert question.required
    layout = rows(question_keyboard(SURVEY_ID, question, "vi"))
    assert len(layout) == 5
    assert all(len(row) == 1 for row in layout)
    for level, ((text, data), label) in enumerate(
        zip((r[0] for r in layout), LABELS_VI, strict=True), 1
    ):
        contained = [x for x in LABELS_VI if x in text]
        assert contained == [label], text
        assert parse_press(data) == (SURVEY_ID, "F1", str(level))
    assert "Bỏ qua" not in " ".join(texts(question_keyboard(SURVEY_ID, question, "vi")))


def test_satisfied_button_is_not_the_very_satisfied_one(short: Questionnaire) -> None:
    buttons = texts(question_keyboard(SURVEY_ID, q(short, "F1"), "vi"))
    satisfied = [t for t in buttons if "Hài lòng" in t]
    assert len(satisfied) == 1
    assert "Rất" not in satisfied[0]
    assert buttons.index(satisfied[0]) == 3


def test_optional_likert_adds_a_skip_row_last() -> None:
    question = optional_likert()
    layout = rows(question_keyboard(SURVEY_ID, question, "vi"))
    assert len(layout) == 6
    assert [x for x in LABELS_VI if x in layout[4][0][0]] == ["Rất hài lòng"]
    [(text, data)] = layout[5]
    assert "Bỏ qua" in text
    assert parse_press(data) == (SURVEY_ID, "5.1", "skip")


def test_yes_no_keyboard(short: Questionnaire) -> None:
    layout = rows(question_keyboard(SURVEY_ID, q(short, "MONEY"), "vi"))
    flat = [b for row in layout for b in row]
    assert [text for text, _ in flat] == ["Có", "Không"]
    assert [parse_press(data) for _, data in flat] == [
        (SURVEY_ID, "MONEY", "y"),
        (SURVEY_ID, "MONEY", "n"),
    ]


def test_optional_text_question_has_only_skip(short: Questionnaire) -> None:
    layout = rows(question_keyboard(SURVEY_ID, q(short, "COMMENT"), "vi"))
    assert layout == [[("Bỏ qua", press_data(SURVEY_ID, "COMMENT", "skip"))]]


def test_single_choice_lists_options_then_skip(short: Questionnaire) -> None:
    why = q(short, "F1.WHY")
    buttons = texts(question_keyboard(SURVEY_ID, why, "vi"))
    assert buttons == [o.text_vi for o in why.options] + ["Bỏ qua"]
    assert not any("✅" in t for t in buttons)


def test_multi_choice_marks_drafted_options_and_offers_done(short: Questionnaire) -> None:
    expect = q(short, "EXPECT")
    layout = rows(question_keyboard(SURVEY_ID, expect, "vi", draft=("E2",)))
    assert len(layout) == len(expect.options) + 1
    for option, row in zip(expect.options, layout, strict=False):
        [(text, data)] = row
        marked = text.startswith("✅ ")
        assert marked is (option.code == "E2"), text
        assert text.removeprefix("✅ ") == option.text_vi
        assert parse_press(data) == (SURVEY_ID, "EXPECT", option.code)
    [(done_text, done_data)] = layout[-1]
    assert "Xong" in done_text
    assert parse_press(done_data) == (SURVEY_ID, "EXPECT", "done")
    assert not any("Bỏ qua" in t for t in texts(question_keyboard(SURVEY_ID, expect, "vi")))


def test_english_keyboards(short: Questionnaire) -> None:
    likert = texts(question_keyboard(SURVEY_ID, q(short, "F1"), "en"))
    assert [[x for x in LABELS_EN if x in t] for t in likert] == [[x] for x in LABELS_EN]
    assert texts(question_keyboard(SURVEY_ID, q(short, "MONEY"), "en")) == ["Yes", "No"]
    assert texts(question_keyboard(SURVEY_ID, q(short, "COMMENT"), "en")) == ["Skip"]
    expect = texts(question_keyboard(SURVEY_ID, q(short, "EXPECT"), "en"))
    assert expect[0] == q(short, "EXPECT").options[0].text_en
    assert "Done" in expect[-1]


def test_unknown_language_falls_back_to_vietnamese(short: Questionnaire) -> None:
    buttons = texts(question_keyboard(SURVEY_ID, q(short, "MONEY"), "fr"))
    assert buttons == ["Có", "Không"]


@pytest.mark.parametrize("base", FORMS)
@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_callback_fits_telegram_limit(base: str, language: str) -> None:
    form = builtin(base)
    for question in form.questions:
        markup = question_keyboard(9_999_999_999, question, language, draft=())
        if markup is None:
            assert question.kind == "text" and question.required
            continue
        for _text, data in (b for row in rows(markup) for b in row):
            assert len(data.encode("utf-8")) <= 64, data
            survey_id, code, _value = parse_press(data) or (0, "", "")
            assert (survey_id, code) == (9_999_999_999, question.code)


# --- press data -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value"), [("F1", "5"), ("F1.WHY", "OTHER"), ("EXPECT", "done"), ("5.1", "skip")]
)
def test_press_data_round_trips(code: str, value: str) -> None:
    assert parse_press(press_data(SURVEY_ID, code, value)) == (SURVEY_ID, code, value)
    assert parse_press(press_data(7, code, value)) == (7, code, value)


@pytest.mark.parametrize(
    "junk", ["", "x", "a:abc:F1:1", "b:1:F1:1", "a:1:F1", "a:1:F1:1:2", "a::F1:1", "a:-1:F1:1"]
)
def test_parse_press_rejects_junk(junk: str) -> None:
    assert parse_press(junk) is None


def test_parse_press_rejects_superscript_survey_id() -> None:
    assert parse_press("a:²:F1:1") is None


# --- question text ----------------------------------------------------------------------------


def test_prompt_numbers_the_question(short: Questionnaire) -> None:
    question = q(short, "F2")
    text = prompt(question, "vi", number=2, total=11)
    assert text.startswith("Câu 2/11: ")
    assert question.text_vi in text
    assert prompt(question, "en", number=2, total=11).startswith("Question 2/11: ")


def test_prompt_for_text_question_explains_typing(short: Questionnaire) -> None:
    text = prompt(q(short, "COMMENT"), "vi", number=11, total=11)
    assert text.startswith("Câu 11/11: ")
    assert "Nhập góp ý" in text and "Bỏ qua" in text
    likert = prompt(q(short, "F1"), "vi", number=1, total=11)
    assert "Nhập" not in likert


def test_prompt_for_multi_choice_says_how_many(short: Questionnaire) -> None:
    text = prompt(q(short, "EXPECT"), "vi", number=10, total=11)
    assert "tối đa 2" in text and "Xong" in text


def test_answered_text_shows_the_chosen_level(short: Questionnaire) -> None:
    question = q(short, "F1")
    text = answered_text(question, Given(value_int=4), "vi", number=1, total=11)
    first, second = text.split("\n")
    assert first.startswith("Câu 1/11: ")
    assert second == "✔ Hài lòng"


@pytest.mark.parametrize(
    ("code", "given", "label"),
    [
        ("F1", Given(value_int=1), "Rất không hài lòng"),
        ("F1", Given(value_int=5), "Rất hài lòng"),
        ("MONEY", Given(value_int=1), "Có"),
        ("MONEY", Given(value_int=0), "Không"),
        ("F1.WHY", Given(choices=("R2",)), "Thiếu biển hiệu, chỉ dẫn"),
        ("COMMENT", Given(value_text="Cảm ơn"), "Cảm ơn"),
        ("COMMENT", Given(skipped=True), "— đã bỏ qua"),
    ],
)
def test_answer_label(short: Questionnaire, code: str, given: Given, label: str) -> None:
    question = q(short, code)
    assert answer_label(question, given, "vi") == label
    assert answered_text(question, given, "vi", number=3, total=11).endswith("✔ " + label)


def test_answer_label_for_two_picks(short: Questionnaire) -> None:
    expect = q(short, "EXPECT")
    label = answer_label(expect, Given(choices=("E1", "E3")), "vi")
    assert expect.options[0].text_vi in label and expect.options[2].text_vi in label


def test_answer_label_in_english(short: Questionnaire) -> None:
    assert answer_label(q(short, "F1"), Given(value_int=4), "en") == "Satisfied"
    assert answer_label(q(short, "MONEY"), Given(value_int=0), "en") == "No"
    text = answered_text(q(short, "F1"), Given(value_int=2), "en", number=1, total=11)
    assert text.startswith("Question 1/11: ") and text.endswith("✔ Dissatisfied")


# --- TelegramRenderer -------------------------------------------------------------------------


class FakeForms:
    """Stands in for FormCache: the renderer only calls `get(version)`."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    async def get(self, version: int) -> Questionnaire:
        self.asked.append(version)
        return builtin("short")


@pytest.fixture
def forms() -> FakeForms:
    return FakeForms()


@pytest.fixture
def renderer(forms: FakeForms) -> TelegramRenderer:
    return TelegramRenderer(forms, today=lambda: TODAY)  # type: ignore[arg-type]


async def test_text_with_contact_keyboard(renderer: TelegramRenderer) -> None:
    text, markup = await renderer.render("text", {"key": "welcome", "keyboard": "contact"}, "vi")
    assert text.startswith("Xin chào!")
    assert isinstance(markup, ReplyKeyboardMarkup)
    [[button]] = markup.keyboard
    assert button.request_contact is True
    assert "số điện thoại" in button.text


async def test_text_with_remove_keyboard(renderer: TelegramRenderer) -> None:
    payload = {"key": "contact_linked", "params": {"count": 2, "codes": "A-1, B-2"}}
    text, markup = await renderer.render("text", {**payload, "keyboard": "remove"}, "vi")
    assert text == "✅ Đã liên kết 2 hồ sơ: A-1, B-2."
    assert isinstance(markup, ReplyKeyboardRemove)


async def test_plain_text(renderer: TelegramRenderer) -> None:
    text, markup = await renderer.render("text", {"key": "no_survey"}, "en")
    assert text.startswith("You have no open survey")
    assert markup is None


async def test_notice_names_the_case_and_date(renderer: TelegramRenderer) -> None:
    payload = {"status": 2, "code": CODE, "procedure": PROCEDURE, "due": "2026-03-10T17:00:00"}
    text, markup = await renderer.render("notice", payload, "vi")
    assert markup is None
    assert CODE in text and PROCEDURE in text
    assert "tiếp nhận" in text
    assert "10/03/2026" in text


@pytest.mark.parametrize("status", [2, 5, 6, 9, 10])
async def test_every_notice_status_renders(renderer: TelegramRenderer, status: int) -> None:
    payload = {"status": status, "code": CODE, "procedure": PROCEDURE, "due": None}
    text, _ = await renderer.render("notice", payload, "vi")
    assert text.startswith(f"Hồ sơ {CODE}")
    english, _ = await renderer.render("notice", payload, "en")
    assert CODE in english and "Hồ sơ" not in english


APOLOGY = {
    "code": CODE,
    "procedure": PROCEDURE,
    "name": "Nguyễn Văn An",
    "agency": "UBND phường Bến Thành",
    "unit": "Phòng Quản lý đô thị",
    "received": "2026-03-01T09:30:00",
    "old_due": "2026-03-10",
    "new_due": "2026-03-20T08:00:00",
    "reason": "Chờ ý kiến của cơ quan phối hợp",
}


async def test_apology_carries_every_field_of_the_slip(renderer: TelegramRenderer) -> None:
    text, markup = await renderer.render("apology", APOLOGY, "vi")
    assert markup is None
    for part in (
        CODE,
        PROCEDURE,
        "01/03/2026",  # received
        "10/03/2026",  # old promised date
        "Phòng Quản lý đô thị",  # unit
        "Chờ ý kiến của cơ quan phối hợp",  # reason
        "20/03/2026",  # new return date
        "Nguyễn Văn An",
        "UBND phường Bến Thành",
        "xin lỗi",
        "Bộ phận Một cửa",  # place
    ):
        assert part in text, part
    assert text.index("10/03/2026") < text.index("20/03/2026")


async def test_apology_without_name_reason_or_unit(renderer: TelegramRenderer) -> None:
    payload = {**APOLOGY, "name": None, "reason": None, "unit": None}
    text, _ = await renderer.render("apology", payload, "vi")
    assert "None" not in text
    assert "công dân" in text
    assert "Đơn vị giải quyết: UBND phường Bến Thành" in text
    assert "Lý do: cần thêm thời gian xử lý" in text


async def test_case_status_in_vietnamese(renderer: TelegramRenderer) -> None:
    payload = {
        "code": CODE,
        "procedure": PROCEDURE,
        "status": 4,
        "received": "2026-03-01T09:30:00",
        "due": "2026-03-10T17:00:00",
        "ended": None,
    }
    text, markup = await renderer.render("case_status", payload, "vi")
    assert markup is None
    assert CODE in text and PROCEDURE in text
    assert "Trạng thái: Đang xử lý" in text
    assert "Ngày tiếp nhận: 01/03/2026" in text
    assert "Ngày hẹn trả: 10/03/2026" in text
    assert "Tiến độ: Quá hạn" in text  # promised 10 March, still open on 15 March


@pytest.mark.parametrize(
    ("status", "due", "ended", "label"),
    [
        (4, "2026-03-20T17:00:00", None, "Đang trong hạn"),
        (10, "2026-03-10T17:00:00", "2026-03-10T08:00:00", "Trả đúng hạn"),
        (10, "2026-03-10T17:00:00", "2026-03-09T08:00:00", "Trả trước hạn"),
        (10, "2026-03-10T17:00:00", "2026-03-11T08:00:00", "Trả trễ hạn"),
    ],
)
async def test_case_status_timeliness(
    renderer: TelegramRenderer, status: int, due: str, ended: str | None, label: str
) -> None:
    payload = {
        "code": CODE,
        "procedure": PROCEDURE,
        "status": status,
        "received": "2026-03-01T09:30:00",
        "due": due,
        "ended": ended,
    }
    text, _ = await renderer.render("case_status", payload, "vi")
    assert f"Tiến độ: {label}" in text


async def test_case_status_without_due_date(renderer: TelegramRenderer) -> None:
    payload = {
        "code": CODE,
        "procedure": PROCEDURE,
        "status": 2,
        "received": "2026-03-01T09:30:00",
        "due": None,
        "ended": None,
    }
    text, _ = await renderer.render("case_status", payload, "vi")
    assert "Trạng thái: Được tiếp nhận" in text
    assert "Ngày hẹn trả: chưa có" in text
    assert "None" not in text


def question_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "survey_id": SURVEY_ID,
        "version": 3,
        "code": "F1",
        "number": 1,
        "total": 11,
        "intro": "invite",
        "case_code": CODE,
        "draft": [],
    }
    payload.update(changes)
    return payload


async def test_first_question_with_invitation(renderer: TelegramRenderer, forms: FakeForms) -> None:
    text, markup = await renderer.render("question", question_payload(), "vi")
    assert forms.asked == [3]
    assert CODE in text
    assert "()" not in text
    assert text.index(CODE) < text.index("Câu 1/11: ")
    assert isinstance(markup, InlineKeyboardMarkup)
    layout = rows(markup)
    assert [[x for x in LABELS_VI if x in row[0][0]] for row in layout] == [[x] for x in LABELS_VI]
    assert parse_press(layout[0][0][1]) == (SURVEY_ID, "F1", "1")


async def test_invitation_names_the_procedure_when_known(renderer: TelegramRenderer) -> None:
    text, _ = await renderer.render("question", question_payload(procedure=PROCEDURE), "vi")
    assert f"{CODE} ({PROCEDURE})" in text


async def test_reminder_and_plain_question(renderer: TelegramRenderer) -> None:
    reminded, _ = await renderer.render(
        "question", question_payload(intro="reminder", code="MONEY", number=7), "vi"
    )
    assert reminded.startswith("Nhắc nhẹ") and CODE in reminded
    assert "Câu 7/11: " in reminded
    plain, markup = await renderer.render(
        "question", question_payload(intro=None, code="EXPECT", number=10, draft=["E4"]), "vi"
    )
    assert plain.startswith("Câu 10/11: ")
    assert CODE not in plain
    marked = [t for t in texts(markup) if t.startswith("✅ ")]
    assert marked == ["✅ " + q(builtin("short"), "EXPECT").options[3].text_vi]


async def test_question_in_english(renderer: TelegramRenderer) -> None:
    text, markup = await renderer.render("question", question_payload(), "en")
    assert text.startswith("Case ") and "Question 1/11: " in text
    assert [[x for x in LABELS_EN if x in t] for t in texts(markup)] == [[x] for x in LABELS_EN]


async def test_question_not_in_the_form_is_an_error(renderer: TelegramRenderer) -> None:
    with pytest.raises(ValueError):
        await renderer.render("question", question_payload(code="NOPE"), "vi")


async def test_unknown_kind_is_an_error(renderer: TelegramRenderer) -> None:
    with pytest.raises(ValueError):
        await renderer.render("poll", {}, "vi")


def test_button_data_the_bot_never_makes_is_not_parsed() -> None:
    """Ids are ASCII digits that fit a 64-bit column; anything else is refused before use."""
    biggest = "9" * 18
    assert parse_press(f"a:{biggest}:F1:5") == (int(biggest), "F1", "5")
    assert parse_alert_press(f"k:{biggest}:d") == (int(biggest), "d")
    assert parse_follow_up("f:7:y") == (7, True)
    assert parse_follow_up("f:7:n") == (7, False)
    for data in ("a:" + "9" * 19 + ":F1:5", "a:١٢:F1:5", "a::F1:5", "a:-1:F1:5", "a:1:F1"):
        assert parse_press(data) is None, data
    for data in ("k:" + "9" * 35 + ":a", "k:١٢:a", "k:1:ax", "k:1:x", "k:1:a\n", "k::a"):
        assert parse_alert_press(data) is None, data
    for data in ("f:" + "9" * 19 + ":y", "f:1:maybe", "f:²:y"):
        assert parse_follow_up(data) is None, data
