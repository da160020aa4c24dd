"""SIPAS arithmetic (domain.md §5) on small hand-computed fixtures."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

import pandas as pd
import pytest

from scoring.agency_tree import ancestors, rollup
from scoring.counts import (
    counts_from_levels,
    daily_counts,
    daily_responses,
    replace_days,
    responses_in_period,
    select_days,
)
from scoring.frames import COUNTS, period, round_half_up
from scoring.sipas import (
    IndexRule,
    criterion_indices,
    factor_indices,
    rank,
    sipas_index,
    wilson_interval,
)


def _meta(code: str) -> tuple[int | None, str]:
    if m := re.fullmatch(r"F(\d)|(\d)\.\d", code):
        return int(m.group(1) or m.group(2)), "criterion"
    fixed = {
        "OVERALL": "overall",
        "MONEY": "money_asked",
        "HARASS": "harassment",
        "ONTIME": "on_time",
        "EXPECT": "expectations",
        "COMMENT": "suggestion",
    }
    if code.endswith(".WHY"):
        return int(code[1]), "reason"
    return None, fixed[code]


def answer(
    survey: int,
    code: str,
    value: int | None,
    *,
    agency: str = "A",
    procedure: str = "P1",
    officer: str | None = "Lan",
    at: str = "2026-10-05 09:00",
) -> dict[str, Any]:
    factor, topic = _meta(code)
    return {
        "survey_id": survey,
        "case_code": f"HS{survey}",
        "agency_code": agency,
        "procedure_code": procedure,
        "officer_name": officer,
        "question_code": code,
        "factor": factor,
        "topic": topic,
        "value_int": value,
        "choices": None,
        "answered_at": pd.Timestamp(at),
    }


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out["factor"] = out["factor"].astype("Int64")
    out["value_int"] = out["value_int"].astype("Int64")
    return out


def values(code: str, levels: list[int], **kw: Any) -> list[dict[str, Any]]:
    """One answer per level, each from its own survey (survey ids start at kw 'first' or 1)."""
    first = kw.pop("first", 1)
    return [answer(first + i, code, v, **kw) for i, v in enumerate(levels)]


def one(df: pd.DataFrame, **where: Any) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for column, value in where.items():
        mask &= df[column] == value
    rows = df[mask]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --- criterion ---------------------------------------------------------------------------------


def test_criterion_index_is_the_share_of_answers_at_4_or_5() -> None:
    # levels 1,2,3,4,5,5,4,3 → valid 8, at 4 or 5: 4,5,5,4 = 4 → 4/8 = 50 %
    counts = daily_counts(frame(values("1.1", [1, 2, 3, 4, 5, 5, 4, 3])))
    row = one(counts, question_code="1.1")
    assert (row.n1, row.n2, row.n3, row.n4, row.n5) == (1, 1, 2, 2, 2)
    assert (row.n_valid, row.n_satisfied) == (8, 4)
    got = one(criterion_indices(counts), question_code="1.1")
    assert got["index"] == pytest.approx(50.0)
    assert got["n"] == 8
    assert got["factor"] == 1


def test_invalid_and_skipped_answers_are_not_valid_answers() -> None:
    # 0, 6 and NA are not answers on the five-level scale: valid = 4, 5 → 1/2 = 50 %
    rows = [*values("2.1", [4, 1, 0, 6], first=1), answer(9, "2.1", None)]
    got = one(criterion_indices(daily_counts(frame(rows))), question_code="2.1")
    assert got["n"] == 2
    assert got["index"] == pytest.approx(50.0)


def test_yes_no_and_choice_answers_are_not_counted_as_levels() -> None:
    rows = [*values("F1", [5]), answer(1, "MONEY", 1), answer(1, "ONTIME", 1)]
    counts = daily_counts(frame(rows))
    assert list(counts["question_code"]) == ["F1"]
    assert list(counts.columns) == list(COUNTS)


def test_wilson_interval_of_8_out_of_10() -> None:
    # p = .8, z² = 3.8415, z²/n = .38415: centre = (.8 + .19208)/1.38415 = .71683,
    # half = 1.95996/1.38415 · √(.016 + .0096) = .22660 → [.4902, .9433]
    low, high = wilson_interval(8, 10)
    assert float(low) == pytest.approx(0.4902, abs=1e-4)
    assert float(high) == pytest.approx(0.9433, abs=1e-4)
    got = one(criterion_indices(daily_counts(frame(values("3.1", [5] * 8 + [2, 1])))))
    assert got["index"] == pytest.approx(80.0)
    assert round(got["wilson_low"], 1) == 49.0
    assert round(got["wilson_high"], 1) == 94.3


def test_wilson_interval_edges() -> None:
    low, high = wilson_interval([0, 10, 0], [10, 10, 0])
    # 0/10 → [0, 27.75 %]; 10/10 → [72.25 %, 100]; 0/0 → NaN
    assert low[0] == pytest.approx(0.0) and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert low[1] == pytest.approx(0.7225, abs=1e-4) and high[1] == pytest.approx(1.0)
    assert math.isnan(low[2]) and math.isnan(high[2])


def test_rule_very_satisfied_only() -> None:
    # threshold 5: levels 4,5,5,3 → 2/4 = 50 %; default rule gives 3/4 = 75 %
    counts = daily_counts(frame(values("4.1", [4, 5, 5, 3])))
    assert one(criterion_indices(counts, rule=IndexRule(threshold=5)))["index"] == 50.0
    assert one(criterion_indices(counts))["index"] == 75.0


def test_mean_score_rule() -> None:
    # levels 3,4,4,5: mean 4 → (4−1)/4·100 = 75. s = √((1+0+0+1)/3) = .8165, se = .40825,
    # 1.96·se = .80016 → mean ∈ [3.19984, 4.80016] → [54.996, 95.004]
    counts = daily_counts(frame(values("3.2", [3, 4, 4, 5])))
    got = one(criterion_indices(counts, rule=IndexRule(kind="mean_score")))
    assert got["index"] == pytest.approx(75.0)
    assert got["wilson_low"] == pytest.approx(54.996, abs=1e-3)
    assert got["wilson_high"] == pytest.approx(95.004, abs=1e-3)


def test_mean_score_rule_single_answer_has_no_interval_and_clips() -> None:
    one_answer = daily_counts(frame(values("3.2", [5])))
    got = one(criterion_indices(one_answer, rule=IndexRule(kind="mean_score")))
    assert got["index"] == 100.0
    assert math.isnan(got["wilson_low"])
    # levels 1,3,5: mean 3 → 50; s = 2, 1.96·2/√3 = 2.263 → [0.74, 5.26] → clipped [0, 100]
    spread = daily_counts(frame(values("3.2", [1, 3, 5])))
    got = one(criterion_indices(spread, rule=IndexRule(kind="mean_score")))
    assert (got["index"], got["wilson_low"], got["wilson_high"]) == (50.0, 0.0, 100.0)


def test_index_rule_is_validated() -> None:
    with pytest.raises(ValueError):
        IndexRule(threshold=6)
    with pytest.raises(ValueError):
        IndexRule(kind="median")  # type: ignore[arg-type]


# --- factor and SIPAS --------------------------------------------------------------------------


def test_factor_index_is_the_mean_of_its_criterion_indices_not_the_pooled_share() -> None:
    # 1.1: 5,4 → 2/2 = 100 %; 1.2: 5,1,2,3 → 1/4 = 25 % → factor 1 = (100 + 25)/2 = 62.5
    # (the pooled share would be 3/6 = 50 %, which is what the interval is built on)
    rows = values("1.1", [5, 4]) + values("1.2", [5, 1, 2, 3], first=10)
    got = one(factor_indices(daily_counts(frame(rows))), factor=1)
    assert got["index"] == pytest.approx(62.5)
    assert (got["n"], got["n_min"], got["n_criteria"]) == (6, 2, 2)
    low, high = wilson_interval(3, 6)
    assert got["wilson_low"] == pytest.approx(100 * float(low))
    assert got["wilson_high"] == pytest.approx(100 * float(high))


def five_factors(shares: dict[int, list[int]], **kw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for factor, levels in shares.items():
        rows += values(f"F{factor}", levels, first=1, **kw)
    return rows


def test_sipas_is_the_mean_of_the_five_factor_indices() -> None:
    # F1 100, F2 50, F3 75, F4 25, F5 0 → (100+50+75+25+0)/5 = 50
    rows = five_factors(
        {1: [5, 5, 4, 4], 2: [5, 4, 1, 2], 3: [5, 5, 5, 3], 4: [4, 1, 1, 1], 5: [1, 2, 3, 3]}
    )
    got = one(sipas_index(daily_counts(frame(rows))))
    assert got["sipas"] == pytest.approx(50.0)
    assert [got[f"factor_{f}"] for f in range(1, 6)] == [100.0, 50.0, 75.0, 25.0, 0.0]
    assert (got["n"], got["n_min"], got["factors"]) == (20, 4, 5)
    # pooled interval: 10 of 20 satisfied
    low, high = wilson_interval(10, 20)
    assert got["wilson_low"] == pytest.approx(100 * float(low))
    assert got["wilson_high"] == pytest.approx(100 * float(high))


def test_sipas_without_a_factor_is_nan_unless_asked_for_the_mean_of_those_present() -> None:
    # F1..F4 = 100, 50, 75, 25, F5 missing → NaN by default; else (100+50+75+25)/4 = 62.5
    rows = five_factors({1: [5, 5], 2: [5, 1], 3: [5, 5, 5, 1], 4: [4, 1, 1, 1]})
    counts = daily_counts(frame(rows))
    strict = one(sipas_index(counts))
    assert math.isnan(strict["sipas"]) and not strict["rankable"]
    assert strict["factors"] == 4 and math.isnan(strict["factor_5"])
    lenient = one(sipas_index(counts, require_all_factors=False))
    assert lenient["sipas"] == pytest.approx(62.5)


def test_overall_question_has_a_row_but_no_factor() -> None:
    # OVERALL 5,5,1 → 2/3; it does not enter factor or SIPAS figures
    rows = values("OVERALL", [5, 5, 1]) + values("F1", [1], first=7)
    counts = daily_counts(frame(rows))
    crit = criterion_indices(counts)
    overall = one(crit, question_code="OVERALL")
    assert overall["index"] == pytest.approx(200 / 3) and pd.isna(overall["factor"])
    assert list(factor_indices(counts)["factor"]) == [1]
    assert one(factor_indices(counts))["index"] == 0.0


def test_groups_by_officer_keep_unknown_officers_and_grand_total() -> None:
    # Lan: 5,5 → 100; unknown officer: 1 → 0; all: 2/3
    rows = values("F1", [5, 5]) + values("F1", [1], first=5, officer=None)
    counts = daily_counts(frame(rows))
    per_officer = criterion_indices(counts, by="officer_name")
    assert len(per_officer) == 2
    assert one(per_officer, officer_name="Lan")["index"] == 100.0
    assert per_officer[per_officer["officer_name"].isna()]["index"].tolist() == [0.0]
    total = criterion_indices(counts, by=[])
    assert one(total)["index"] == pytest.approx(200 / 3)


# --- daily counts and periods ------------------------------------------------------------------


def two_days() -> tuple[pd.DataFrame, pd.DataFrame]:
    # day 1: F1 5,4,1 (2/3); day 2: F1 2,2, 1.1 5 (0/2 and 1/1); late evening stays on its day
    day1 = frame(values("F1", [5, 4, 1], at="2026-10-05 23:59"))
    day2 = frame(
        values("F1", [2, 2], first=10, at="2026-10-06 00:00")
        + values("1.1", [5], first=20, at="2026-10-06 08:00")
    )
    return day1, day2


def test_summing_stored_days_equals_scoring_both_days_at_once() -> None:
    day1, day2 = two_days()
    stored = pd.concat([daily_counts(day1), daily_counts(day2)], ignore_index=True)
    together = daily_counts(pd.concat([day1, day2], ignore_index=True))
    a = criterion_indices(stored)
    b = criterion_indices(together)
    pd.testing.assert_frame_equal(a, b)
    # F1 over both days: 2 of 5 → 40 %
    assert one(a, question_code="F1")["index"] == pytest.approx(40.0)
    assert list(daily_counts(day1)["day"]) == [pd.Timestamp("2026-10-05")]


def test_counts_from_sql_shaped_level_rows_equal_daily_counts() -> None:
    day1, _ = two_days()
    rows = pd.DataFrame(
        {
            "day": ["2026-10-05"] * 4,
            "agency_code": ["A"] * 4,
            "procedure_code": ["P1"] * 4,
            "officer_name": ["Lan"] * 4,
            "question_code": ["F1"] * 4,
            "factor": [1, 1, 1, 1],
            "value_int": [5, 4, 1, 9],  # 9 is not a level and is dropped
            "answers": [1, 1, 1, 7],
        }
    )
    got = counts_from_levels(rows)
    want = daily_counts(day1)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_select_days_is_inclusive() -> None:
    day1, day2 = two_days()
    counts = pd.concat([daily_counts(day1), daily_counts(day2)], ignore_index=True)
    assert select_days(counts, "2026-10-06", "2026-10-06")["n_valid"].sum() == 3
    assert select_days(counts, date(2026, 10, 5), date(2026, 10, 6))["n_valid"].sum() == 6
    assert select_days(counts, "2026-10-07", "2026-10-31").empty


def test_rescoring_a_day_replaces_it() -> None:
    day1, day2 = two_days()
    stored = pd.concat([daily_counts(day1), daily_counts(day2)], ignore_index=True)
    # day 1 re-scored with one more answer: replaced, not added
    more = frame([*day1.to_dict("records"), answer(99, "F1", 5, at="2026-10-05 10:00")])
    stored = replace_days(stored, daily_counts(more))
    stored = replace_days(stored, daily_counts(more))
    f1 = select_days(stored, "2026-10-05", "2026-10-05")
    assert f1["n_valid"].sum() == 4 and f1["n_satisfied"].sum() == 3
    assert select_days(stored, "2026-10-06", "2026-10-06")["n_valid"].sum() == 3
    # re-scoring day 2 that now has nothing clears it
    cleared = replace_days(stored, daily_counts(more.iloc[0:0]), days=["2026-10-06"])
    assert cleared["n_valid"].sum() == 4


def test_responses_count_each_survey_once_in_the_period() -> None:
    # survey 1 answers on the 5th and 6th; survey 2 only on the 6th; survey 3 at agency B on the 7th
    rows = frame(
        [
            answer(1, "F1", 5, at="2026-10-05 10:00"),
            answer(1, "F2", 5, at="2026-10-06 10:00"),
            answer(2, "F1", 3, at="2026-10-06 11:00"),
            answer(3, "F1", 3, agency="B", at="2026-10-07 11:00"),
        ]
    )
    got = responses_in_period(rows, "2026-10-05", "2026-10-06")
    assert got.to_dict("records") == [{"agency_code": "A", "responses": 2}]
    daily = daily_responses(rows)
    assert len(daily) == 4
    got = responses_in_period(daily, "2026-10-06", "2026-10-07")
    assert got.to_dict("records") == [
        {"agency_code": "A", "responses": 2},
        {"agency_code": "B", "responses": 1},
    ]
    assert responses_in_period(daily, "2026-10-01", "2026-10-31", by=[])["responses"][0] == 3


def test_named_periods() -> None:
    on = date(2026, 8, 17)
    assert period("day", on) == (on, on)
    assert period("month_to_date", on) == (date(2026, 8, 1), on)
    assert period("quarter_to_date", on) == (date(2026, 7, 1), on)
    assert period("year_to_date", on) == (date(2026, 1, 1), on)
    assert period("month", date(2028, 2, 10)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert period("quarter", on) == (date(2026, 7, 1), date(2026, 9, 30))
    assert period("year", on) == (date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(ValueError):
        period("week", on)


def test_round_half_up() -> None:
    # numpy and round() go to even on 72.25 and 2.675 (binary below .675); tables round up
    assert round_half_up(72.25, 1) == 72.3
    assert round_half_up(2.675, 2) == 2.68
    assert round_half_up(81.1111, 2) == 81.11
    assert math.isnan(round_half_up(None, 1))


# --- the agency tree ---------------------------------------------------------------------------

TREE = pd.DataFrame(
    {
        "code": ["PROV", "DIST", "C1", "C2", "C3"],
        "parent_code": [None, "PROV", "DIST", "DIST", "PROV"],
        "name": ["Tỉnh", "Huyện", "Xã 1", "Xã 2", "Xã 3"],
    }
)


def test_rollup_over_province_district_commune() -> None:
    # F1: PROV 5 (1/1), DIST 1 (0/1), C1 5,5 (2/2), C2 1,1,1 (0/3), C3 4 (1/1)
    rows = (
        values("F1", [5], agency="PROV")
        + values("F1", [1], agency="DIST", first=10)
        + values("F1", [5, 5], agency="C1", first=20)
        + values("F1", [1, 1, 1], agency="C2", first=30)
        + values("F1", [4], agency="C3", first=40)
    )
    rolled = rollup(daily_counts(frame(rows)), TREE)
    got = criterion_indices(rolled).set_index("agency_code")
    # DIST = DIST + C1 + C2: 2 of 6; PROV = everything: 4 of 8; C1 alone: 2 of 2
    assert got.loc["DIST", "n"] == 6 and got.loc["DIST", "index"] == pytest.approx(100 / 3)
    assert got.loc["PROV", "n"] == 8 and got.loc["PROV", "index"] == pytest.approx(50.0)
    assert got.loc["C1", "n"] == 2 and got.loc["C1", "index"] == 100.0
    assert got.loc["C3", "n"] == 1
    assert list(rolled.columns) == list(COUNTS)


def test_rollup_of_responses_and_unknown_agency() -> None:
    responses = pd.DataFrame({"agency_code": ["C1", "C2", "XX"], "responses": [3, 4, 5]})
    got = rollup(responses, TREE, values=["responses"]).set_index("agency_code")["responses"]
    assert got.to_dict() == {"C1": 3, "C2": 4, "DIST": 7, "PROV": 7, "XX": 5}


def test_rollup_survives_a_cycle() -> None:
    cyclic = pd.DataFrame(
        {"code": ["A", "B", "S"], "parent_code": ["B", "A", "S"], "name": ["a", "b", "s"]}
    )
    assert ancestors(cyclic, "A") == ["A", "B"]
    assert ancestors(cyclic, "S") == ["S"]
    rows = values("F1", [5], agency="A") + values("F1", [1], agency="B", first=5)
    rows += values("F1", [5], agency="S", first=9)
    got = criterion_indices(rollup(daily_counts(frame(rows)), cyclic)).set_index("agency_code")
    # A and B are each other's ancestor: both hold A + B = 1 of 2; S (its own parent) stays alone
    assert got.loc["A", "n"] == 2 and got.loc["B", "n"] == 2 and got.loc["S", "n"] == 1


# --- minimum sample and ranking ----------------------------------------------------------------


def test_min_sample_marks_figures_rankable() -> None:
    rows = values("F1", [5] * 29, agency="SMALL") + values("F1", [5] * 30, agency="BIG", first=100)
    got = criterion_indices(daily_counts(frame(rows))).set_index("agency_code")
    assert not got.loc["SMALL", "rankable"]
    assert got.loc["BIG", "rankable"]
    # a figure below the minimum is still shown
    assert got.loc["SMALL", "index"] == 100.0
    assert criterion_indices(daily_counts(frame(rows)), min_sample=29)["rankable"].all()


def test_factor_rankability_uses_the_smallest_criterion_sample() -> None:
    # 1.1 answered 30 times, 1.2 only 5: n = 35 but n_min = 5 → not rankable
    rows = values("1.1", [5] * 30) + values("1.2", [5] * 5, first=100)
    got = one(factor_indices(daily_counts(frame(rows))))
    assert (got["n"], got["n_min"], got["rankable"]) == (35, 5, False)


def test_rank_only_rankable_rows_worst_first_ties_share() -> None:
    indices = pd.DataFrame(
        {
            "agency_code": ["A", "A", "A", "B", "B"],
            "procedure_code": ["P1", "P2", "P3", "P1", "P2"],
            "index": [80.0, 60.0, 10.0, 60.0, 90.0],
            "rankable": [True, True, False, True, True],
        }
    )
    worst = rank(indices)
    # P3 (10 %) is below the minimum sample: never ranked
    assert list(zip(worst["procedure_code"], worst["rank"], strict=True)) == [
        ("P2", 1),
        ("P1", 1),
        ("P1", 3),
        ("P2", 4),
    ]
    best = rank(indices, worst_first=False, limit=1)
    assert best[["agency_code", "procedure_code", "rank"]].values.tolist() == [["B", "P2", 1]]
    within = rank(indices, within="agency_code", limit=1)
    assert within[["agency_code", "procedure_code"]].values.tolist() == [["A", "P2"], ["B", "P1"]]
