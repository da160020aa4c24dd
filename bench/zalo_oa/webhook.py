"""Zalo OA webhook benchmark: acknowledgement latency of `POST /zalo/webhook` at a steady load.

`.venv/bin/python -m bench.zalo_oa.webhook [--quick] [--db sqlite|postgres] [--rate 200]
[--duration 30]` (or `python -m bench.zalo_oa webhook …`).

Two targets, each in its own process on a fresh database of the chosen kind, driven one after
the other by the same open-loop load generator (`bench.zalo_oa.loadgen`, another process):

1. baseline — `bench.zalo_oa.webhook_baseline`: read, `json.loads`, the same mac check, one
   INSERT of the body, 200;
2. service — `sipas serve` with only the Zalo OA channel on (`ZALO_OA_ID`,
   `ZALO_OA_SECRET_KEY`, `ZALO_APP_ID` set; every Zalo base URL at the stub OA API
   `bench.zalo_oa.stub_oa`, so its replies have somewhere to go).

The service acts on each event after answering (its inbox hands it to the router, whose
replies go out through the outbox at `ZALO_OA_RATE_PER_SECOND`): that work shares the two cores
with the acknowledgements, and the run waits (bounded) until every stored event was acted on.
Prints markdown tables, writes `bench/results/zalo-oa-webhook-<UTC>[-quick].json`; exits 2 if a
target was missed or an answer was not 200, 1 if the run could not complete.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import aiohttp

from bench.fanout.procs import Child, free_port, wait_http
from bench.fanout.stats import summary_ms
from bench.zalo_oa import report
from bench.zalo_oa.common import (
    DEFAULT_ADMIN_DSN,
    PYTHON,
    RESULTS_DIR,
    Database,
    Stub,
    as_datetime,
    base_env,
    fresh_database,
    log,
    log_problems,
    machine,
    query,
    run_module,
    scratch,
    service_env,
    stamp,
    start_service,
    start_stub,
    wait_quiet,
)

NAME = "zalo-oa-webhook"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.zalo_oa.webhook",
        description="Zalo OA webhook acknowledgement at a steady rate, vs a bare mac + INSERT.",
    )
    parser.add_argument("--quick", action="store_true", help="5 s measured per target")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second (200)")
    parser.add_argument("--duration", type=float, help="measured seconds (30; quick 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring (1)")
    parser.add_argument("--users", type=int, default=1000, help="distinct OA users (1000)")
    parser.add_argument(
        "--oa-rate", type=int, default=50, help="ZALO_OA_RATE_PER_SECOND of the service (50)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument(
        "--act-wait",
        type=float,
        help="seconds to wait after the load for the service to act on every event (60; quick 5)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="seconds to wait for a ≥ 85%% idle machine before each target (15; quick 2)",
    )
    parser.add_argument(
        "--stop-wait",
        type=float,
        help="seconds the service may take to stop after SIGTERM before SIGKILL (20; quick 5)",
    )
    parser.add_argument("--pg-admin", default=DEFAULT_ADMIN_DSN)
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch directory (process logs)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the service during its load (raw stacks next to the results; summarise "
        "with `python -m bench.fanout.profile_summary FILE`)",
    )
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 5.0 if args.quick else 30.0
    if args.quiet_wait is None:
        args.quiet_wait = 2.0 if args.quick else 15.0
    if args.act_wait is None:
        args.act_wait = 5.0 if args.quick else 60.0
    if args.stop_wait is None:
        args.stop_wait = 5.0 if args.quick else 20.0
    if args.warmup + args.duration > 240:
        parser.error("warm-up + duration must stay under 240 s")
    return args


async def load(
    args: argparse.Namespace, url: str, pid: int, db: Database, work: Path, tag: str
) -> dict[str, Any]:
    out = work / f"loadgen-{tag}.json"
    argv = ["--url", url, "--rate", str(args.rate), "--duration", str(args.duration)]
    argv += ["--warmup", str(args.warmup), "--users", str(args.users)]
    argv += ["--timeout", str(args.timeout), "--server-pid", str(pid), "--out", str(out)]
    if db.pg_name:
        argv += ["--pg-database", db.pg_name]
    limit = args.warmup + args.duration + 2 * args.timeout + 60
    code = await run_module("bench.zalo_oa.loadgen", argv, timeout=limit, log_path=work / "lg.log")
    if code != 0 or not out.exists():
        tail = (work / "lg.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the load generator failed ({code}):\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    ok = sum(n for status, n in result["statuses"].items() if status.startswith("2"))
    span = result["requests_scheduled"] / args.rate + result["drain_s"]
    result["answered_per_s"] = round(ok / span, 1) if span > 0 else None
    return result


async def baseline(
    args: argparse.Namespace, work: Path, notes: list[str], tag: str
) -> dict[str, Any]:
    async with fresh_database(args.db, work, args.pg_admin, f"base{tag}") as db:
        port = free_port()
        argv = [PYTHON, "-m", "bench.zalo_oa.webhook_baseline", "--port", str(port)]
        child = Child("baseline", [*argv, "--database", db.url], base_env(), work)
        child.start()
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_http(child, f"{url}/healthz", 30)
            idle = await wait_quiet(NAME, args.quiet_wait, notes)
            log(NAME, f"baseline: {args.rate:g} events/s for {args.duration:g} s")
            phase = await load(args, url, child.pid, db, work, "baseline")
            stored = (await query(db, "SELECT count(*) FROM bench_events"))[0][0]
        finally:
            child.stop()
    return {"phase": phase, "stored": int(stored), "idle_before": idle}


async def service(
    args: argparse.Namespace, work: Path, notes: list[str], tag: str, http: aiohttp.ClientSession
) -> dict[str, Any]:
    stub_child, stub_url = await start_stub(work)
    stub = Stub(stub_url, http)
    try:
        async with fresh_database(args.db, work, args.pg_admin, f"svc{tag}") as db:
            env = service_env(
                database_url=db.url,
                port=free_port(),
                stub_url=stub_url,
                oa_rate=args.oa_rate,
                api_token=secrets.token_urlsafe(24),
            )
            child, url = await start_service(work, env)
            try:
                calls0 = await stub.count()
                idle = await wait_quiet(NAME, args.quiet_wait, notes)
                log(NAME, f"service: {args.rate:g} events/s for {args.duration:g} s")
                spy = profiler(args, child.pid, work, tag) if args.profile else None
                phase = await load(args, url, child.pid, db, work, "service")
                if spy is not None:
                    spy.stop(timeout=30, sig=signal.SIGINT)  # py-spy writes its file on SIGINT
                replies_by_end = await stub.count() - calls0
                acted = await acted_on(db, args.act_wait)
                replies = await stub.calls(calls0)
                outbox = await query(db, "SELECT status, count(*) FROM outbox GROUP BY status")
            finally:
                stopping = time.monotonic()
                child.stop(timeout=args.stop_wait)
                stop_s = time.monotonic() - stopping
            problems = log_problems(child)
    finally:
        stub_child.stop()
    return {
        "phase": phase,
        **acted,
        "idle_before": idle,
        "replies_sent_by_end_of_load": replies_by_end,
        "replies_sent_by_all_acted": len(replies),
        "replies_ok": sum(1 for c in replies if c["status"] == 200 and c["error"] == 0),
        "outbox": {str(status): int(count) for status, count in outbox},
        "service_log": problems,
        "stop_s": round(stop_s, 1),
    }


def profiler(args: argparse.Namespace, pid: int, work: Path, tag: str) -> Child:
    """py-spy recording the service (Python CPU only, `--gil`) for the load's length."""
    out = RESULTS_DIR / f"{NAME}-profile-{args.db}-{stamp()}-{tag}.txt"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    seconds = int(args.warmup + args.duration + 5)
    argv = [str(Path(PYTHON).parent / "py-spy"), "record", "--pid", str(pid), "--gil"]
    argv += ["--duration", str(seconds), "--rate", "100", "--format", "raw"]
    child = Child("py-spy", [*argv, "--output", str(out)], base_env(), work)
    child.start()
    log(NAME, f"profiling the service into {out.relative_to(RESULTS_DIR.parent.parent)}")
    return child


