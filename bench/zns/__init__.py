"""ZNS fan-out benchmark: rating invitations by ZNS (template messages to the case's phone)
under `ZALO_ZNS_RATE_PER_SECOND`, steadily and across a `kill -9` of the service, against a
bare token-bucket sender on the same fake.

Run `.venv/bin/python -m bench.zns [--quick] [--db sqlite|postgres]`; what it measures is in
`bench/zns/run.py`, the latest figures in docs/benchmarks.md, "ZNS fan-out".
"""
