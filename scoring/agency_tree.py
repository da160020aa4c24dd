"""The agency tree: ancestors of an agency, and figures rolled up over each subtree.

AGENCIES (``code, parent_code, name``) is a forest; a cycle in it (A → B → A, or an agency
its own parent) ends every walk at the first repeat. ``rollup`` sums additive frames (COUNTS,
responses, timeliness counts) so that a parent's indices are computed like any agency's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from scoring.frames import (
    AGENCY_CODE,
    CODE,
    COUNT_VALUES,
    FACTOR,
    PARENT_CODE,
    RESPONSES,
    require,
    sum_by,
)


def _parent_map(agencies: pd.DataFrame) -> dict[str, str | None]:
    require(agencies, [CODE, PARENT_CODE], "agencies")
    parents: dict[str, str | None] = {}
    for code, parent in zip(agencies[CODE], agencies[PARENT_CODE], strict=True):
        parents[str(code)] = None if parent is None or pd.isna(parent) else str(parent)
    return parents


def ancestors(agencies: pd.DataFrame, code: str) -> list[str]:
    """`code` then its parent, grandparent … up to the root.

    A cycle in the tree (A → B → A, or an agency its own parent) stops the walk at the first
    repeat, so it always ends; in a cycle every member counts as an ancestor of every other.
    """
    return _ancestors(_parent_map(agencies), str(code))


def _ancestors(parents: Mapping[str, str | None], code: str) -> list[str]:
    chain = [code]
    seen = {code}
    current = parents.get(code)
    while current is not None and current not in seen:
        chain.append(current)
        seen.add(current)
        current = parents.get(current)
    return chain


def subtree_map(agencies: pd.DataFrame, codes: Iterable[str] = ()) -> pd.DataFrame:
    """Pairs (member, agency): `agency` is `member` or one of its ancestors.

    Covers every agency of the tree and any extra `codes` (an unknown code is its own root).
    """
    parents = _parent_map(agencies)
    members = list(dict.fromkeys([*parents, *(str(c) for c in codes)]))
    pairs = [(m, a) for m in members for a in _ancestors(parents, m)]
    return pd.DataFrame(pairs, columns=["member", AGENCY_CODE])


def rollup(
    frame: pd.DataFrame,
    agencies: pd.DataFrame,
    *,
    values: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each agency's figures summed over itself and all its descendants (any depth).

    Works on any frame with ``agency_code`` and additive columns: COUNTS (values default to the
    count columns) or a ``responses`` frame (``responses`` is additive because a survey belongs
    to one case of one agency). The result has the same columns, ``agency_code`` now naming the
    subtree; every other column is a grouping key. An agency missing from `agencies` counts as
    its own root. Indices for a parent are then computed from the result as for any agency.
    """
    require(frame, [AGENCY_CODE], "rollup")
    if values is None:
        values = [c for c in (*COUNT_VALUES, RESPONSES) if c in frame.columns]
    values = list(values)
    if not values:
        raise ValueError("rollup needs additive value columns")
    keys = [c for c in frame.columns if c not in values]
    if frame.empty:
        return frame.copy()
    codes = frame[AGENCY_CODE].dropna().astype(str).unique()
    mapping = subtree_map(agencies, codes)
    work = frame.assign(member=frame[AGENCY_CODE].astype(str)).drop(columns=[AGENCY_CODE])
    work = work.merge(mapping, on="member", how="inner").drop(columns=["member"])
    out = sum_by(work, keys, values)
    if FACTOR in out.columns:
        out[FACTOR] = out[FACTOR].astype("Int64")
    return out[list(frame.columns)].reset_index(drop=True)


__all__ = ["ancestors", "rollup", "subtree_map"]
