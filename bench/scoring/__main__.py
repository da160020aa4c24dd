"""Run the scoring benchmark: `.venv/bin/python -m bench.scoring [--quick] [options]`.

1. Setup (reported, not part of any target): a fresh database migrated with
   `storage.db.migrate`, a synthetic year generated in SQL (`bench.scoring.datagen`), VACUUM
   ANALYZE.
2. Full recomputation of the year: `score_day` for each of the 365 days, in one fresh process.
3. The daily job as it runs every morning (after the recomputation stored every day):
   `score_day(yesterday)` then yesterday / month-to-date / year-to-date SIPAS per agency from
   `storage.scores.stored_counts` + `sipas_index`; `--repeat` runs, each in a fresh process.
4. A candidate variant of that job (bench code, not the product): the periods summed in SQL.
5. The bare in-memory groupby baseline, each key type in its own process.
Each process reports wall time and its own peak RSS (ru_maxrss). The orchestrator prints
markdown tables and writes JSON to `bench/results/`. Exit status: 0 when both targets are met,
3 when a target is missed, 1 when the run failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.scoring import report

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_ANSWERS = 10_000_000
QUICK_ANSWERS = 500_000
GIB = 1024**3
RATIO_TARGET = 2.0
PEAK_TARGET = 1.5 * GIB


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scoring",
        description="Daily SIPAS scoring job on a synthetic year vs. a bare pandas groupby.",
    )
    parser.add_argument("--answers", type=int, help=f"answers to generate ({DEFAULT_ANSWERS:_})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ANSWERS:_} answers")
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--repeat", type=int, default=3, help="daily job runs (3)")
    parser.add_argument("--baseline-repeat", type=int, default=3, help="groupby repeats (3)")
    parser.add_argument("--pg-admin-dsn", default=DEFAULT_ADMIN_DSN)
    parser.add_argument("--db-name", default="sipas_scorebench")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="use a database kept by --keep-db as it is (no setup, no recomputation)",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "on", "off"),
        default="auto",
        help="EXPLAIN ANALYZE + cProfile of the daily job (auto: when a target is missed)",
    )
    args = parser.parse_args(argv)
    if args.answers is None:
        args.answers = QUICK_ANSWERS if args.quick else DEFAULT_ANSWERS
    return args


def _run(task: str, options: dict[str, Any]) -> dict[str, Any]:
    """Run one worker task in a fresh process; its stderr passes through."""
    command = [sys.executable, "-m", "bench.scoring.worker", task, json.dumps(options)]
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {task} exited {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - started, 2)
    return result


def _log(message: str) -> None:
    print(f"[bench.scoring {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_settings(admin_dsn: str) -> dict[str, str]:
    import asyncpg

    async def fetch() -> dict[str, str]:
        conn = await asyncpg.connect(admin_dsn, timeout=10)
        try:
            names = [
                "server_version",
                "shared_buffers",
                "work_mem",
                "max_parallel_workers_per_gather",
                "effective_cache_size",
            ]
            return {n: str(await conn.fetchval(f"SHOW {n}")) for n in names}
        finally:
            await conn.close()

    return asyncio.run(fetch())


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return ordered[len(ordered) // 2]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    command = ".venv/bin/python -m bench.scoring " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    tmpdir: str | None = None
    if args.db == "postgres":
        base, _, _ = args.pg_admin_dsn.rpartition("/")
        url = f"{base}/{args.db_name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    else:
        tmpdir = tempfile.mkdtemp(prefix="sipas-scorebench-")
        url = f"sqlite+aiosqlite:///{tmpdir}/scorebench.db"
        if args.reuse_db:
            print("--reuse-db works with --db postgres only", file=sys.stderr)
            return 1
    result: dict[str, Any] = {
        "benchmark": "scoring",
        "stamp": stamp,
        "quick": args.quick,
        "command": command,
        "db": args.db,
        "answers": args.answers,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "options": {k: v for k, v in vars(args).items() if k != "pg_admin_dsn"},
    }
    begin = time.perf_counter()
    try:
        if args.db == "postgres":
            result["postgres"] = _pg_settings(args.pg_admin_dsn)
        if not args.reuse_db:
            if args.db == "postgres":
                asyncio.run(
                    _admin(
                        args.pg_admin_dsn, f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)'
                    )
                )
                asyncio.run(_admin(args.pg_admin_dsn, f'CREATE DATABASE "{args.db_name}"'))
            _log(f"setup: {args.answers:,} answers into {args.db}")
            result["setup"] = _run("setup", {"url": url, "answers": args.answers})
            _log(f"setup done in {result['setup']['seconds']:.0f} s; full-year recomputation")
            result["recompute"] = _run("recompute", {"url": url})
            _log(f"recomputation done in {result['recompute']['seconds']:.0f} s")
            result["vacuum_daily_scores"] = _run("vacuum", {"url": url})
        else:
            result["setup"] = {"reused": True, "counts": {}}
            result["recompute"] = {"reused": True}
        result["daily_runs"] = []
        for k in range(args.repeat):
            run = _run("daily", {"url": url})
            peak = run["peak_rss_bytes"] / GIB
            _log(f"daily job run {k + 1}: {run['seconds']:.2f} s, peak {peak:.2f} GiB")
            result["daily_runs"].append(run)
        result["candidate_runs"] = []
        for k in range(args.repeat):
            run = _run("candidate", {"url": url})
            _log(f"candidate run {k + 1}: {run['seconds']:.2f} s")
            result["candidate_runs"].append(run)
        result["baseline"] = {}
        for keys in ("category", "str"):
            run = _run(
                "baseline",
                {"answers": args.answers, "keys": keys, "repeat": args.baseline_repeat},
            )
            peak = run["peak_rss_bytes"] / GIB
            _log(f"baseline[{keys}]: groupby {run['seconds']:.3f} s, peak {peak:.2f} GiB")
            result["baseline"][keys] = run
        _summarise(result, args)
        s = result["summary"]
        if args.profile == "on" or (
            args.profile == "auto" and not (s["ratio_ok"] and s["peak_ok"])
        ):
            out = RESULTS_DIR / f"scoring-profile-{args.db}-{stamp}.txt"
            _log(f"profiling into {out}")
            result["profile"] = _run("profile", {"url": url, "out": str(out)})
    except Exception as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        _cleanup(args, tmpdir)
        return 1
    result["wall_s"] = round(time.perf_counter() - begin, 1)
    if not args.keep_db:
        _cleanup(args, tmpdir)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"scoring-{args.db}-{stamp}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(report.markdown(result))
    print(f"\nWall time {result['wall_s']:.0f} s. JSON: {path}")
    return 0 if (result["summary"]["ratio_ok"] and result["summary"]["peak_ok"]) else 3


def _cleanup(args: argparse.Namespace, tmpdir: str | None) -> None:
    if args.db == "postgres" and not args.keep_db and not args.reuse_db:
        try:
            asyncio.run(
                _admin(args.pg_admin_dsn, f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
            )
        except Exception as exc:
            print(f"could not drop {args.db_name}: {exc}", file=sys.stderr)
    if tmpdir:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _summarise(result: dict[str, Any], args: argparse.Namespace) -> None:
    daily = result["daily_runs"]
    candidate = result["candidate_runs"]
    base = result["baseline"]["category"]
    text = result["baseline"].get("str")
    daily_s = statistics.median(r["seconds"] for r in daily)
    daily_peak = max(r["peak_rss_bytes"] for r in daily)
    median = _median_run(daily)
    result["daily_median_run"] = median
    if candidate:
        result["candidate_median_run"] = _median_run(candidate)
    recompute = result.get("recompute", {})
    setup = result.get("setup", {})
    likert = setup.get("counts", {}).get("likert_answers")
    result["summary"] = {
        "daily_runs": len(daily),
        "daily_s": daily_s,
        "daily_peak": daily_peak,
        "baseline_s": base["seconds"],
        "baseline_peak": base["peak_rss_bytes"],
        "baseline_rows": base["rows"],
        "baseline_groups": base["groups"],
        "baseline_repeat": args.baseline_repeat,
        "baseline_str_s": text["seconds"] if text else None,
        "baseline_str_peak": text["peak_rss_bytes"] if text else None,
        "daily_ratio": daily_s / base["seconds"],
        "ratio_ok": daily_s <= RATIO_TARGET * base["seconds"],
        "peak_ok": daily_peak < PEAK_TARGET,
        "candidate_s": statistics.median(r["seconds"] for r in candidate) if candidate else None,
        "candidate_peak": max(r["peak_rss_bytes"] for r in candidate) if candidate else None,
        "recompute_s": recompute.get("seconds"),
        "recompute_peak": recompute.get("peak_rss_bytes"),
        "recompute_days": recompute.get("days"),
        "daily_scores_rows": recompute.get("daily_scores_rows"),
        "setup_s": setup.get("seconds"),
        "setup_peak": setup.get("peak_rss_bytes"),
        "stored_rows_ytd": median.get("stored_rows_ytd"),
    }
    checks: dict[str, str] = {}
    if likert is not None:
        # SIPAS counts the criterion answers (F1..F5); OVERALL (1 in 6 five-level answers in
        # the synthetic data) is scored on its own and not part of the index.
        got = median.get("answers_ytd")
        criteria = likert * 5 // 6
        checks["YTD SIPAS covers every criterion answer (F1..F5)"] = (
            f"ok ({got:,})" if got == criteria else f"MISMATCH {got} vs {criteria}"
        )
    if candidate:
        same = (
            result["candidate_median_run"]["province_ytd_sipas"] == median["province_ytd_sipas"]
            and result["candidate_median_run"]["mean_ytd_sipas"] == median["mean_ytd_sipas"]
        )
        checks["candidate YTD SIPAS equals the job's"] = "ok" if same else "MISMATCH"
    result["checks"] = checks


if __name__ == "__main__":
    sys.exit(main())
