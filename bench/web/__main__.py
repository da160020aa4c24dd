"""Run the web survey benchmark: `.venv/bin/python -m bench.web [--quick] [--db postgres]`.

One run, one fresh database (a SQLite file in a scratch directory, or a PostgreSQL database
created and dropped by the run):

1. `sipas serve` starts in an empty directory (no `.env` leaks in) and migrates.
2. Untimed setup (`bench.web.seed`): cases delivered at status 10 through the signed intake;
   the cases to be POSTed opened once each for their form's `csrf`; the form page captured in
   both languages (its bytes) and cut into the baseline's template.
3. The baseline (`bench.web.baseline`) starts on the same database.
4. Phases, each run by the load generator (`bench.web.loadgen`, its own process): GET at a
   steady `--rate` on `sipas serve` (one token per simulated citizen), POST at the same rate
   (a fresh token each, each completing one survey: 303 expected), GET at that rate on the
   baseline; then `--rounds` closed-loop GET rounds, service and baseline interleaved.
   After each phase the run waits (up to `SETTLE_LIMIT`) for the server to go idle: requests
   the client gave up on (timeouts) are still being worked through and would disturb the next.
5. The completed surveys are counted in the database against the 303s; the thank-you page is
   fetched; markdown tables are printed and the JSON result written to `bench/results/`.

The page's rate limits stay on: see `bench.web.run` for how a run keeps under them.

Exit status: 0; 2 if any answer was not the expected one or a target was missed; 1 if the run
could not complete.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.web import report
from bench.web.run import DISTURBED_PCT, PER_ADDRESS, PER_TOKEN, ROOT, SETTLE_LIMIT, Run

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.web",
        description="Benchmark GET/POST /s/<token> of sipas serve against a bare baseline.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 s phases, one round, 5 s timeout (~40 s)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rate", type=float, default=100.0, help="open loop req/s (100)")
    parser.add_argument("--open-duration", type=float, help="open loop measured s (10; quick 2)")
    parser.add_argument("--open-warmup", type=float, help="open loop warm-up s (1; quick 0.5)")
    parser.add_argument("--duration", type=float, help="closed loop measured s (10; quick 2)")
    parser.add_argument("--warmup", type=float, help="closed loop warm-up s (2; quick 0.5)")
    parser.add_argument("--concurrency", type=int, default=32, help="closed loop workers (32)")
    parser.add_argument("--rounds", type=int, help="closed loop rounds, interleaved (2; quick 1)")
    parser.add_argument(
        "--max-rps",
        type=float,
        default=2500.0,
        help="closed loop on the service: requests planned per second of phase, which sizes "
        "the tokens seeded (2500)",
    )
    parser.add_argument(
        "--baseline-max-rps",
        type=float,
        default=8000.0,
        help="closed loop on the baseline: requests planned per second of phase (8000)",
    )
    parser.add_argument("--timeout", type=float, help="per request, seconds (10; quick 5)")
    parser.add_argument("--pg-admin-dsn", default=DEFAULT_ADMIN_DSN)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="before each phase, wait up to this many seconds for the machine to be ≥ 85%% "
        "idle; 0 to skip (10; quick 0)",
    )
    parser.add_argument(
        "--patience", type=float, help="total seconds the run may wait for quiet (30; quick 0)"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    quick = args.quick
    args.open_duration = args.open_duration or (2.0 if quick else 10.0)
    args.open_warmup = args.open_warmup if args.open_warmup is not None else (0.5 if quick else 1)
    args.duration = args.duration or (2.0 if quick else 10.0)
    args.timeout = args.timeout or (5.0 if quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if quick else 2.0)
    args.rounds = args.rounds or (1 if quick else 2)
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if quick else 10.0
    if args.patience is None:
        args.patience = 0.0 if quick else 30.0
    if (
        args.rate <= 0
        or min(args.max_rps, args.baseline_max_rps) <= 0
        or args.concurrency < 1
        or args.rounds < 1
    ):
        parser.error("rate, max-rps, concurrency and rounds must be positive")
    if max(args.open_warmup + args.open_duration, args.warmup + args.duration) > 55:
        parser.error("a phase must stay under 55 s (the page's limits count per minute)")
    return args


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _warnings(phases: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    flat = [
        (key, number, phase)
        for key, value in phases.items()
        for number, phase in enumerate(value if isinstance(value, list) else [value], 1)
    ]
    for key, number, phase in flat:
        name = f"{key} #{number}" if key.startswith("closed") else key
        if phase["errors"]:
            notes.append(
                f"{name}: {phase['errors']} unexpected answers {phase['statuses']} "
                f"e.g. {phase['error_samples'][:2]}"
            )
        if (phase.get("settle_s") or 0) >= SETTLE_LIMIT:
            notes.append(f"{name}: the server was still busy {SETTLE_LIMIT:g} s after the phase")
        if phase.get("exhausted"):
            notes.append(f"{name}: ran out of planned requests; raise --max-rps")
        other = phase.get("cpu", {}).get("other_cpu_pct_of_machine")
        if other is not None and other > DISTURBED_PCT:
            notes.append(
                f"{name}: {other}% of the machine went to other processes during the window; "
                "numbers are disturbed"
            )
        if (phase.get("send_lag_p99_ms") or 0) > 5:
            notes.append(
                f"{name}: the generator lagged its schedule (p99 {phase['send_lag_p99_ms']} ms)"
            )
    return notes


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    started = time.monotonic()
    run = Run(args)
    document: dict[str, Any] = {
        "benchmark": "bench.web",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.web", *(argv or sys.argv[1:])]),
        "config": {
            "db": args.db,
            "quick": args.quick,
            "rate": args.rate,
            "open_duration": args.open_duration,
            "open_warmup": args.open_warmup,
            "duration": args.duration,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "max_rps": args.max_rps,
            "baseline_max_rps": args.baseline_max_rps,
            "timeout": args.timeout,
            "per_address": PER_ADDRESS,
            "per_token": PER_TOKEN,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "revision": {"commit": _git("rev-parse", "--short", "HEAD") or None},
        "phases": run.phases,
    }
    failed = None
    try:
        run.execute()
    except (RuntimeError, subprocess.TimeoutExpired, OSError, KeyError) as exc:
        failed = f"{type(exc).__name__}: {exc}"
        print(f"benchmark aborted: {failed}", file=sys.stderr)
    finally:
        run.cleanup()
    document.update(run.extra)
    document["elapsed_s"] = round(time.monotonic() - started, 1)
    document["ratios"] = report.ratios(document)
    document["checks"] = report.checks(document)
    document["warnings"] = run.notes + _warnings(run.phases)
    errors = sum(
        phase["errors"]
        for value in run.phases.values()
        for phase in (value if isinstance(value, list) else [value])
    )
    document["errors_total"] = errors
    if failed:
        document["aborted"] = failed
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = f"-{args.db}{'-quick' if args.quick else ''}"
    path = args.results_dir / f"web-{stamp}{suffix}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    banner = "!" * 78
    if errors:
        print(
            f"\n{banner}\n!!! {errors} UNEXPECTED ANSWERS: the numbers are not valid !!!\n{banner}"
        )
    if "seeded" in document:
        print()
        print(report.markdown(document))
    print(
        f"\nMachine: {document['machine']['cpus']} CPUs, {document['machine']['platform']}, "
        f"Python {document['machine']['python']}; commit {document['revision']['commit']}"
    )
    for note in document["warnings"]:
        print(f"WARNING: {note}")
    print(f"\nResult: {path} (elapsed {document['elapsed_s']} s)")
    if failed:
        return 1
    missed = any(not check["pass"] for check in document["checks"])
    return 2 if errors or missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
