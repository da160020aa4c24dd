"""Scoring benchmark: the daily SIPAS job on a synthetic year vs. a bare pandas groupby.

Run `.venv/bin/python -m bench.scoring [--quick] [--answers N] [--db postgres|sqlite]`; see
`bench/scoring/RESULTS.md`.
"""

from __future__ import annotations
