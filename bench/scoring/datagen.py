"""Synthetic year of a large province: the shape of the data and its generators.

One survey per case, ten answers per survey (the short form: F1..F5 and OVERALL on the five-level
scale, MONEY / HARASS / ONTIME yes-no, EXPECT a choice), answers spread evenly over the calendar
year 2026. 200 agencies (1 province, 30 departments, 169 communes, all children of the province),
1,500 procedures (40 per department, 300 shared by the communes), a few officers per agency.
Five-level answers lean to 4–5 (about 80 %), shifted a little per agency.

PostgreSQL is filled by `POSTGRES_SETUP` (INSERT … SELECT generate_series: no row passes through
Python). `numpy_plan` / `numpy_values` draw the same distributions in numpy; the baseline uses
them for its in-memory frame and the SQLite setup inserts them with executemany. Survey ids are
in answer-time order, as production inserts them, so `answered_at` correlates with the heap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

YEAR_START = date(2026, 1, 1)
DAYS = 365
YESTERDAY = YEAR_START + timedelta(days=DAYS - 1)  # 2026-12-31: MTD = December, YTD = the year

N_DEPARTMENTS = 30
N_COMMUNES = 169
N_AGENCIES = 1 + N_DEPARTMENTS + N_COMMUNES
DEPT_PROCEDURES = 40  # procedures 1..1200, 40 per department
COMMUNE_PROCEDURES = 300  # procedures 1201..1500, shared by every commune
N_PROCEDURES = N_DEPARTMENTS * DEPT_PROCEDURES + COMMUNE_PROCEDURES
P_PROVINCE = 0.03
P_DEPARTMENT_CUT = 0.45  # u < 0.03 province, < 0.45 department, else commune
OFFICERS = (5, 12, 6)  # per province / department / commune
P_NO_OFFICER = 0.03

# (code, kind, share of "yes" for yes-no questions)
QUESTIONS: tuple[tuple[str, str, float], ...] = (
    ("F1", "likert", 0.0),
    ("F2", "likert", 0.0),
    ("F3", "likert", 0.0),
    ("F4", "likert", 0.0),
    ("F5", "likert", 0.0),
    ("OVERALL", "likert", 0.0),
    ("MONEY", "yes_no", 0.02),
    ("HARASS", "yes_no", 0.01),
    ("ONTIME", "yes_no", 0.85),
    ("EXPECT", "choice", 0.0),
)
ANSWERS_PER_SURVEY = len(QUESTIONS)
LIKERT_PER_SURVEY = sum(1 for _c, kind, _p in QUESTIONS if kind == "likert")
LIKERT_CUTS = (0.03, 0.08, 0.20, 0.58)  # r below a cut → level 1, 2, 3, 4; else 5
QUALITY_SPREAD = 0.16  # per-agency shift of r in [-0.08, +0.08]


def agency_codes() -> list[str]:
    """Agency codes by index: 0 = PROV, 1..30 = DEP01..DEP30, 31..199 = COM001..COM169."""
    return (
        ["PROV"]
        + [f"DEP{k:02d}" for k in range(1, N_DEPARTMENTS + 1)]
        + [f"COM{k:03d}" for k in range(1, N_COMMUNES + 1)]
    )


def quality(index: int | np.ndarray) -> float | np.ndarray:
    """The per-agency shift of the satisfaction draw (same formula in SQL)."""
    return (((index * 37) % 17) / 16.0 - 0.5) * QUALITY_SPREAD


def surveys_for(answers: int) -> int:
    return max(1, math.ceil(answers / ANSWERS_PER_SURVEY))


@dataclass(frozen=True)
class Counts:
    agencies: int
    procedures: int
    cases: int
    surveys: int
    answers: int
    likert_answers: int


# --- PostgreSQL ------------------------------------------------------------------------------

_AGENCY_ROWS = f"""
INSERT INTO agencies (code, name, parent_code, created_at)
VALUES ('PROV', 'Ủy ban nhân dân tỉnh', NULL, localtimestamp);
INSERT INTO agencies (code, name, parent_code, created_at)
SELECT 'DEP' || lpad(k::text, 2, '0'), 'Sở ' || k, 'PROV', localtimestamp
FROM generate_series(1, {N_DEPARTMENTS}) AS k;
INSERT INTO agencies (code, name, parent_code, created_at)
SELECT 'COM' || lpad(k::text, 3, '0'), 'Xã ' || k, 'PROV', localtimestamp
FROM generate_series(1, {N_COMMUNES}) AS k;
INSERT INTO procedures (code, name, field_code, field_name, created_at)
SELECT 'TTHC' || lpad(k::text, 4, '0'), 'Thủ tục ' || k,
       'LV' || lpad((1 + (k - 1) / {DEPT_PROCEDURES})::text, 2, '0'), 'Lĩnh vực', localtimestamp
