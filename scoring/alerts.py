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


def _number(value: Any) -> float | None:
    """A stored answer's value as a number (None when missing or not a number)."""
    value = _clean(value)
    if value is None or isinstance(value, list | tuple):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def low_score_response(
    answers: Iterable[Mapping[str, Any]], threshold: int = 2
) -> dict[str, Any] | None:
    """One survey's row of `low_score_responses` (a dict with ``LOW_SCORE_COLUMNS``), or None
    when it is not a low-score response; `answers` are that survey's answers as mappings with
    the ``ANSWERS`` columns. Plain Python: a single completed survey is checked without a
    frame, and the frame version applies this same rule to each flagged survey."""

    def when(answer: Mapping[str, Any]) -> tuple[bool, Any]:
        at = _clean(answer.get(ANSWERED_AT))
        return (at is None, 0 if at is None else at)

    rows = sorted(answers, key=when)  # answer time order (stable), missing times last
    low_items: list[tuple[str, int]] = []
    reasons: list[tuple[str, str]] = []
    texts: list[str] = []
    money = harass = False
    for answer in rows:
        topic, code = answer.get(TOPIC), str(answer.get(QUESTION_CODE))
        value = _number(answer.get(VALUE_INT))
        if topic in LIKERT_TOPICS and value is not None and 1 <= value <= threshold:
            low_items.append((code, int(value)))
        elif topic == MONEY_ASKED and value == YES:
            money = True
        elif topic == HARASSMENT and value == YES:
            harass = True
        elif topic == REASON:
            picks = answer.get(CHOICES)
            if isinstance(picks, list | tuple):
                reasons.extend((code, str(p)) for p in picks)
        elif topic == SUGGESTION:
            text = _clean(answer.get(VALUE_TEXT))
            if text is not None and str(text).strip():
                texts.append(str(text).strip())
    if not (low_items or money or harass):
        return None
    first = rows[0]
    times = [at for a in rows if (at := _clean(a.get(ANSWERED_AT))) is not None]
    return {
        SURVEY_ID: first.get(SURVEY_ID),
        CASE_CODE: _clean(first.get(CASE_CODE)),
        AGENCY_CODE: _clean(first.get(AGENCY_CODE)),
        PROCEDURE_CODE: _clean(first.get(PROCEDURE_CODE)),
        OFFICER_NAME: _clean(first.get(OFFICER_NAME)),
        ANSWERED_AT: max(times) if times else None,
        LOW_ITEMS: low_items,
        REASONS: reasons,
        MONEY_ASKED: money,
        HARASSMENT: harass,
        COMMENT: "\n".join(texts) or None,
    }


def low_score_responses(answers: pd.DataFrame, threshold: int = 2) -> pd.DataFrame:
    """One row per survey with a five-level answer ≤ `threshold` or a complaint (see module)."""
    require(answers, [c for c in ANSWERS if c != FACTOR], "answers")
    value = pd.to_numeric(answers[VALUE_INT], errors="coerce")
    low = (answers[TOPIC].isin(LIKERT_TOPICS) & value.between(1, threshold)).fillna(False)
    money = ((answers[TOPIC] == MONEY_ASKED) & (value == YES)).fillna(False)
    harass = ((answers[TOPIC] == HARASSMENT) & (value == YES)).fillna(False)
    flagged = set(answers.loc[low | money | harass, SURVEY_ID])
    rows: list[dict[str, Any]] = []
    if flagged:
        mine = answers[answers[SURVEY_ID].isin(flagged)]
        for _, group in mine.groupby(SURVEY_ID, sort=True):
            row = low_score_response(group.to_dict("records"), threshold)
            if row is not None:
                rows.append(row)
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
