"""Run the fan-out benchmark: `.venv/bin/python -m bench.fanout [--quick] [--chats N] [--db ...]`.

For each database kind it starts the fake Bot API (`python -m tests.fakes.run_telegram`, flood
limits enforced) and `sipas serve` as separate processes on free loopback ports, runs the
phases of `bench.fanout.scenario`, stops everything, prints markdown tables and writes the JSON
result to `bench/results/fanout-<UTC stamp>[-quick].json`. Exits 1 if a phase could not run,
2 if a target was missed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.fanout import report
from bench.fanout.scenario import Options, TargetRun, log

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description="Survey invitation fan-out at Telegram's 30/s, and press → next question.",
    )
    parser.add_argument("--quick", action="store_true", help="200 chats, 40 presses (~2 min)")
    parser.add_argument("--chats", type=int, help="chats per fan-out run (default 2000)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--presses", type=int, help="timed presses (default 200; quick 40)")
    parser.add_argument("--press-rate", type=float, default=10.0, help="presses per second")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of 429s, run 2")
    parser.add_argument("--post-concurrency", type=int, default=32)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the service during each fan-out"
    )
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get("SIPAS_TEST_PG_URL", DEFAULT_ADMIN_DSN),
        help="PostgreSQL admin DSN used to create and drop the run's database",
    )
    args = parser.parse_args(argv)
    if args.chats is None:
        args.chats = 200 if args.quick else 2000
    if args.presses is None:
        args.presses = 40 if args.quick else 200
    if args.chats < args.presses + 10:
        parser.error("--chats must exceed --presses by at least 10 (warm-up presses)")
    return args


async def run_all(args: argparse.Namespace, stamp: str) -> dict[str, Any]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    options = Options(
        chats=args.chats,
        presses=args.presses,
        warmup_presses=10 if not args.quick else 5,
        press_rate=args.press_rate,
        fault_rate=args.fault_rate,
        post_concurrency=args.post_concurrency,
        profile=args.profile,
        results_dir=RESULTS_DIR,
        stamp=stamp,
    )
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    targets: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sipas-fanout-") as tmp:
        for kind in kinds:
            log(f"=== {kind} ===")
            started = time.monotonic()
            try:
                result = await TargetRun(kind, options, Path(tmp) / kind, args.pg_admin).run()
            except Exception as exc:
                traceback.print_exc()
                result = {"db": kind, "error": f"{type(exc).__name__}: {exc}"}
            result["duration_s"] = round(time.monotonic() - started, 1)
            targets.append(result)
    return {
        "benchmark": "fanout",
        "stamp": stamp,
        "quick": args.quick,
        "chats": args.chats,
        "command": " ".join([".venv/bin/python -m bench.fanout", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "options": {k: v for k, v in vars(options).items() if k != "results_dir"},
        "targets": targets,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    started = time.monotonic()
    result = asyncio.run(run_all(args, stamp))
    result["runtime_s"] = round(time.monotonic() - started, 1)
    name = f"fanout-{stamp}{'-quick' if args.quick else ''}.json"
    path = RESULTS_DIR / name
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print()
    print(report.render(result))
    print()
    print(f"runtime {result['runtime_s']} s; JSON: {path.relative_to(RESULTS_DIR.parent.parent)}")
    if any("error" in t for t in result["targets"]):
        for target in result["targets"]:
            if "error" in target:
                print(f"{target['db']}: {target['error']}", file=sys.stderr)
        return 1
    missed = any(
        not report.fanout_ok(run) for t in result["targets"] for run in t.get("fanout", [])
    ) or any(
        (t["press"]["next_question"]["p99_ms"] or 1e9) >= report.P99_TARGET_MS
        for t in result["targets"]
        if t.get("press")
    )
    return 2 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
