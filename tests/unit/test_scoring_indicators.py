"""Timeliness, QĐ 766, response rate, expectations, complaints and the agency report."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import pytest

from scoring.agency_report import agency_report
from scoring.counts import counts_from_levels, daily_counts, responses_in_period, select_days
from scoring.frames import COUNT_KEYS, REPORT_COLUMNS
from scoring.indicators import (
    Qd766,
    case_feedback,
    complaints,
    expectation_ranking,
    qd766_satisfaction,
    qd766_table,
    response_rate,
    timeliness_summary,
)

START, END = "2026-10-01", "2026-10-31"
T = pd.Timestamp
NaT = pd.NaT


def case(
    code: str,
    received: str,
    due: str | None,
    ended: str | None,
    timeliness: str | None,
    agency: str = "A",
) -> dict[str, Any]:
    return {
        "case_code": code,
        "agency_code": agency,
        "procedure_code": "P1",
        "status": 10 if ended else 4,
        "received_at": T(received),
        "due_at": T(due) if due else NaT,
        "ended_at": T(ended) if ended else NaT,
        "timeliness": timeliness,
    }


def cases_a() -> list[dict[str, Any]]:
    return [
        # ended in October: early 7.5 d, on time 8 d, on time (no promise) 1 d, late 17 d
        case("H1", "2026-10-01 08:00", "2026-10-10 17:00", "2026-10-08 20:00", "early"),
        case("H2", "2026-10-02 08:00", "2026-10-10 08:00", "2026-10-10 08:00", "on_time"),
        case("H3", "2026-10-03 08:00", None, "2026-10-04 08:00", None),  # derived: on time
        case("H4", "2026-09-20 08:00", "2026-10-05 17:00", "2026-10-07 08:00", "late"),
        # ended before the period: nothing
        case("H5", "2026-09-01 08:00", "2026-09-10 17:00", "2026-09-30 08:00", "late"),
        # open at the period's last day (31 Oct)
        case("H6", "2026-10-05 08:00", "2026-10-30 17:00", None, None),  # overdue
        case("H7", "2026-10-05 08:00", "2026-10-31 08:00", None, None),  # due that day: not
        case("H8", "2026-10-10 08:00", "2026-10-20 17:00", "2026-11-02 08:00", "late"),  # overdue
        case("H9", "2026-11-01 08:00", "2026-10-05 08:00", None, None),  # received after: no
        case("H10", "2026-09-01 08:00", "2026-09-15 08:00", None, None),  # overdue, received Sep
    ]


def cases_b() -> list[dict[str, Any]]:
    return [
        # K1 on time (same day, later hour), K2 early, K3 late; none has a stored class
        case("K1", "2026-10-01 08:00", "2026-10-02 08:00", "2026-10-02 09:00", None, "B"),
        case("K2", "2026-10-01 08:00", "2026-10-03 08:00", "2026-10-02 08:00", None, "B"),
        case("K3", "2026-10-01 08:00", "2026-10-01 17:00", "2026-10-02 08:00", None, "B"),
    ]


def cases_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


# --- timeliness --------------------------------------------------------------------------------


def test_timeliness_shares_of_cases_ended_in_the_period() -> None:
    got = timeliness_summary(cases_frame(cases_a()), START, END).iloc[0]
    # ended H1..H4: early 1, on time 2, late 1 → 25 / 50 / 25 %, on time rate 3/4 = 75 %
    assert (got["ended"], got["early"], got["on_time"], got["late"]) == (4, 1, 2, 1)
    assert (got["early_pct"], got["on_time_pct"], got["late_pct"]) == (25.0, 50.0, 25.0)
    assert got["on_time_rate"] == 75.0


def test_average_processing_days() -> None:
    got = timeliness_summary(cases_frame(cases_a()), START, END).iloc[0]
    # (7.5 + 8 + 1 + 17) / 4 = 8.375 → 8.4
    assert got["avg_days"] == 8.4


def test_overdue_open_at_the_period_end_and_received_count() -> None:
    got = timeliness_summary(cases_frame(cases_a()), START, END).iloc[0]
    # H6 (due 30 Oct), H8 (ended only on 2 Nov), H10 (due in September); not H7 (due 31 Oct)
    assert got["overdue_open"] == 3
    # received in October: H1, H2, H3, H6, H7, H8
    assert got["received"] == 6
    # seen from 29 October, H6 (due 30 Oct) is not overdue yet and H8 is still open
    earlier = timeliness_summary(cases_frame(cases_a()), START, "2026-10-29").iloc[0]
    assert earlier["overdue_open"] == 2


def test_stored_timeliness_wins_and_missing_is_derived_from_dates() -> None:
    rows = cases_b()
    rows[0]["timeliness"] = "late"  # storage knows better (e.g. a supplement moved the date)
    got = timeliness_summary(cases_frame(rows), START, END).iloc[0]
    # K1 stored late, K2 derived early, K3 derived late (ended 2 Oct, promised 1 Oct)
    assert (got["early"], got["on_time"], got["late"]) == (1, 0, 2)


def test_timeliness_per_agency_and_empty_period() -> None:
    frame = cases_frame(cases_a() + cases_b())
    got = timeliness_summary(frame, START, END).set_index("agency_code")
    # B: K1 on time, K2 early, K3 late → 2/3
    assert got.loc["B", "on_time_rate"] == pytest.approx(200 / 3)
    assert got.loc["B", "overdue_open"] == 0
    quiet = timeliness_summary(frame, "2027-03-01", "2027-03-31")
    # only A's still-open overdue cases remain: a row with nothing ended → NaN shares
    assert quiet["agency_code"].tolist() == ["A"]
    assert quiet["ended"].tolist() == [0] and math.isnan(quiet["on_time_rate"].iloc[0])


# --- QĐ 766 ------------------------------------------------------------------------------------


def test_qd766_full_marks_at_90_percent_or_more() -> None:
    # 5 % late + 2 % complaints → 93 % ≥ 90 → 100 points
    assert qd766_satisfaction(5, 100, 2) == Qd766(93.0, 100.0)
    # exactly 90 % → full marks
    assert qd766_satisfaction(6, 100, 1, 3) == Qd766(90.0, 100.0)


def test_qd766_pro_rata_below_90() -> None:
    # 20 % late + 7 % complaints → 73 % → 73 / 90 × 100 = 81.111 → 81.11
    assert qd766_satisfaction(20, 100, 7) == Qd766(73.0, 81.11)
    # 1 late of 3 → 66.667 % → 74.07
    assert qd766_satisfaction(1, 3, 0) == Qd766(66.67, 74.07)


def test_qd766_zero_cases_is_not_available_and_floor_is_zero() -> None:
    assert qd766_satisfaction(0, 0, 0) is None
    assert qd766_satisfaction(60, 100, 50) == Qd766(0.0, 0.0)


def yes_no(case_code: str, code: str, value: int) -> dict[str, Any]:
    topic = {"MONEY": "money_asked", "HARASS": "harassment", "OVERALL": "overall"}[code]
    return {
        "survey_id": int(re.sub(r"\D", "", case_code)),
        "case_code": case_code,
        "agency_code": "A",
        "procedure_code": "P1",
        "officer_name": "Lan",
        "question_code": code,
        "factor": None,
        "topic": topic,
        "value_int": value,
        "choices": None,
        "answered_at": T("2026-10-20 10:00"),
    }


def test_qd766_table_counts_a_case_with_complaint_and_dislike_once() -> None:
    answers = pd.DataFrame(
        [
            yes_no("H1", "MONEY", 1),  # complaint
            yes_no("H2", "MONEY", 0),
            yes_no("H2", "OVERALL", 3),  # neither
            yes_no("H3", "HARASS", 1),
            yes_no("H3", "OVERALL", 1),  # complaint and dislike: one case
            yes_no("H5", "MONEY", 1),  # ended before the period: not counted
        ]
    )
    got = qd766_table(cases_frame(cases_a()), answers, START, END).iloc[0]
    # ended 4, late 1 (H4), complaint or dislike 2 → 100 − (25 + 50) = 25 % → 27.78 points
    assert (got["ended"], got["late"], got["complaint_or_dislike"]) == (4, 1, 2)
    assert (got["satisfaction_pct"], got["score"]) == (25.0, 27.78)


def test_case_feedback_marks_dislike_only_without_a_complaint() -> None:
    answers = pd.DataFrame(
        [
            yes_no("H1", "HARASS", 1),
            yes_no("H1", "OVERALL", 1),
            yes_no("H2", "OVERALL", 2),
            yes_no("H3", "OVERALL", 3),
            yes_no("H3", "MONEY", 0),
        ]
    )
    got = case_feedback(answers).set_index("case_code")
    assert got.loc["H1"].tolist() == [True, False]
    assert got.loc["H2"].tolist() == [False, True]
    assert got.loc["H3"].tolist() == [False, False]
    assert case_feedback(answers, dislike_at_most=3).loc[2, "dislike"]


def test_qd766_dislike_is_overall_at_two_or_below() -> None:
    answers = pd.DataFrame([yes_no("K1", "OVERALL", 2), yes_no("K2", "OVERALL", 3)])
    got = qd766_table(cases_frame(cases_b()), answers, START, END).iloc[0]
    # ended 3: late 1 (K3) + dislike 1 (K1) → 100 − 66.667 = 33.33 % → 37.04 points
    assert (got["late"], got["complaint_or_dislike"]) == (1, 1)
    assert (got["satisfaction_pct"], got["score"]) == (33.33, 37.04)


# --- survey indicators -------------------------------------------------------------------------


def test_response_rate() -> None:
    assert response_rate(50, 40) == 80.0
    assert response_rate(3, 1) == pytest.approx(33.3333, abs=1e-4)
    assert response_rate(0, 0) is None


def expect(survey: int, choices: list[str] | None, agency: str = "A") -> dict[str, Any]:
    return {
        "survey_id": survey,
        "case_code": f"HS{survey}",
        "agency_code": agency,
        "topic": "expectations",
        "question_code": "EXPECT",
        "choices": choices,
    }


def test_expectation_ranking_descending_with_ties_by_code() -> None:
    answers = pd.DataFrame(
        [
            expect(1, ["E2", "E10"]),
            expect(2, ["E2", "E1"]),
            expect(3, ["E3", "E10"]),
            expect(4, ["E1", "E2"]),
            expect(5, ["E3", "E3"]),  # the same option twice counts once
            expect(6, None),  # skipped: not in the denominator
        ]
    )
    got = expectation_ranking(answers)
    # E2 3; E1, E3, E10 2 each → ties in code order E1, E3, E10 (E10 after E3)
    assert got["option"].tolist() == ["E2", "E1", "E3", "E10"]
    assert got["count"].tolist() == [3, 2, 2, 2]
    assert got["rank"].tolist() == [1, 2, 3, 4]
    # share of the 5 surveys that picked something: 3/5 = 60 %, 2/5 = 40 %
    assert got["share"].tolist() == [60.0, 40.0, 40.0, 40.0]


def test_expectation_ranking_per_agency() -> None:
    answers = pd.DataFrame([expect(1, ["E4"]), expect(2, ["E5"], "B"), expect(3, ["E5"], "B")])
    got = expectation_ranking(answers, by="agency_code")
    assert got[["agency_code", "option", "count", "rank"]].values.tolist() == [
        ["A", "E4", 1, 1],
        ["B", "E5", 2, 1],
    ]


def test_complaint_counts() -> None:
    rows = [
        yes_no("S1", "MONEY", 1),
        yes_no("S1", "HARASS", 0),
        yes_no("S2", "MONEY", 1),
        yes_no("S2", "HARASS", 1),
        {**yes_no("S3", "MONEY", 0), "agency_code": "B"},
        {**yes_no("S3", "HARASS", 1), "agency_code": "B"},
        yes_no("S4", "OVERALL", 1),  # a low score is not a complaint
    ]
    got = complaints(pd.DataFrame(rows)).set_index("agency_code")
    # A: money asked S1, S2 = 2; harassment S2 = 1; cases S1, S2 = 2. B: 0, 1, 1
    assert got.loc["A"].tolist() == [2, 1, 2]
    assert got.loc["B"].tolist() == [0, 1, 1]


# --- the report --------------------------------------------------------------------------------


def likert(survey: int, code: str, value: int, agency: str, at: str) -> dict[str, Any]:
    m = re.fullmatch(r"F(\d)|(\d)\.\d", code)
    assert m
    return {
        "survey_id": survey,
        "case_code": f"S{survey}",
        "agency_code": agency,
        "procedure_code": "P1",
        "officer_name": None,
        "question_code": code,
        "factor": int(m.group(1) or m.group(2)),
        "topic": "criterion",
        "value_int": value,
        "choices": None,
        "answered_at": T(at),
    }


def report_answers() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    at = "2026-10-15 10:00"
    # A, factor 1: 1.1 = 5,4 → 100 %; 1.2 = one 5 and seven 1s → 12.5 % → factor 1 = 56.25
    rows += [likert(1, "1.1", 5, "A", at), likert(2, "1.1", 4, "A", at)]
    rows += [likert(s, "1.2", 5 if s == 1 else 1, "A", at) for s in range(1, 9)]
    # A, factors 2–5: one 5 each from survey 1 → 100 %
    rows += [likert(1, f"F{f}", 5, "A", at) for f in range(2, 6)]
    # B: only F1 = 1 → factor 1 = 0, no other factor → SIPAS empty
    rows += [likert(20, "F1", 1, "B", at)]
    # outside the period: must not count
    rows += [likert(30, "F2", 1, "A", "2026-11-01 00:00")]
    out = pd.DataFrame(rows)
    out["factor"] = out["factor"].astype("Int64")
    out["value_int"] = out["value_int"].astype("Int64")
    return out


AGENCIES = pd.DataFrame(
    {
        "code": ["PROV", "A", "B", "EMPTY"],
        "parent_code": [None, "PROV", "PROV", "PROV"],
        "name": ["Tỉnh", "Sở A", "Xã B", "Xã trống"],
    }
)


def build_report(**kw: Any) -> pd.DataFrame:
    answers = report_answers()
    counts = select_days(daily_counts(answers), START, END)
    responses = responses_in_period(answers, START, END)
    cases = cases_frame(cases_a() + cases_b())
    return agency_report(counts, cases, START, END, AGENCIES, responses=responses, **kw)


def test_agency_report_columns_values_and_rounding() -> None:
    report = build_report()
    assert tuple(report.columns) == REPORT_COLUMNS
    assert report["MaCoQuan"].tolist() == ["A", "B", "EMPTY", "PROV"]
    a = report.set_index("MaCoQuan").loc["A"]
    # SIPAS = (56.25 + 100·4) / 5 = 91.25 → 91.3 (half up; half-to-even would give 91.2)
    assert a["sipas"] == 91.3
    assert a["factor_1"] == 56.3
    assert [a[f"factor_{f}"] for f in range(2, 6)] == [100.0] * 4
    # surveys 1..8 answered in October (survey 30 answered in November)
    assert a["responses"] == 8
    assert (a["cases"], a["on_time_rate"], a["late"], a["overdue_open"]) == (6, 75.0, 1, 3)
    b = report.set_index("MaCoQuan").loc["B"]
    assert math.isnan(b["sipas"]) and b["factor_1"] == 0.0 and math.isnan(b["factor_2"])
    # B: 2 of 3 ended on time or early → 66.666… → 66.7
    assert (b["responses"], b["cases"], b["on_time_rate"], b["late"]) == (1, 3, 66.7, 1)


def test_agency_report_empty_where_no_data() -> None:
    row = build_report().set_index("MaCoQuan").loc["EMPTY"]
    assert math.isnan(row["sipas"]) and math.isnan(row["on_time_rate"])
    assert (row["responses"], row["cases"], row["late"], row["overdue_open"]) == (0, 0, 0, 0)


def test_agency_report_rolled_up_to_the_province() -> None:
    prov = build_report(rolled_up=True).set_index("MaCoQuan").loc["PROV"]
    # factor 1 = mean(1.1 100, 1.2 12.5, F1 0) = 37.5 → SIPAS (37.5 + 400)/5 = 87.5
    assert prov["factor_1"] == 37.5 and prov["sipas"] == 87.5
    # responses 8 + 1; cases 6 + 3; late 1 + 1; on time (3 + 2) of (4 + 3) = 71.43 → 71.4
    assert (prov["responses"], prov["cases"], prov["late"], prov["overdue_open"]) == (9, 9, 2, 3)
    assert prov["on_time_rate"] == 71.4
    own = build_report().set_index("MaCoQuan").loc["PROV"]
    assert math.isnan(own["sipas"]) and own["cases"] == 0


def test_agency_report_of_an_empty_database_is_empty_not_an_error() -> None:
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in ("code", "parent_code", "name")})
    cases = pd.DataFrame(
        {
            c: pd.Series(dtype="object")
            for c in ("case_code", "agency_code", "procedure_code", "status", "timeliness")
        }
        | {c: pd.Series(dtype="datetime64[ns]") for c in ("received_at", "due_at", "ended_at")}
    )
    counts = counts_from_levels(pd.DataFrame(columns=[*COUNT_KEYS, "value_int", "answers"]))
    responses = pd.DataFrame(
        {"agency_code": pd.Series(dtype="object"), "responses": pd.Series(dtype="int64")}
    )
    report = agency_report(counts, cases, "2026-10-01", "2026-10-31", empty, responses=responses)
    assert report.empty
    assert list(report.columns)[:3] == ["MaCoQuan", "responses", "sipas"]
