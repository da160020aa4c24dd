"""The generous typed-answer parser (bot/survey/answers.py) on replies citizens really send.

Each row is a reply as typed into a chat without buttons (or under Telegram buttons) and what
it must mean: a level, yes or no, the options picked, a skip, or "ask again" with the reason.
A reply that could be read two ways must be asked again, never answered.
"""

from __future__ import annotations

import pytest

from bot.survey.answers import AskAgain, Level, Picked, Reading, Skipped, YesNo, read_answer
from bot.survey.engine import AnswerError, Given, parse_text
from bot.survey.questionnaire import Question, builtin

SHORT, FULL = builtin("short"), builtin("full")


def _q(form_code: str, code: str) -> Question:
    found = (SHORT if form_code == "short" else FULL).question(code)
    assert found is not None, code
    return found


LIKERT = _q("short", "F1")  # required five-level
LIKERT_OPTIONAL = _q("full", "5.1")
YES_NO = _q("short", "MONEY")
MULTI = _q("short", "EXPECT")  # 8 options, at most 2: E1 … E8
SINGLE = _q("full", "VISITS")  # 4 options, one pick: V1 … V4, labels "1 lần" … "Từ 4 lần trở lên"
WHY = _q("short", "F1.WHY")  # optional, 5 options, the last "Lý do khác"

YES, NO, SKIP = YesNo(yes=True), YesNo(yes=False), Skipped()
UNCLEAR, AMBIGUOUS = AskAgain("unclear"), AskAgain("ambiguous")
OUT, TOO_MANY, REQUIRED = AskAgain("out_of_range"), AskAgain("too_many"), AskAgain("required")


def L(value: int) -> Level:
    return Level(value)


def P(*codes: str) -> Picked:
    return Picked(codes)


LIKERT_ROWS: list[tuple[str, Reading]] = [
    # digits, with or without "điểm", "/5", stars and punctuation
    ("5", L(5)), ("1", L(1)), (" 3 ", L(3)), ("4.", L(4)), ("4!", L(4)),
    ("4 điểm", L(4)), ("4 diem", L(4)), ("4điểm", L(4)), ("4đ", L(4)), ("điểm 4", L(4)),
    ("diem 4", L(4)), ("Điểm 5", L(5)), ("diem4", L(4)), ("4/5", L(4)), ("5/5", L(5)),
    ("4 / 5", L(4)), ("3/5 điểm", L(3)), ("5 sao", L(5)), ("5⭐", L(5)), ("⭐⭐⭐⭐", L(4)),
    ("⭐️⭐️⭐️⭐️⭐️", L(5)), ("mức 4", L(4)), ("chọn 5", L(5)), ("số 2", L(2)), ("5 ạ", L(5)),
    ("tôi chọn 4", L(4)), ("4 - Hài lòng", L(4)), ("4. Hài lòng", L(4)), ("5 rất hài lòng", L(5)),
    ("1 rất không hài lòng", L(1)),
    # labels in any case, with and without diacritics
    ("Rất hài lòng", L(5)), ("rất hài lòng", L(5)), ("RẤT HÀI LÒNG", L(5)), ("rat hai long", L(5)),
    ("Rat Hai Long", L(5)), ("Hài lòng", L(4)), ("hai long", L(4)), ("HAI LONG", L(4)),
    ("Bình thường", L(3)), ("binh thuong", L(3)), ("BINH THUONG", L(3)), ("Không hài lòng", L(2)),
    ("khong hai long", L(2)), ("Rất không hài lòng", L(1)), ("rat khong hai long", L(1)),
    ("Chưa hài lòng", L(2)), ("hài lòng lắm", L(5)), ("rất rất hài lòng", L(5)),
    ("rất là hài lòng", L(5)), ("tôi thấy hài lòng", L(4)), ("dạ hài lòng ạ", L(4)),
    ("Hài lòng!", L(4)), ("hài lòng.", L(4)), ("  hài   lòng  ", L(4)),
    # abbreviations and short forms
    ("HL", L(4)), ("hl", L(4)), ("RHL", L(5)), ("rhl", L(5)), ("BT", L(3)), ("bt", L(3)),
    ("KHL", L(2)), ("khl", L(2)), ("RKHL", L(1)), ("rất hl", L(5)), ("rat hl", L(5)),
    ("k hài lòng", L(2)), ("ko hài lòng", L(2)), ("ko hl", L(2)), ("hông hài lòng", L(2)),
    ("rất ko hài lòng", L(1)),
    # Telex and VNI leftovers
    ("hai lofng", L(4)), ("haif lofng", L(4)), ("raats haif lofng", L(5)),
    ("binhf thuwowngf", L(3)),
    ("khoong haif lofng", L(2)), ("hai lo2ng", L(4)), ("ha2i lo2ng", L(4)),
    ("ra6t1 ha2i lo2ng", L(5)), ("kho6ng ha2i lo2ng", L(2)), ("bi2nh thu7o7ng2", L(3)),
    ("4 ddieemr", L(4)),
    # typos
    ("hai lonh", L(4)), ("hia long", L(4)), ("hai lòg", L(4)), ("rat hai lonng", L(5)),
    ("binh thuog", L(3)), ("bình thườg", L(3)), ("khonh hai long", L(2)),
    ("hài lòn", UNCLEAR),  # "lòng" or "lần": not repaired
    # emoji
    ("👍 hài lòng", L(4)), ("hài lòng 😊", L(4)), ("rất hài lòng 👍👍", L(5)), ("😡 rkhl", L(1)),
    # English
    ("Very satisfied", L(5)), ("satisfied", L(4)), ("neutral", L(3)), ("dissatisfied", L(2)),
    ("not satisfied", L(2)), ("very dissatisfied", L(1)),
    # ask again: ambiguous, out of range, nonsense
    ("4 5", AMBIGUOUS), ("4,5", AMBIGUOUS), ("4.5", AMBIGUOUS), ("4-5", AMBIGUOUS),
    ("4 hoặc 5", AMBIGUOUS), ("hài lòng không", AMBIGUOUS), ("hai long khong", AMBIGUOUS),
    ("không hài lòng lắm", AMBIGUOUS), ("5 không hài lòng", AMBIGUOUS), ("2 hài lòng", AMBIGUOUS),
    ("HL/RHL", AMBIGUOUS), ("5/10", AMBIGUOUS), ("0", OUT), ("6", OUT), ("10", OUT),
    ("45", OUT), ("0 điểm", OUT), ("⭐⭐⭐⭐⭐⭐", OUT), ("hài", UNCLEAR), ("hai", UNCLEAR),
    ("hello", UNCLEAR), ("có", UNCLEAR), ("ok", UNCLEAR), ("👍", UNCLEAR), ("", UNCLEAR),
    ("²", UNCLEAR), ("4²", UNCLEAR), ("①", UNCLEAR), ("tốt", UNCLEAR), ("kong hai long", UNCLEAR),
    ("bỏ qua", REQUIRED), ("skip", REQUIRED),
]  # fmt: skip