FROM generate_series(1, {N_PROCEDURES}) AS k;
"""


def _plan_sql(surveys: int) -> str:
    """A temp table `plan`: one row per case/survey, in answer-time order."""
    start = YEAR_START.isoformat()
    return f"""
CREATE TEMP TABLE plan AS
WITH u AS (
    SELECT i, random() AS ua, random() AS ub, random() AS up, random() AS uo,
           random() AS un, random() AS ut, random() AS ul
    FROM generate_series(1, {surveys}) AS i
), k AS (
    SELECT *, CASE WHEN ua < {P_PROVINCE} THEN 0 WHEN ua < {P_DEPARTMENT_CUT} THEN 1 ELSE 2 END
              AS kind
    FROM u
), s AS (
    SELECT *, CASE kind WHEN 0 THEN 0
                        WHEN 1 THEN 1 + floor({N_DEPARTMENTS} * ub ^ 1.3)::int
                        ELSE 1 + floor({N_COMMUNES} * ub ^ 1.2)::int END AS sub
    FROM k
), a AS (
    SELECT *,
        CASE kind WHEN 0 THEN 0 WHEN 1 THEN sub ELSE {N_DEPARTMENTS} + sub END AS aidx,
        CASE kind WHEN 0 THEN 'PROV' WHEN 1 THEN 'DEP' || lpad(sub::text, 2, '0')
                  ELSE 'COM' || lpad(sub::text, 3, '0') END AS agency
    FROM s
)
SELECT i, agency,
    'TTHC' || lpad((CASE kind
        WHEN 0 THEN 1 + floor({N_DEPARTMENTS * DEPT_PROCEDURES} * up ^ 2)::int
        WHEN 1 THEN (sub - 1) * {DEPT_PROCEDURES} + 1 + floor({DEPT_PROCEDURES} * up ^ 2)::int
        ELSE {N_DEPARTMENTS * DEPT_PROCEDURES} + 1 + floor({COMMUNE_PROCEDURES} * up ^ 2)::int
    END)::text, 4, '0') AS proc,
    CASE WHEN un < {P_NO_OFFICER} THEN NULL
         ELSE agency || '-CB' || lpad((1 + floor((CASE kind WHEN 0 THEN {OFFICERS[0]}
              WHEN 1 THEN {OFFICERS[1]} ELSE {OFFICERS[2]} END) * uo ^ 1.5)::int)::text, 2, '0')
    END AS officer,
    timestamp '{start}' + floor((i - 1) * {DAYS}.0 / {surveys}) * interval '1 day'
        + (25200 + ut * 50400) * interval '1 second' AS answered,
    ul,
    ((((aidx * 37) % 17) / 16.0 - 0.5) * {QUALITY_SPREAD})::float8 AS quality
FROM a
ORDER BY i;
"""


def _cases_sql() -> str:
    return """
INSERT INTO cases (id, code, agency_code, procedure_code, officer_name, channel, applicant_type,
                   status, received_at, promised_at, due_at, finished_at, end_event_at, ended_at,
                   timeliness, state_at, events_count, created_at, updated_at)
SELECT i, 'HS' || lpad(i::text, 10, '0'), agency, proc, officer, 1, 1, 10,
       received, received + interval '15 days', received + interval '15 days',
       answered - interval '3 hours', answered - interval '3 hours',
       answered - interval '3 hours',
       CASE WHEN (answered - interval '3 hours')::date <= (received + interval '15 days')::date
            THEN 'on_time' ELSE 'late' END,
       answered - interval '3 hours', 3, localtimestamp, localtimestamp
FROM (SELECT *, answered - (1 + 20 * ul * ul) * interval '1 day' AS received FROM plan) AS p
ORDER BY i;
SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases));
"""


def _surveys_sql() -> str:
    return """
INSERT INTO surveys (id, case_code, chat_id, source, questionnaire_version, status, invited_at,
                     started_at, completed_at, expires_at, updated_at)
SELECT i, 'HS' || lpad(i::text, 10, '0'), NULL, 'import', 1, 'completed',
       answered - interval '8 hours', answered - interval '7 hours',
       answered - interval '7 hours' + interval '3 minutes',
       answered - interval '7 hours' + interval '7 days',
       answered - interval '7 hours' + interval '3 minutes'
FROM plan
ORDER BY i;
SELECT setval(pg_get_serial_sequence('surveys', 'id'), (SELECT max(id) FROM surveys));
"""


def _answers_sql(expect_choice: str) -> str:
    questions = ", ".join(
        f"('{code}', {order}, '{kind}', {p_yes})"
        for order, (code, kind, p_yes) in enumerate(QUESTIONS, start=1)
    )
    c1, c2, c3, c4 = LIKERT_CUTS
    # LATERAL keeps `plan` the outer side, so rows go in survey (= time) order.
    return f"""
INSERT INTO answers (survey_id, question_code, value_int, value_text, choices, skipped,
                     answered_at)
