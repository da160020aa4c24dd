"""Low-score responses and agencies below their threshold."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from scoring.alerts import (
    LOW_SCORE_COLUMNS,
    agencies_below_threshold,
    low_score_response,
    low_score_responses,
)

TOPICS = {
    "OVERALL": "overall",
    "MONEY": "money_asked",
    "HARASS": "harassment",
    "COMMENT": "suggestion",
    "EXPECT": "expectations",
}


def answer(
    survey: int,
    code: str,
    value: int | None = None,
    *,
    choices: list[str] | None = None,
    text: str | None = None,
    at: str = "2026-10-05 09:00",
) -> dict[str, Any]:
    if m := re.fullmatch(r"F(\d)|(\d)\.\d", code):
        factor: int | None = int(m.group(1) or m.group(2))
        topic = "criterion"
    elif code.endswith(".WHY"):
        factor, topic = int(code[1]), "reason"
    else:
        factor, topic = None, TOPICS[code]
    return {
        "survey_id": survey,
        "case_code": f"HS{survey}",
        "agency_code": "A",
        "procedure_code": "P1",
        "officer_name": "Nguyễn Văn Lan",
        "question_code": code,
        "factor": factor,
        "topic": topic,
        "value_int": value,
        "choices": choices,
        "value_text": text,
        "answered_at": pd.Timestamp(at),
    }


def survey(sid: int, f: list[int], overall: int, money: int = 0, harass: int = 0) -> list[dict]:
    rows = [answer(sid, f"F{i + 1}", v) for i, v in enumerate(f)]
    rows += [answer(sid, "OVERALL", overall), answer(sid, "MONEY", money)]
    rows += [answer(sid, "HARASS", harass)]
    return rows


def answers() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    rows += survey(1, [5, 4, 4, 5, 4], 5)  # all fine
    rows += survey(2, [5, 4, 2, 5, 4], 4)  # F3 = 2: low
    rows += [answer(2, "F3.WHY", choices=["R1"], at="2026-10-05 09:01")]
    rows += [answer(2, "COMMENT", text="  Cán bộ cần niềm nở hơn  ", at="2026-10-05 09:05")]
    rows += survey(3, [5, 5, 5, 5, 5], 5, money=1)  # money asked
    rows += survey(4, [3, 3, 3, 3, 3], 3)  # 3 is low only with threshold 3
    rows += survey(5, [5, 5, 5, 5, 5], 1, harass=1)  # OVERALL 1 and harassment
    rows += [answer(5, "EXPECT", choices=["E4"])]
    rows += survey(6, [5, 5, 5, 5, 5], 5, harass=1)  # harassment only
    out = pd.DataFrame(rows)
    out["factor"] = out["factor"].astype("Int64")
    out["value_int"] = out["value_int"].astype("Int64")
    return out


def test_low_score_responses_are_found() -> None:
    got = low_score_responses(answers()).set_index("survey_id")
    assert got.index.tolist() == [2, 3, 5, 6]
    assert got.loc[2, "low_items"] == [("F3", 2)]
    assert got.loc[2, "reasons"] == [("F3.WHY", "R1")]
    assert got.loc[2, "comment"] == "Cán bộ cần niềm nở hơn"
    assert not got.loc[2, "money_asked"] and not got.loc[2, "harassment"]
    assert got.loc[3, "low_items"] == [] and got.loc[3, "money_asked"]
    assert got.loc[5, "low_items"] == [("OVERALL", 1)] and got.loc[5, "harassment"]
    assert got.loc[5, "comment"] is None
    assert got.loc[6, "low_items"] == [] and got.loc[6, "harassment"]
    assert not got.loc[6, "money_asked"]
    assert got.loc[2, "case_code"] == "HS2" and got.loc[2, "officer_name"] == "Nguyễn Văn Lan"
    assert got.loc[2, "answered_at"] == pd.Timestamp("2026-10-05 09:05")


def test_the_one_survey_check_agrees_with_the_frame_rule() -> None:
    """`low_score_response` (one completed survey, no frame) flags exactly the surveys the
    frame rule does, at every threshold."""
    frame = answers()
    for threshold in (1, 2, 3):
        flagged = set(low_score_responses(frame, threshold=threshold)["survey_id"])
        for survey_id, group in frame.groupby("survey_id"):
            found = low_score_response(group.to_dict("records"), threshold)
            assert (found is not None) == (survey_id in flagged), (survey_id, threshold)


def test_threshold_is_a_setting() -> None:
    got = low_score_responses(answers(), threshold=3).set_index("survey_id")
    assert got.index.tolist() == [2, 3, 4, 5, 6]
    assert got.loc[4, "low_items"] == [(f"F{i}", 3) for i in range(1, 6)] + [("OVERALL", 3)]
    # threshold 1: survey 2 (F3 = 2) drops out; 3, 5 (OVERALL 1) and 6 stay
    assert low_score_responses(answers(), threshold=1)["survey_id"].tolist() == [3, 5, 6]


def test_no_low_scores_gives_an_empty_frame_with_the_columns() -> None:
    got = low_score_responses(pd.DataFrame(survey(1, [5, 5, 5, 5, 5], 5)))
    assert got.empty and tuple(got.columns) == LOW_SCORE_COLUMNS


def test_low_score_output_never_carries_the_citizen_identity() -> None:
    frame = answers().assign(
        applicant_name="Trần Thị Bình", phone="0912345678", email="binh@example.vn", chat_id=77
    )
    got = low_score_responses(frame)
    assert tuple(got.columns) == (
        "survey_id",
        "case_code",
        "agency_code",
        "procedure_code",
        "officer_name",
        "answered_at",
        "low_items",
        "reasons",
        "money_asked",
        "harassment",
        "comment",
    )
    text = got.astype(str).to_string()
    for secret in ("Trần Thị Bình", "0912345678", "binh@example.vn"):
        assert secret not in text


def test_agencies_below_threshold() -> None:
    indices = pd.DataFrame(
        {
            "agency_code": ["A", "B", "C", "D", "E"],
            "sipas": [85.0, 92.0, 70.0, 89.9, float("nan")],
            "n": [400, 400, 400, 400, 400],
            "n_min": [40, 40, 29, 30, 40],
        }
    )
    got = agencies_below_threshold(indices, {"B": 95.0, "D": None})  # type: ignore[dict-item]
    # A 85 < 90; B 92 < its own 95; C too few answers (n_min 29); D 89.9 < 90 (None → default)
    assert got["agency_code"].tolist() == ["A", "D", "B"]  # worst first
    assert got["threshold"].tolist() == [90.0, 90.0, 95.0]
    stricter = agencies_below_threshold(indices, {}, default=80.0, min_samples={"C": 20})
    assert stricter["agency_code"].tolist() == ["C"]


def test_agencies_below_threshold_uses_n_without_n_min() -> None:
    indices = pd.DataFrame({"agency_code": ["A", "B"], "sipas": [50.0, 50.0], "n": [30, 29]})
    assert agencies_below_threshold(indices, {})["agency_code"].tolist() == ["A"]
    assert agencies_below_threshold(indices, {}, min_sample=10)["agency_code"].tolist() == [
        "A",
        "B",
    ]


def test_one_survey_read_without_a_frame_is_its_row_of_the_frame() -> None:
    frame = answers()
    expected = low_score_responses(frame).set_index("survey_id")
    for sid, group in frame.groupby("survey_id"):
        # Plain rows, as the database gives them: ints and None, not pandas' missing values.
        rows = [
            {k: (None if v is pd.NA else v) for k, v in row.items()}
            for row in group.to_dict("records")
        ]
        got = low_score_response(rows)
        if sid not in expected.index:
            assert got is None
            continue
        assert got is not None and set(got) == set(LOW_SCORE_COLUMNS)
        want = expected.loc[sid]
        for column in LOW_SCORE_COLUMNS:
            if column != "survey_id":
                assert got[column] == want[column], (sid, column)
    assert low_score_response([]) is None