YES_NO_ROWS: list[tuple[str, Reading]] = [
    ("có", YES), ("Có", YES), ("CÓ", YES), ("co", YES), ("CO", YES), ("c", YES), ("C", YES),
    ("yes", YES), ("Yes", YES), ("y", YES), ("ừ", YES), ("ừ.", YES), ("ok", YES), ("OK", YES),
    ("oke", YES), ("vâng", YES), ("Vâng ạ", YES), ("dạ có", YES), ("có ạ", YES), ("có!", YES),
    ("đúng", YES), ("đúng rồi", YES), ("có bị", YES), ("có chứ", YES), ("cos", YES),
    ("co1", YES), ("👍 có", YES), ("1", YES),
    ("không", NO), ("Không", NO), ("KHÔNG", NO), ("khong", NO), ("k", NO), ("K", NO),
    ("ko", NO), ("Ko", NO), ("kg", NO), ("khg", NO), ("no", NO), ("No", NO), ("n", NO),
    ("hông", NO), ("hong", NO), ("hok", NO), ("không ạ", NO), ("dạ không", NO),
    ("không có", NO), ("ko có", NO), ("không bị", NO), ("chưa", NO), ("chưa bao giờ", NO),
    ("khoong", NO), ("kho6ng", NO), ("khonh", NO), ("không!!", NO), ("2", NO),
    ("có không", AMBIGUOUS), ("co khong", AMBIGUOUS), ("yes no", AMBIGUOUS), ("1 2", AMBIGUOUS),
    ("có lẽ", UNCLEAR), ("không biết", UNCLEAR), ("dạ", UNCLEAR), ("hài lòng", UNCLEAR),
    ("👍", UNCLEAR), ("3", OUT), ("0", OUT), ("bỏ qua", REQUIRED),
]  # fmt: skip

