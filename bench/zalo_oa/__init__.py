"""Zalo OA benchmarks: webhook acknowledgement under a steady load, and the fan-out of survey
invitations on the OA under the configured `ZALO_OA_RATE_PER_SECOND`.

Run `.venv/bin/python -m bench.zalo_oa webhook [--quick] [--db sqlite|postgres]` and
`.venv/bin/python -m bench.zalo_oa fanout [--quick] [--db sqlite|postgres]` (also
`python -m bench.zalo_oa.webhook` / `python -m bench.zalo_oa.fanout`); what they measure and the
latest figures are in docs/benchmarks.md, "Zalo OA".
"""
