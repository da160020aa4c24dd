"""Intake benchmark: `POST /api/v1/onestop/events` against two baselines and the real service.

Run `.venv/bin/python -m bench.ingest --help`. Every server and the load generator run in their
own processes on loopback; the orchestrator (`__main__`) only starts, waits and reports.

Modules:
- `payloads`: pre-built, pre-signed request bodies (unique deliveries).
- `loadgen`: the load generator process (closed loop and open loop).
- `baseline_bare`: baseline A, answers 202 without reading the body.
- `baseline_durable`: baseline B, HMAC + json.loads + one idempotent INSERT.
- `targets`: starting and stopping each server, fresh databases.
- `cpu`: who used the machine during a measured window (from /proc).
- `stats`, `report`: percentiles, ratios, target checks and the markdown tables.
- `profile`: py-spy and pg_stat_activity sampling of the service under the same load.
"""
