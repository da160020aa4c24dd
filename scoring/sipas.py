"""SIPAS indices (domain.md §5) from stored daily counts: criterion, factor, overall.

The counts come from `scoring.counts` (daily COUNTS, summed over any period) and, for a
parent agency, `scoring.agency_tree.rollup` (summed over its subtree). ``criterion_indices``,
``factor_indices`` and ``sipas_index`` compute the figures for any grouping ``by`` (agency,
procedure, officer, several, or none for a grand total); ``rank`` orders them.

Arithmetic (domain.md §5; the rule is a setting, `IndexRule`)
------------------------------------------------------------
- criterion index: ``share_at_least`` (default, threshold 4) = 100 × answers at level ≥ 4 /
  valid answers; ``mean_score`` = (mean level − 1) / 4 × 100.
- factor index = unweighted mean of the indices of the criteria (question codes) of that factor
  that have answers. A short-form question (F1–F5) is one criterion of its factor; if a group
  mixes short and full forms, F1 and 1.1–1.4 are averaged as five criteria.
- SIPAS = mean of the five factor indices. Rule chosen where the docs are silent: if any factor
  has no answers the SIPAS is NaN (``require_all_factors=True``, the default, so a figure is
  never silently made of fewer factors); ``require_all_factors=False`` averages the factors
  present (``factors`` tells how many).

Sample and intervals
--------------------
Every figure carries ``n`` = the valid answers behind it. For a factor and for SIPAS ``n``
pools all its criteria, so one respondent of the full form adds four or five answers to a
factor; ``n_min`` (the fewest answers behind any one of its criteria, ≈ respondents) is what
``rankable`` compares with ``min_sample`` (default 30). A figure below the minimum is still
returned, with ``rankable`` False: ``rank`` leaves it out and alerts skip it.

``wilson_low`` / ``wilson_high`` are a 95 % interval in per cent:
- share rule: the Wilson score interval on k satisfied out of n;
- factor and SIPAS: the Wilson interval on the pooled counts of their criteria (k and n summed
  over criteria). It is centred on the pooled share, which equals the index when the criteria
  have equal n (the usual case: every respondent answers every criterion) and is otherwise an
  approximation; it also treats answers of one respondent as independent, so it is narrower
  than a respondent-level interval;
- mean rule: normal approximation, mean ± z·s/√n with the sample standard deviation of the
  levels, scaled like the index and clipped to [0, 100]; NaN when n < 2.
Nothing here is rounded: the report rounds (one decimal, half up).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scoring.frames import (
    AGENCY_CODE,
    FACTOR,
    FACTOR_COLUMNS,
    FACTORS,
    LEVEL_COLUMNS,
    LEVELS,
    QUESTION_CODE,
    group_keys,
    require,
    sum_by,
)
from scoring.rules import DEFAULT_MIN_SAMPLE, DEFAULT_RULE, IndexRule

Z95 = 1.959963984540054
INDEX = "index"
N = "n"
N_MIN = "n_min"
N_CRITERIA = "n_criteria"
WILSON_LOW = "wilson_low"
WILSON_HIGH = "wilson_high"
RANKABLE = "rankable"
SIPAS = "sipas"
FACTORS_PRESENT = "factors"
RANK = "rank"


# --- intervals -------------------------------------------------------------------------------


def wilson_interval(
    k: float | np.ndarray | pd.Series, n: float | np.ndarray | pd.Series, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of k successes in n trials, as fractions; NaN where n == 0.

    centre = (p + z²/2n) / (1 + z²/n), half width = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²).
    """
    k_arr = np.asarray(k, dtype="float64")
    n_arr = np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_arr / n_arr
        z2n = z * z / n_arr
        centre = (p + z2n / 2) / (1 + z2n)
        half = z / (1 + z2n) * np.sqrt(p * (1 - p) / n_arr + z2n / (4 * n_arr))
        low = np.where(n_arr > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n_arr > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def _apply_rule(levels: pd.DataFrame, rule: IndexRule, z: float) -> pd.DataFrame:
    """index, n, wilson_low, wilson_high from columns n1..n5 (one row per row of `levels`)."""
    counts = levels[list(LEVEL_COLUMNS)].to_numpy(dtype="float64")
    n = counts.sum(axis=1)
    scores = np.array(LEVELS, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule.kind == "share_at_least":
            k = counts[:, rule.threshold - 1 :].sum(axis=1)
            index = np.where(n > 0, 100.0 * k / n, np.nan)
            low, high = wilson_interval(k, n, z)
            low, high = 100.0 * low, 100.0 * high
        else:
            mean = (counts * scores).sum(axis=1) / n
            sq = (counts * (scores[None, :] - mean[:, None]) ** 2).sum(axis=1)
            sd = np.sqrt(sq / (n - 1))
            se = sd / np.sqrt(n)
            index = np.where(n > 0, (mean - 1.0) / 4.0 * 100.0, np.nan)
            low = np.where(n > 1, np.clip((mean - z * se - 1.0) / 4.0 * 100.0, 0, 100), np.nan)
            high = np.where(n > 1, np.clip((mean + z * se - 1.0) / 4.0 * 100.0, 0, 100), np.nan)
    return pd.DataFrame(
        {INDEX: index, N: n.astype("int64"), WILSON_LOW: low, WILSON_HIGH: high},
        index=levels.index,
    )


# --- indices -----------------------------------------------------------------------------------


def _group_ids(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.Series, pd.DataFrame]:
    """An integer group id per row and the key values of each id (NA keys are a group)."""
    if not keys:
        return pd.Series(0, index=frame.index), pd.DataFrame(index=pd.Index([0]))
    ids = frame.groupby(keys, dropna=False, sort=True).ngroup()
    table = frame[keys].assign(_gid=ids.to_numpy()).drop_duplicates("_gid").set_index("_gid")
    return ids, table.sort_index()


def _criteria(counts: pd.DataFrame, keys: list[str], rule: IndexRule, z: float) -> pd.DataFrame:
    require(counts, [*keys, QUESTION_CODE, FACTOR, *LEVEL_COLUMNS], "counts")
    levels = sum_by(counts, [*keys, QUESTION_CODE, FACTOR], LEVEL_COLUMNS)
    stats = _apply_rule(levels, rule, z)
    out = pd.concat([levels, stats], axis=1)
    out[FACTOR] = out[FACTOR].astype("Int64")
    return out[out[N] > 0].reset_index(drop=True)


def criterion_indices(
    counts: pd.DataFrame,
    by: str | Sequence[str] = AGENCY_CODE,
    rule: IndexRule = DEFAULT_RULE,
    *,
    min_sample: int = DEFAULT_MIN_SAMPLE,
    z: float = Z95,
) -> pd.DataFrame:
    """One row per group and question: `by`…, question_code, factor, index, n, wilson_low,
    wilson_high, rankable (n ≥ min_sample).

    Every five-level question in the counts gets a row: the criteria (factor 1–5) and
    OVERALL (factor NA), so the overall-satisfaction question is reported the same way.
    """
    keys = group_keys(by)
    crit = _criteria(counts, keys, rule, z)
    crit[RANKABLE] = crit[N] >= min_sample
    return crit[[*keys, QUESTION_CODE, FACTOR, INDEX, N, WILSON_LOW, WILSON_HIGH, RANKABLE]]


def factor_indices(
    counts: pd.DataFrame,
    by: str | Sequence[str] = AGENCY_CODE,
    rule: IndexRule = DEFAULT_RULE,
    *,
    min_sample: int = DEFAULT_MIN_SAMPLE,
    z: float = Z95,
) -> pd.DataFrame:
    """One row per group and factor: `by`…, factor, index (mean of its criterion indices),
    n (answers behind it), n_min (fewest answers of one criterion), n_criteria, wilson_low,
    wilson_high (on pooled counts), rankable (n_min ≥ min_sample)."""
    keys = group_keys(by)
    crit = _criteria(counts, keys, rule, z)
    crit = crit[crit[FACTOR].notna()].reset_index(drop=True)
    columns = [*keys, FACTOR, INDEX, N, N_MIN, N_CRITERIA, WILSON_LOW, WILSON_HIGH, RANKABLE]
    if crit.empty:
        return crit.reindex(columns=columns)
    ids, table = _group_ids(crit, keys)
    crit["_gid"] = ids.to_numpy()
    grouped = crit.groupby(["_gid", FACTOR], sort=True)
    agg = grouped.agg(
        **{
            INDEX: (INDEX, "mean"),
            N_MIN: (N, "min"),
            N_CRITERIA: (QUESTION_CODE, "nunique"),
        }
    )
    pooled = grouped[list(LEVEL_COLUMNS)].sum()
    stats = _apply_rule(pooled, rule, z)
    agg[N] = stats[N]
    agg[WILSON_LOW] = stats[WILSON_LOW]
    agg[WILSON_HIGH] = stats[WILSON_HIGH]
    agg[RANKABLE] = agg[N_MIN] >= min_sample
    agg = agg.reset_index()
    out = table.reset_index().merge(agg, on="_gid", how="right", validate="one_to_many")
    out[FACTOR] = out[FACTOR].astype("Int64")
    return out[columns].reset_index(drop=True)


def sipas_index(
    counts: pd.DataFrame,
    by: str | Sequence[str] = AGENCY_CODE,
    rule: IndexRule = DEFAULT_RULE,
    *,
    min_sample: int = DEFAULT_MIN_SAMPLE,
    require_all_factors: bool = True,
    z: float = Z95,
) -> pd.DataFrame:
    """One row per group with criterion answers: `by`…, sipas, factor_1..factor_5, n, n_min,
    factors (how many factors have answers), wilson_low, wilson_high (pooled), rankable.

    sipas = mean of the five factor indices; NaN when a factor has no answers unless
    ``require_all_factors=False`` (then the mean of those present). rankable = sipas is a
    number and n_min ≥ min_sample.
    """
    keys = group_keys(by)
    columns = [
        *keys,
        SIPAS,
        *FACTOR_COLUMNS,
        N,
        N_MIN,
        FACTORS_PRESENT,
        WILSON_LOW,
        WILSON_HIGH,
        RANKABLE,
    ]
    crit = _criteria(counts, keys, rule, z)
    crit = crit[crit[FACTOR].isin(FACTORS)].reset_index(drop=True)
    if crit.empty:
        return crit.reindex(columns=columns)
    ids, table = _group_ids(crit, keys)
    crit["_gid"] = ids.to_numpy()
    factor_means = crit.groupby(["_gid", FACTOR], sort=True)[INDEX].mean()
    wide = factor_means.unstack(FACTOR).reindex(columns=list(FACTORS))
    wide.columns = list(FACTOR_COLUMNS)
    out = table.join(wide)
    out[SIPAS] = wide.mean(axis=1, skipna=not require_all_factors)
    pooled = crit.groupby("_gid", sort=True)[list(LEVEL_COLUMNS)].sum()
    stats = _apply_rule(pooled, rule, z)
    out[N] = stats[N]
    out[N_MIN] = crit.groupby("_gid", sort=True)[N].min()
    out[FACTORS_PRESENT] = wide.notna().sum(axis=1).astype("int64")
    out[WILSON_LOW] = stats[WILSON_LOW]
    out[WILSON_HIGH] = stats[WILSON_HIGH]
    out[RANKABLE] = out[SIPAS].notna() & (out[N_MIN] >= min_sample)
    return out[columns].reset_index(drop=True)


# --- ranking -----------------------------------------------------------------------------------


def rank(
    indices: pd.DataFrame,
    column: str = INDEX,
    *,
    worst_first: bool = True,
    within: str | Sequence[str] = (),
    limit: int | None = None,
) -> pd.DataFrame:
    """Rankable rows with a ``rank`` column (1 = worst, or best when ``worst_first=False``).

    Only rows with ``rankable`` True and a value in `column` take part: a figure below the
    minimum sample is shown elsewhere but never ranked. Ties share the lower rank ("min").
    `within` ranks separately inside groups (e.g. procedures within each agency); `limit` keeps
    the first `limit` rows of each group.
    """
    require(indices, [column, RANKABLE], "indices")
    groups = group_keys(within)
    rows = indices[indices[RANKABLE].astype(bool) & indices[column].notna()].copy()
    if groups:
        ranks = rows.groupby(groups, dropna=False)[column].rank(method="min", ascending=worst_first)
    else:
        ranks = rows[column].rank(method="min", ascending=worst_first)
    rows[RANK] = ranks.astype("int64")
    rows = rows.sort_values([*groups, RANK], kind="stable")
    if limit is not None:
        if groups:
            rows = rows.groupby(groups, dropna=False).head(limit)
        else:
            rows = rows.head(limit)
    return rows.reset_index(drop=True)


__all__ = [
    "DEFAULT_MIN_SAMPLE",
    "DEFAULT_RULE",
    "Z95",
    "IndexRule",
    "criterion_indices",
    "factor_indices",
    "rank",
    "sipas_index",
    "wilson_interval",
]
