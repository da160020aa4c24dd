"""What deserves an agency head's attention: low-score responses and agencies below target.

- ``low_score_responses(answers, threshold=2)``: one row per survey with any five-level answer
  (criterion or overall) at or below `threshold`, or a "yes" to money asked or harassment.
  The row carries where it happened (case, agency, procedure, officer), what was low
  (``low_items``: (question_code, value) in asking order), the reasons picked in the branch
  questions (``reasons``: (question_code, option)), the complaint flags and the free-text
  comment (None when there is none; text columns are object dtype, so missing is None), and
  ``answered_at`` (the survey's last answer). "In asking order" is answer time order. It never
  carries anything that identifies the citizen: the output columns are exactly
  ``LOW_SCORE_COLUMNS``, whatever extra columns the input has.
- ``agencies_below_threshold(indices, thresholds, default=90.0, min_sample=30)``: the rows of a
  `scoring.sipas.sipas_index` frame whose sipas is below the agency's threshold (its own from
  `thresholds`, else `default`) and whose sample reaches the minimum. The sample is ``n_min``
  (the fewest answers behind one criterion, ≈ respondents) when the frame has it, else ``n``;
  a figure below the minimum sample is never alerted on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from scoring.frames import (
    AGENCY_CODE,
    ANSWERED_AT,
    ANSWERS,
    CASE_CODE,
    CHOICES,
    FACTOR,
    HARASSMENT,
    LIKERT_TOPICS,
    MONEY_ASKED,
    OFFICER_NAME,
    PROCEDURE_CODE,
    QUESTION_CODE,
    REASON,
    SUGGESTION,
    SURVEY_ID,
    TOPIC,
    VALUE_INT,
    VALUE_TEXT,
    YES,
    require,
)
from scoring.sipas import DEFAULT_MIN_SAMPLE, N_MIN, SIPAS, N

LOW_ITEMS = "low_items"
REASONS = "reasons"
COMMENT = "comment"
THRESHOLD = "threshold"
LOW_SCORE_COLUMNS = (
    SURVEY_ID,
    CASE_CODE,
    AGENCY_CODE,
    PROCEDURE_CODE,
    OFFICER_NAME,
    ANSWERED_AT,
    LOW_ITEMS,
    REASONS,
    MONEY_ASKED,
    HARASSMENT,
    COMMENT,
)
DEFAULT_THRESHOLD = 90.0


def _clean(value: Any) -> Any:
    """None for a missing scalar (NaN, NA, NaT), the value otherwise."""
    if isinstance(value, list | tuple):
        return value
    return None if value is None or pd.isna(value) else value


def flags_alert(answers: Iterable[tuple[str, int | None]], threshold: int = 2) -> bool:
    """Whether one survey's (topic, value) answers make it a low-score response: the rule of
    `low_score_responses`, without a frame (a single completed survey, checked at once)."""
    for topic, value in answers:
        if value is None:
            continue
        if topic in LIKERT_TOPICS and 1 <= value <= threshold:
            return True
        if topic in (MONEY_ASKED, HARASSMENT) and value == YES:
            return True
    return False


def low_score_responses(answers: pd.DataFrame, threshold: int = 2) -> pd.DataFrame:
    """One row per survey with a five-level answer ≤ `threshold` or a complaint (see module)."""
    require(answers, [c for c in ANSWERS if c != FACTOR], "answers")
    value = pd.to_numeric(answers[VALUE_INT], errors="coerce")
    low = (answers[TOPIC].isin(LIKERT_TOPICS) & value.between(1, threshold)).fillna(False)
    money = ((answers[TOPIC] == MONEY_ASKED) & (value == YES)).fillna(False)
    harass = ((answers[TOPIC] == HARASSMENT) & (value == YES)).fillna(False)
    flagged = set(answers.loc[low | money | harass, SURVEY_ID])
    if not flagged:
        return pd.DataFrame(columns=list(LOW_SCORE_COLUMNS))
    mine = answers[answers[SURVEY_ID].isin(flagged)].assign(_low=low, _money=money, _harass=harass)
    mine = mine.sort_values([SURVEY_ID, ANSWERED_AT], kind="stable")
    rows: list[dict[str, Any]] = []
    for survey_id, group in mine.groupby(SURVEY_ID, sort=True):
        first = group.iloc[0]
        low_rows = group[group["_low"]]
        reason_rows = group[group[TOPIC] == REASON]
        reasons: list[tuple[str, str]] = []
        for code, picks in zip(reason_rows[QUESTION_CODE], reason_rows[CHOICES], strict=True):
            if isinstance(picks, list | tuple):
                reasons.extend((str(code), str(p)) for p in picks)
        comment = None
        if VALUE_TEXT in group.columns:
            texts = [
                str(t).strip()
                for t in group.loc[group[TOPIC] == SUGGESTION, VALUE_TEXT]
                if _clean(t) is not None and str(t).strip()
            ]
            comment = "\n".join(texts) or None
        rows.append(
            {
                SURVEY_ID: survey_id,
                CASE_CODE: _clean(first[CASE_CODE]),
                AGENCY_CODE: _clean(first[AGENCY_CODE]),
                PROCEDURE_CODE: _clean(first[PROCEDURE_CODE]),
                OFFICER_NAME: _clean(first[OFFICER_NAME]),
                ANSWERED_AT: group[ANSWERED_AT].max(),
                LOW_ITEMS: [
                    (str(c), int(v))
                    for c, v in zip(low_rows[QUESTION_CODE], low_rows[VALUE_INT], strict=True)
                ],
                REASONS: reasons,
                MONEY_ASKED: bool(group["_money"].any()),
                HARASSMENT: bool(group["_harass"].any()),
                COMMENT: comment,
            }
        )
    typed = {SURVEY_ID: None, ANSWERED_AT: "datetime64[ns]", MONEY_ASKED: bool, HARASSMENT: bool}
    return pd.DataFrame(
        {
            column: pd.Series([row[column] for row in rows], dtype=typed.get(column, object))
            for column in LOW_SCORE_COLUMNS
        }
    )


def agencies_below_threshold(
    indices: pd.DataFrame,
    thresholds: Mapping[str, float],
    default: float = DEFAULT_THRESHOLD,
    min_sample: int = DEFAULT_MIN_SAMPLE,
    *,
    min_samples: Mapping[str, int] | None = None,
    column: str = SIPAS,
) -> pd.DataFrame:
    """Rows of `indices` below their agency's threshold with enough answers, worst first.

    `thresholds` and `min_samples` override `default` and `min_sample` per agency code (a
    missing or None entry falls back). Adds a ``threshold`` column.
    """
    sample = N_MIN if N_MIN in indices.columns else N
    require(indices, [AGENCY_CODE, column, sample], "indices")
    codes = indices[AGENCY_CODE].astype("object")

    def _limit(code: Any, table: Mapping[str, Any] | None, fallback: float) -> float:
        if table is None:
            return fallback
        found = table.get(code)
        return fallback if found is None else float(found)

    limits = codes.map(lambda c: _limit(c, thresholds, default)).astype("float64")
    minimums = codes.map(lambda c: _limit(c, min_samples, min_sample)).astype("float64")
    score = pd.to_numeric(indices[column], errors="coerce")
    mask = score.notna() & (score < limits) & (indices[sample] >= minimums)
    out = indices[mask].assign(**{THRESHOLD: limits[mask]})
    return out.sort_values(column, kind="stable").reset_index(drop=True)


__all__ = [
    "LOW_SCORE_COLUMNS",
    "agencies_below_threshold",
    "low_score_responses",
]
