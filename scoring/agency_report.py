"""The agency report of interfaces.md ("Report"): one row per agency, exactly its columns.

It joins, per agency (or per subtree when rolled up), the responses, the SIPAS and factor
indices (`scoring.sipas`), and the case figures of `scoring.indicators.timeliness_summary`;
sipas, factors and on-time rate are rounded to one decimal, half up.
"""

from __future__ import annotations

import pandas as pd

from scoring.agency_tree import rollup
from scoring.frames import (
    AGENCY_CODE,
    CODE,
    FACTOR_COLUMNS,
    REPORT_COLUMNS,
    RESPONSES,
    DateLike,
    require,
    round_series,
)
from scoring.indicators import (
    ON_TIME_RATE,
    OVERDUE_OPEN,
    RECEIVED,
    TIMELINESS_COUNTS,
    timeliness_rates,
    timeliness_summary,
)
from scoring.sipas import DEFAULT_RULE, SIPAS, IndexRule, sipas_index
from scoring.timeliness import LATE


def agency_report(
    counts_in_period: pd.DataFrame,
    cases: pd.DataFrame,
    start: DateLike,
    end: DateLike,
    agencies: pd.DataFrame,
    *,
    responses: pd.DataFrame,
    rule: IndexRule = DEFAULT_RULE,
    require_all_factors: bool = True,
    rolled_up: bool = False,
) -> pd.DataFrame:
    """The report of interfaces.md: exactly ``REPORT_COLUMNS``, one row per agency.

    `counts_in_period`: COUNTS of the days in [start, end] (`scoring.counts.select_days`);
    `cases`: CASES (all of them, or at least those received, ended or open in the period);
    `responses`: ``agency_code, responses`` from `scoring.counts.responses_in_period`.
    Rows: every agency of `agencies` and any other code met in the data, ordered by code.
    ``rolled_up=True`` gives each agency the figures of its whole subtree (default: its own).
    sipas, factor_1..5 and on_time_rate have one decimal (half up) and NaN where there is no
    data; responses, cases, late and overdue_open are integers (0 when none).
    """
    require(agencies, [CODE], "agencies")
    require(responses, [AGENCY_CODE, RESPONSES], "responses")
    summary = timeliness_summary(cases, start, end, AGENCY_CODE)
    summary = summary[[AGENCY_CODE, *TIMELINESS_COUNTS]]
    counts = counts_in_period
    if rolled_up:
        counts = rollup(counts, agencies)
        responses = rollup(responses[[AGENCY_CODE, RESPONSES]], agencies, values=[RESPONSES])
        summary = rollup(summary, agencies, values=list(TIMELINESS_COUNTS))
    summary = timeliness_rates(summary.copy())
    indices = sipas_index(counts, AGENCY_CODE, rule, require_all_factors=require_all_factors)

    codes = [
        *agencies[CODE].dropna().astype(str),
        *counts[AGENCY_CODE].dropna().astype(str),
        *cases[AGENCY_CODE].dropna().astype(str),
        *responses[AGENCY_CODE].dropna().astype(str),
    ]
    report = pd.DataFrame({AGENCY_CODE: pd.Series(sorted(set(codes)), dtype="object")})
    report = report.merge(
        responses[[AGENCY_CODE, RESPONSES]].astype({AGENCY_CODE: "object"}),
        on=AGENCY_CODE,
        how="left",
    )
    report = report.merge(
        indices[[AGENCY_CODE, SIPAS, *FACTOR_COLUMNS]].astype({AGENCY_CODE: "object"}),
        on=AGENCY_CODE,
        how="left",
    )
    report = report.merge(
        summary[[AGENCY_CODE, RECEIVED, ON_TIME_RATE, LATE, OVERDUE_OPEN]].astype(
            {AGENCY_CODE: "object"}
        ),
        on=AGENCY_CODE,
        how="left",
    )
    out = pd.DataFrame({"MaCoQuan": report[AGENCY_CODE].astype("object")})
    out["responses"] = report[RESPONSES].fillna(0).astype("int64")
    for column in (SIPAS, *FACTOR_COLUMNS):
        out[column] = round_series(report[column], 1)
    out["cases"] = report[RECEIVED].fillna(0).astype("int64")
    out["on_time_rate"] = round_series(report[ON_TIME_RATE], 1)
    out["late"] = report[LATE].fillna(0).astype("int64")
    out["overdue_open"] = report[OVERDUE_OPEN].fillna(0).astype("int64")
    return out[list(REPORT_COLUMNS)]


__all__ = ["agency_report"]