MULTI_ROWS: list[tuple[str, Reading]] = [
    ("1, 3", P("E1", "E3")), ("1,3", P("E1", "E3")), ("1 3", P("E1", "E3")),
    ("1;3", P("E1", "E3")), ("1 và 3", P("E1", "E3")), ("1 va 3", P("E1", "E3")),
    ("1 and 3", P("E1", "E3")), ("3, 1", P("E3", "E1")), ("2,8", P("E2", "E8")),
    ("4", P("E4",)), ("4.", P("E4",)), ("số 4", P("E4",)), ("chọn 2 và 5", P("E2", "E5")),
    ("1, 3.", P("E1", "E3")), ("1/3", P("E1", "E3")), ("1 , 1", P("E1",)),
    ("Cung cấp thông tin tốt hơn", P("E1",)), ("cai thien thai do cong chuc", P("E4",)),
    ("1 2 3", TOO_MANY), ("1, 2, 3", TOO_MANY), ("1 9", OUT), ("0", OUT), ("1 0", OUT),
    ("9", OUT), ("1-3", AMBIGUOUS), ("abc 1", UNCLEAR), ("1²", UNCLEAR), ("thái độ", UNCLEAR),
    ("", UNCLEAR), ("xong", UNCLEAR),
]  # fmt: skip

SINGLE_ROWS: list[tuple[str, Reading]] = [
    ("2", P("V2",)), ("2 lần", P("V2",)), ("2 lan", P("V2",)), ("1 lần", P("V1",)),
    ("từ 4 lần trở lên", P("V4",)), ("4", P("V4",)), ("1 3", TOO_MANY), ("5", OUT),
    ("tôi không nhớ", UNCLEAR), ("2-3 lần", AMBIGUOUS),
]  # fmt: skip

OPTIONAL_ROWS: list[tuple[Question, str, Reading]] = [
    (WHY, "Lý do khác", P(WHY.options[4].code)),
    (WHY, "ly do khac", P(WHY.options[4].code)), (WHY, "5", P(WHY.options[4].code)),
    (WHY, "bỏ qua", SKIP), (WHY, "Bỏ qua", SKIP), (WHY, "BO QUA", SKIP), (WHY, "skip", SKIP),
    (WHY, "-", SKIP), (WHY, "bỏ qua ạ", SKIP), (WHY, "bor qua", SKIP), (WHY, "6", OUT),
    (LIKERT_OPTIONAL, "bỏ qua", SKIP), (LIKERT_OPTIONAL, "4", L(4)),
]  # fmt: skip

ROWS: list[tuple[Question, str, Reading]] = [
    *((LIKERT, typed, expected) for typed, expected in LIKERT_ROWS),
    *((YES_NO, typed, expected) for typed, expected in YES_NO_ROWS),
    *((MULTI, typed, expected) for typed, expected in MULTI_ROWS),
    *((SINGLE, typed, expected) for typed, expected in SINGLE_ROWS),
    *OPTIONAL_ROWS,
]


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 200
    assert len({(q.code, typed) for q, typed, _ in ROWS}) == len(ROWS), "no row twice"


@pytest.mark.parametrize(
    ("question", "typed", "expected"),
    ROWS,
    ids=[f"{q.code}:{typed!r}" for q, typed, _ in ROWS],
)
def test_reply_reads_as_expected(question: Question, typed: str, expected: Reading) -> None:
    assert read_answer(question, typed) == expected


@pytest.mark.parametrize(
    ("question", "typed", "expected"),
    [
        (LIKERT, "hai lofng", Given(value_int=4)),
        (LIKERT, "RHL", Given(value_int=5)),
        (YES_NO, "ko", Given(value_int=0)),
        (YES_NO, "ừ", Given(value_int=1)),
        (MULTI, "1 và 3", Given(choices=("E1", "E3"))),
        (WHY, "bỏ qua ạ", Given(skipped=True)),
    ],
)
def test_engine_reads_typed_answers_through_the_parser(
    question: Question, typed: str, expected: Given
) -> None:
    assert parse_text(question, typed) == expected


@pytest.mark.parametrize(
    ("question", "typed"),
    [(LIKERT, "4 5"), (LIKERT, "hài lòng không"), (YES_NO, "có không"), (MULTI, "1 9")],
)
def test_engine_asks_again_rather_than_guess(question: Question, typed: str) -> None:
    with pytest.raises(AnswerError) as refused:
        parse_text(question, typed)
    assert refused.value.reason == "use_buttons"
