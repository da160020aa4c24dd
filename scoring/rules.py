"""The index rule and sample minimum of domain.md §5, as plain values (no pandas).

`scoring.sipas` computes with them; the bot reads them from its settings at import time, so
they live here where importing them costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The five-level answer scale (1 = very dissatisfied … 5 = very satisfied).
LEVELS = (1, 2, 3, 4, 5)
DEFAULT_MIN_SAMPLE = 30


@dataclass(frozen=True)
class IndexRule:
    """How a criterion index is made from the five level counts.

    ``share_at_least``: per cent of valid answers at level ``threshold`` or above (4 = "satisfied
    or very satisfied", domain.md §5; 5 = "very satisfied only"). ``mean_score``: the mean level
    scaled to 0–100 as (mean − 1) / 4 × 100 (``threshold`` unused).
    """

    kind: Literal["share_at_least", "mean_score"] = "share_at_least"
    threshold: int = 4

    def __post_init__(self) -> None:
        if self.kind not in ("share_at_least", "mean_score"):
            raise ValueError(f"unknown index rule: {self.kind!r}")
        if self.threshold not in LEVELS:
            raise ValueError("threshold must be a level 1–5")


DEFAULT_RULE = IndexRule()

__all__ = ["DEFAULT_MIN_SAMPLE", "DEFAULT_RULE", "LEVELS", "IndexRule"]