SELECT p.i, q.code,
       CASE q.kind
           WHEN 'likert' THEN CASE WHEN q.r + p.quality < {c1} THEN 1
                                   WHEN q.r + p.quality < {c2} THEN 2
                                   WHEN q.r + p.quality < {c3} THEN 3
                                   WHEN q.r + p.quality < {c4} THEN 4 ELSE 5 END
           WHEN 'yes_no' THEN CASE WHEN q.r < q.p_yes THEN 1 ELSE 0 END
       END,
       NULL,
       CASE WHEN q.kind = 'choice' THEN '["{expect_choice}"]'::json END,
       false,
       p.answered + q.ord * interval '15 seconds'
FROM plan AS p
CROSS JOIN LATERAL (
    SELECT v.*, random() + 0 * p.quality AS r
    FROM (VALUES {questions}) AS v(code, ord, kind, p_yes)
) AS q;
"""


def postgres_steps(surveys: int, expect_choice: str) -> list[tuple[str, str]]:
    """(step name, SQL) in order; each SQL may hold several statements."""
    return [
        ("agencies_procedures", _AGENCY_ROWS),
        ("plan", _plan_sql(surveys)),
        ("cases", _cases_sql()),
        ("surveys", _surveys_sql()),
        ("answers", _answers_sql(expect_choice)),
    ]


# --- numpy (baseline and SQLite) ---------------------------------------------------------------


def numpy_agencies(rng: np.random.Generator, n: int) -> np.ndarray:
    """Agency index (0..199) of `n` surveys, with the SQL's mix and skew."""
    ua = rng.random(n)
    ub = rng.random(n)
    dept = 1 + np.floor(N_DEPARTMENTS * ub**1.3).astype(np.int16)
    commune = N_DEPARTMENTS + 1 + np.floor(N_COMMUNES * ub**1.2).astype(np.int16)
    out = np.where(ua < P_PROVINCE, 0, np.where(ua < P_DEPARTMENT_CUT, dept, commune))
    return out.astype(np.int16)


def numpy_values(rng: np.random.Generator, agencies: np.ndarray) -> np.ndarray:
    """Answer values, shape (surveys, 10), int8; EXPECT (a choice) is 0."""
    n = len(agencies)
    shift = np.asarray(quality(agencies.astype(np.int64)), dtype=np.float64)
    r = rng.random((n, ANSWERS_PER_SURVEY))
    out = np.zeros((n, ANSWERS_PER_SURVEY), dtype=np.int8)
    for column, (_code, kind, p_yes) in enumerate(QUESTIONS):
        if kind == "likert":
            out[:, column] = 1 + np.searchsorted(
                np.asarray(LIKERT_CUTS), r[:, column] + shift, side="right"
            )
        elif kind == "yes_no":
            out[:, column] = r[:, column] < p_yes
    return out


@dataclass(frozen=True)
class Plan:
    """Per survey (in time order): agency index, procedure number, officer number (0 = none),
    day offset and seconds after midnight, plus the (surveys, 10) answer values."""

    agency: np.ndarray
    procedure: np.ndarray
    officer: np.ndarray
    day: np.ndarray
    seconds: np.ndarray
    lead_days: np.ndarray
    values: np.ndarray


def numpy_plan(surveys: int, seed: int = 2026) -> Plan:
    rng = np.random.default_rng(seed)
    agency = numpy_agencies(rng, surveys)
    up = rng.random(surveys)
    dept = np.clip(agency, 1, N_DEPARTMENTS).astype(np.int64)
    procedure = np.where(
        agency == 0,
        1 + np.floor(N_DEPARTMENTS * DEPT_PROCEDURES * up**2),
        np.where(
            agency <= N_DEPARTMENTS,
            (dept - 1) * DEPT_PROCEDURES + 1 + np.floor(DEPT_PROCEDURES * up**2),
            N_DEPARTMENTS * DEPT_PROCEDURES + 1 + np.floor(COMMUNE_PROCEDURES * up**2),
        ),
    ).astype(np.int32)
    per_agency = np.where(
        agency == 0, OFFICERS[0], np.where(agency <= N_DEPARTMENTS, OFFICERS[1], OFFICERS[2])
    )
    officer = (1 + np.floor(per_agency * rng.random(surveys) ** 1.5)).astype(np.int16)
    officer[rng.random(surveys) < P_NO_OFFICER] = 0
    day = np.floor(np.arange(surveys) * DAYS / surveys).astype(np.int32)
    seconds = (25200 + rng.random(surveys) * 50400).astype(np.int32)
    lead = 1 + 20 * rng.random(surveys) ** 2
    return Plan(agency, procedure, officer, day, seconds, lead, numpy_values(rng, agency))


__all__ = [
    "ANSWERS_PER_SURVEY",
    "DAYS",
    "LIKERT_PER_SURVEY",
    "QUESTIONS",
    "YEAR_START",
    "YESTERDAY",
    "Counts",
    "Plan",
    "agency_codes",
    "numpy_agencies",
    "numpy_plan",
    "numpy_values",
    "postgres_steps",
    "surveys_for",
]
