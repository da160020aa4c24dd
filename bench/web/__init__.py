"""Web survey benchmark: `GET /s/<token>` and `POST /s/<token>` of the real `sipas serve`.

At a steady 100 requests/s (open loop, latency from the scheduled send time) and in a closed
loop against a bare aiohttp handler serving the same HTML from one indexed SELECT, in one run
on a fresh database. Run it with `.venv/bin/python -m bench.web [--quick] [--db postgres]`;
see docs/benchmarks.md, "Web survey".
"""
