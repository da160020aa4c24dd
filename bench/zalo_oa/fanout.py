"""Zalo OA fan-out benchmark: survey invitations to OA-linked citizens under
`ZALO_OA_RATE_PER_SECOND`.

`.venv/bin/python -m bench.zalo_oa.fanout [--quick] [--db sqlite|postgres] [--cases 2000]
[--oa-rate 50]` (or `python -m bench.zalo_oa fanout …`).

1. Setup (untimed), through the product only: `sipas serve` with `ZALO_OA_RATE_PER_SECOND`
   raised to `--setup-rate` takes N cases in (signed one-stop events, status 2), then each case's
   `link_code` is sent as its own OA user through signed `user_send_text` webhook events; the run
   waits until the stub OA API got every "linked" confirmation, exactly one per user. The
   service is stopped and started again on the same database with the rate under test (on
   PostgreSQL after an `ANALYZE`, as autovacuum keeps a database in service; `--no-analyze`
   leaves the statistics of the empty tables).
2. Fan-out (timed): status-10 events for the N cases, posted at once; every invitation goes
   through the survey loop, the outbox and the OA dispatcher to the stub, which records
   arrival times and refuses a few calls on purpose (`--rate-limited` answered -32 among the
   first 15 % of calls, which the product retries after 30 s; `--unavailable` answered HTTP 503
   anywhere, retried after a short backoff). Measured on the stub's clock: achieved rate vs the
   limit, the most calls in any second, lost and duplicated invitations.
3. Baseline: `bench.zalo_oa.bare_sender` sends the same N messages (the bodies the product
   sent) to the same stub with a token bucket at the same rate and the same refusals.

Prints markdown tables, writes `bench/results/zalo-oa-fanout-<UTC>[-quick].json`; exits 2 if a
target was missed, 1 if the run could not complete.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.fanout.procs import free_port, postgres_pids
from bench.fanout.stats import CpuMeter
from bench.zalo_oa import report
from bench.zalo_oa.arrivals import analyse, enqueued, fault_plan, per_user
from bench.zalo_oa.cases import event, local_now, post_cases
from bench.zalo_oa.common import (
    ACCESS_TOKEN,
    DEFAULT_ADMIN_DSN,
    RESULTS_DIR,
    WEBHOOK_PATH,
    Database,
    Stub,
    fresh_database,
    log,
    log_problems,
    machine,
    post_all,
    query,
    run_module,
    scratch,
    service_env,
    stamp,
    start_service,
    start_stub,
    user_text,
    wait_quiet,
)
from bot.zalo_oa.client import RATE_LIMIT_WAIT  # the product retries a -32 after this long

NAME = "zalo-oa-fanout"
INVITE_MARK = "Câu 1/"
LINKED_MARK = "Đã liên kết hồ sơ"
USER_BASE = 7_300_000_000_000_000_000


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.zalo_oa.fanout",
        description="Survey invitations on the Zalo OA under ZALO_OA_RATE_PER_SECOND.",
    )
    parser.add_argument("--quick", action="store_true", help="200 cases, no -32 (≈ 40 s)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, help="linked cases invited (2000; quick 200)")
    parser.add_argument("--oa-rate", type=int, default=50, help="ZALO_OA_RATE_PER_SECOND (50)")
    parser.add_argument(
        "--setup-rate", type=int, default=500, help="the OA rate while linking (500)"
    )
    parser.add_argument("--rate-limited", type=int, help="calls answered -32 (10; quick 0)")
    parser.add_argument("--unavailable", type=int, help="calls answered HTTP 503 (10; quick 3)")
    parser.add_argument("--post-concurrency", type=int, default=32)
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="PostgreSQL: do not ANALYZE after the setup (statistics of the empty tables stay)",
    )
    parser.add_argument(
        "--quiet-wait", type=float, help="s to wait for a ≥ 85%% idle machine (15; quick 2)"
    )
    parser.add_argument("--pg-admin", default=DEFAULT_ADMIN_DSN)
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch directory (process logs)"
    )
    args = parser.parse_args(argv)
    args.cases = args.cases or (200 if args.quick else 2000)
    if args.quiet_wait is None:
        args.quiet_wait = 2.0 if args.quick else 15.0
    if args.rate_limited is None:
        args.rate_limited = 0 if args.quick else 10
    if args.unavailable is None:
        args.unavailable = 3 if args.quick else 10
    if args.rate_limited + args.unavailable > args.cases // 10:
        parser.error("inject at most one refusal per ten cases")
    return args


async def analyze(db: Database) -> None:
    conn = await asyncpg.connect(db.url, timeout=10)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def wait_for_marks(
    stub: Stub, since: int, users: set[str], mark: str, timeout: float
) -> tuple[list[dict[str, Any]], bool]:
    """Poll the stub until every user got a message with `mark`; (calls, timed out)."""
    deadline = time.monotonic() + timeout
    while True:
        if await stub.count() - since >= len(users):
            calls = await stub.calls(since)
            if len(per_user(calls, users, mark)) >= len(users):
                return calls, False
        if time.monotonic() > deadline:
            return await stub.calls(since), True
        await asyncio.sleep(0.5)


class FanoutRun:
    """One run: the stub, the database, the service twice (setup, timed), the baseline."""

    def __init__(self, args: argparse.Namespace, work: Path, http: aiohttp.ClientSession):
        self.args = args
        self.work = work
        self.http = http
        self.notes: list[str] = []
        self.users = [str(USER_BASE + i) for i in range(args.cases)]
        self.stub_pid = 0
        self.codes = [f"ZF-{secrets.token_hex(2).upper()}-{i:06d}" for i in range(args.cases)]

    def env(self, db: Database, stub_url: str, oa_rate: int) -> dict[str, str]:
        return service_env(
            database_url=db.url,
            port=free_port(),
            stub_url=stub_url,
            oa_rate=oa_rate,
            api_token=secrets.token_urlsafe(24),
        )

    async def run(self) -> dict[str, Any]:
        result: dict[str, Any] = {"notes": self.notes}
        stub_child, stub_url = await start_stub(self.work)
        self.stub_pid = stub_child.pid
        stub = Stub(stub_url, self.http)
        try:
            async with fresh_database(self.args.db, self.work, self.args.pg_admin, "fan") as db:
                result["setup"] = await self.setup(db, stub, stub_url)
                if db.kind == "postgres" and self.args.analyze:
                    # A database in service has statistics (autovacuum keeps them): without
                    # them the planner takes the grown tables for empty ones.
                    await analyze(db)
                    result["setup"]["analyzed"] = True
                result["service"], messages = await self.fanout(db, stub, stub_url)
            result["baseline"] = await self.baseline(stub, stub_url, messages)
        finally:
            stub_child.stop()
        return result

    async def setup(self, db: Database, stub: Stub, stub_url: str) -> dict[str, Any]:
        args, n = self.args, self.args.cases
        child, url = await start_service(
            self.work, self.env(db, stub_url, args.setup_rate), "setup"
        )
        try:
            started = time.monotonic()
            received = local_now() - timedelta(hours=2)
            bodies = [event(code, 2, received) for code in self.codes]
            answers = await post_cases(self.http, url, bodies, args.post_concurrency)
            intake_s = time.monotonic() - started
            log(NAME, f"{n} cases taken in ({intake_s:.1f} s); linking by link_code on the OA")
            since = await stub.count()
            now_ms = int(time.time() * 1000)
            texts = []
            for k, (user, answer) in enumerate(zip(self.users, answers, strict=True)):
                code = str(answer["link_code"])
                words = f"Mã liên kết của tôi: {code[:4]}-{code[4:]}"
                texts.append(user_text(user, words, secrets.token_hex(16), now_ms + k))
            started = time.monotonic()
            statuses = await post_all(self.http, url + WEBHOOK_PATH, texts, 16)
            if set(statuses) != {200}:
                raise RuntimeError(f"linking events answered {statuses}")
            calls, timed_out = await wait_for_marks(
                stub, since, set(self.users), LINKED_MARK, n / args.setup_rate * 3 + 120
            )
            link_s = time.monotonic() - started
            confirmed = per_user(calls, set(self.users), LINKED_MARK)
            once = sum(1 for u in self.users if len(confirmed.get(u, [])) == 1)
            await asyncio.sleep(1.0)  # anything else the linking caused arrives by now
            extra = [
                c
                for c in await stub.calls(since)
                if c["kind"] == "message" and LINKED_MARK not in (c.get("text") or "")
            ]
            if timed_out or once != n:
                raise RuntimeError(f"{n - once} of {n} users not linked exactly once")
            log(NAME, f"{n} OA users linked in {link_s:.1f} s; restarting at the rate under test")
        finally:
            child.stop()
        return {
            "cases": n,
            "intake_s": round(intake_s, 2),
            "link_s": round(link_s, 2),
            "linked_exactly_once": once,
            "other_messages": len(extra),
            "other_message_samples": [str(c.get("text") or c.get("form"))[:120] for c in extra[:3]],
            "setup_oa_rate": args.setup_rate,
            "linking": "each case's link_code sent by its own OA user (signed user_send_text)",
            "service_log": log_problems(child),
        }

    async def fanout(
        self, db: Database, stub: Stub, stub_url: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        args, n = self.args, self.args.cases
        child, url = await start_service(self.work, self.env(db, stub_url, args.oa_rate), "timed")
        try:
            idle = await wait_quiet(NAME, args.quiet_wait, self.notes)
            meter = CpuMeter(
                {
                    "service": [child.pid],
                    "stub": [self.stub_pid],
                    "bench": [os.getpid()],
                    "postgres": postgres_pids() if db.kind == "postgres" else [],
                }
            )
            since = await stub.count()
            await stub.arm(**fault_plan(n, args.rate_limited, args.unavailable))
            returned = local_now() - timedelta(minutes=1)
            bodies = [event(code, 10, returned) for code in self.codes]
            cpu0 = meter.sample()
            started = time.monotonic()
            clocks = (time.monotonic(), datetime.now(UTC).replace(tzinfo=None))
            await post_cases(self.http, url, bodies, args.post_concurrency)
            posted_s = time.monotonic() - started
            log(
                NAME,
                f"{n} status-10 events posted in {posted_s:.1f} s; invitations at "
                f"≤ {args.oa_rate}/s",
            )
            timeout = n / args.oa_rate * 1.5 + 60 + (RATE_LIMIT_WAIT if args.rate_limited else 0)
            _calls, timed_out = await wait_for_marks(
                stub, since, set(self.users), INVITE_MARK, timeout
            )
            cpu1 = meter.sample()
            wall = time.monotonic() - started
            await asyncio.sleep(3.0)  # a late duplicate would arrive here
            calls = await stub.calls(since, bodies=True)
            outbox = await query(db, "SELECT status, count(*) FROM outbox GROUP BY status")
            queued = await query(db, "SELECT created_at FROM outbox WHERE kind = 'question'")
        finally:
            child.stop()
        queue = enqueued(queued, args.oa_rate, clocks)
        found = analyse(
            calls,
            set(self.users),
            mark=INVITE_MARK,
            limit=args.oa_rate,
            started_at=started,
            steady_from=queue.get("last_queued_monotonic"),
        )
        found.update(
            events_posted_s=round(posted_s, 2),
            timed_out=timed_out,
            idle_before=idle,
            cpu=meter.usage(cpu0, cpu1, wall),
            outbox={str(status): int(count) for status, count in outbox},
            enqueued=queue,
            service_log=log_problems(child),
        )
        log(
            NAME,
            f"service: {found['invitations_ok']} invitations at {found['achieved_per_s']}/s "
            f"({found['achieved_pct_of_limit']} % of {args.oa_rate}), {found['lost']} lost, "
            f"{found['duplicated']} duplicated, most calls in a second {found['max_calls_in_1s']}",
        )
        first: dict[str, dict[str, Any]] = {}
        for call in calls:
            if call.get("body") is not None and INVITE_MARK in (call.get("text") or ""):
                first.setdefault(call["user"], {"user_id": call["user"], "message": call["body"]})
        return found, list(first.values())

    async def baseline(
        self, stub: Stub, stub_url: str, messages: list[dict[str, Any]]
    ) -> dict[str, Any]:
        args = self.args
        path = self.work / "messages.json"
        path.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
        out = self.work / "bare-sender.json"
        idle = await wait_quiet(NAME, args.quiet_wait, self.notes)
        since = await stub.count()
        await stub.arm(**fault_plan(len(messages), args.rate_limited, args.unavailable))
        log(NAME, f"baseline: {len(messages)} messages by a token bucket at {args.oa_rate}/s")
        started = time.monotonic()
        argv = ["--url", stub_url, "--token", ACCESS_TOKEN, "--rate", str(args.oa_rate)]
        argv += ["--messages", str(path), "--out", str(out)]
        limit = len(messages) / args.oa_rate * 2 + 60
        code = await run_module(
            "bench.zalo_oa.bare_sender", argv, timeout=limit, log_path=self.work / "bare.log"
        )
        if code != 0 or not out.exists():
            raise RuntimeError(f"the bare sender failed ({code})")
        calls = await stub.calls(since)
        users = {m["user_id"] for m in messages}
        found = analyse(
            calls,
            users,
            mark=INVITE_MARK,
            limit=args.oa_rate,
            started_at=started,
            steady_from=started,  # everything is queued from the start
        )
        found.update(sender=json.loads(out.read_text()), idle_before=idle)
        return found


async def run(args: argparse.Namespace, when: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "benchmark": NAME,
        "stamp": when,
        "command": " ".join([".venv/bin/python -m bench.zalo_oa.fanout", *sys.argv[1:]]),
        "config": {k: v for k, v in vars(args).items() if k != "pg_admin"},
        "machine": await machine(args.pg_admin if args.db == "postgres" else None),
    }
    with scratch("sipas-zoa-fanout-", args.keep) as tmp:
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=max(64, args.post_concurrency))
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            fan = FanoutRun(args, Path(tmp), http)
            try:
                result.update(await fan.run())
            except Exception as exc:
                traceback.print_exc()
                result["error"] = f"{type(exc).__name__}: {exc}"
                result["notes"] = fan.notes
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    when = stamp()
    started = time.monotonic()
    result = asyncio.run(run(args, when))
    result["runtime_s"] = round(time.monotonic() - started, 1)
    result["checks"] = report.fanout_checks(result)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{NAME}-{when}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(report.fanout_markdown(result))
    print(f"\nruntime {result['runtime_s']} s; JSON: {path.relative_to(RESULTS_DIR.parent.parent)}")
    if "error" in result:
        print(f"run aborted: {result['error']}", file=sys.stderr)
        return 1
    return 0 if all(check["met"] for check in result["checks"]) else 2


if __name__ == "__main__":
    raise SystemExit(main())