async def acted_on(db: Database, wait: float) -> dict[str, Any]:
    """Wait (up to `wait` s) until every stored OA event was acted on; what the inbox did."""
    sql = "SELECT count(*) FROM channel_events WHERE channel = 'zalo_oa' AND processed_at IS NULL"
    started = time.monotonic()
    while (pending := int((await query(db, sql))[0][0])) and time.monotonic() - started < wait:
        await asyncio.sleep(0.5)
    waited = time.monotonic() - started
    rows = await query(
        db, "SELECT received_at, processed_at FROM channel_events WHERE channel = 'zalo_oa'"
    )
    lags = []
    received = [as_datetime(r[0]) for r in rows]
    for got, done in ((as_datetime(r[0]), as_datetime(r[1])) for r in rows):
        if got is not None and done is not None:
            lags.append((done - got).total_seconds())
    last_received = max((r for r in received if r is not None), default=None)
    done_all = [as_datetime(r[1]) for r in rows]
    last_done = max((d for d in done_all if d is not None), default=None)
    return {
        "stored": len(rows),
        "acted_on": len(lags),
        "pending_after_wait": pending,
        "waited_for_acting_s": round(waited, 1),
        "all_acted_after_last_stored_s": (
            round((last_done - last_received).total_seconds(), 2)
            if last_done and last_received and not pending
            else None
        ),
        "store_to_acted": summary_ms(lags),
    }


async def run(args: argparse.Namespace, when: str) -> dict[str, Any]:
    notes: list[str] = []
    tag = secrets.token_hex(2)
    result: dict[str, Any] = {
        "benchmark": NAME,
        "stamp": when,
        "command": " ".join([".venv/bin/python -m bench.zalo_oa.webhook", *sys.argv[1:]]),
        "config": {k: v for k, v in vars(args).items() if k != "pg_admin"},
        "machine": await machine(args.pg_admin if args.db == "postgres" else None),
        "targets": {},
        "notes": notes,
    }
    with scratch("sipas-zoa-webhook-", args.keep) as tmp:
        work = Path(tmp)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            try:
                result["targets"]["baseline"] = await baseline(args, work, notes, tag)
                result["targets"]["service"] = await service(args, work, notes, tag, http)
            except Exception as exc:
                traceback.print_exc()
                result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    when = stamp()
    started = time.monotonic()
    result = asyncio.run(run(args, when))
    result["runtime_s"] = round(time.monotonic() - started, 1)
    result["checks"] = report.webhook_checks(result)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{NAME}-{when}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(report.webhook_markdown(result))
    print(f"\nruntime {result['runtime_s']} s; JSON: {path.relative_to(RESULTS_DIR.parent.parent)}")
    if "error" in result:
        print(f"run aborted: {result['error']}", file=sys.stderr)
        return 1
    return 0 if all(check["met"] for check in result["checks"]) else 2


if __name__ == "__main__":
    raise SystemExit(main())
