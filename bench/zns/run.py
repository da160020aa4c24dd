"""ZNS fan-out benchmark: rating invitations by ZNS under `ZALO_ZNS_RATE_PER_SECOND`, steady and
across a `kill -9` of the service.

`.venv/bin/python -m bench.zns [--quick] [--db sqlite|postgres] [--cases 2000] [--rate 20]`.

Processes (each its own, on loopback): the fake Zalo side (`bench.zns.fake`: the test fakes of
the OA, for the token, and of ZNS, daily quota set out of reach), `sipas serve` with the OA on,
`ZALO_ZNS_TEMPLATES` naming the fake's templates, `SIPAS_CONTACT_KEY` set, no quiet hours, and
the baseline sender.

1. Steady (fresh database): N signed status-10 events, each a new case with its own phone
   (`SoDienThoai`), posted at once to the intake of the real process; the ZNS route opens each
   case's survey on its ZNS chat and the "zns" dispatcher sends the `rating` template. Measured
   on the fake's clock until every case got its invitation: achieved rate over the whole
   fan-out and in its steady part (5 %–95 % of the arrivals) against the configured rate, the
   most sends in any second, lost cases, tracking ids accepted twice.
2. Kill (fresh database): the same, but once half the invitations were accepted the service
   gets SIGKILL; the outbox is read (rows `sending` at the kill: in flight, claimed under a
   lease; accepted by the fake but not recorded `sent`: will go out again), then `sipas serve`
   starts again on the same database and the run waits until every case got its invitation.
   Duplicates must be at most the rows in flight at the kill (the dispatcher claims at most
   `max_in_flight` rows).
3. Baseline: `bench.zns.bare_sender` posts the same bodies (the product's, one per case) to the
   same fake at the same rate with a token bucket.

Prints markdown tables, writes `bench/results/zns-fanout-<UTC>[-quick].json`; exits 2 if a
target was missed, 1 if the run could not complete.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import secrets
import signal
import sys
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bench.fanout.procs import free_port, postgres_pids
from bench.fanout.stats import CpuMeter
from bench.zalo_oa.common import (
    ACCESS_TOKEN,
    DEFAULT_ADMIN_DSN,
    RESULTS_DIR,
    Database,
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
    wait_quiet,
)
from bench.zalo_oa.fanout import post_cases
from bench.zns import arrivals, report
from bench.zns.control import RATING_ID, FakeZns
from bot.cli.cases import sample_event
from bot.outbox.dispatcher import Dispatcher
from tests.fakes.zalo_zns_api import templates_setting

NAME = "zns-fanout"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
OA_RATE = 50  # ZALO_OA_RATE_PER_SECOND: the OA sends nothing here
_DISPATCHER = inspect.signature(Dispatcher).parameters
MAX_IN_FLIGHT = int(_DISPATCHER["max_in_flight"].default)  # the composition root keeps these
LEASE_SECONDS = float(_DISPATCHER["lease_seconds"].default)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.zns",
        description="ZNS rating invitations under ZALO_ZNS_RATE_PER_SECOND, and across kill -9.",
    )
    parser.add_argument("--quick", action="store_true", help="300 cases (≈ 2 min)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, help="cases invited per phase (2000; quick 300)")
    parser.add_argument("--rate", type=int, default=20, help="ZALO_ZNS_RATE_PER_SECOND (20)")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="share accepted before the kill (0.5)"
    )
    parser.add_argument(
        "--phases", default="steady,kill,baseline", help="which phases (steady,kill,baseline)"
    )
    parser.add_argument("--post-concurrency", type=int, default=32)
    parser.add_argument(
        "--quiet-wait", type=float, help="s to wait for a ≥ 85%% idle machine (15; quick 2)"
    )
    parser.add_argument("--pg-admin", default=DEFAULT_ADMIN_DSN)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs)")
    args = parser.parse_args(argv)
    args.cases = args.cases or (300 if args.quick else 2000)
    if args.quiet_wait is None:
        args.quiet_wait = 2.0 if args.quick else 15.0
    phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    if not phases <= {"steady", "kill", "baseline"}:
        parser.error("--phases: steady, kill, baseline")
    if "baseline" in phases and "steady" not in phases:
        parser.error("the baseline sends the bodies of the steady phase")
    if not 0 < args.kill_at < 1 or args.cases < 20 or args.rate < 1:
        parser.error("--kill-at in (0, 1), --cases ≥ 20, --rate ≥ 1")
    args.phases = phases
    return args


def local_now() -> datetime:
    return datetime.now(ZONE).replace(tzinfo=None)


def phone(i: int) -> str:
    """A distinct mobile number per case, as the one-stop system sends it (09…)."""
    return f"09{i:08d}"


class ZnsBench:
    """One run: the fake, the steady phase, the kill phase, the baseline."""

    def __init__(self, args: argparse.Namespace, work: Path, http: aiohttp.ClientSession):
        self.args = args
        self.work = work
        self.http = http
        self.fake = FakeZns(http)
        self.notes: list[str] = []
        self.rid = secrets.token_hex(2).upper()

    def codes(self, tag: str) -> list[str]:
        return [f"ZN{tag}-{self.rid}-{i:06d}" for i in range(self.args.cases)]

    def env(self, db: Database) -> dict[str, str]:
        env = service_env(
            database_url=db.url,
            port=free_port(),
            stub_url=self.fake.oa_url,
            oa_rate=OA_RATE,
            api_token=secrets.token_urlsafe(24),
        )
        env["ZALO_ZNS_API_BASE_URL"] = self.fake.url
        env["ZALO_ZNS_TEMPLATES"] = templates_setting()
        env["ZALO_ZNS_RATE_PER_SECOND"] = str(self.args.rate)
        return env

    def with_port(self, env: dict[str, str]) -> dict[str, str]:
        port = free_port()
        return env | {"SIPAS_HTTP_PORT": str(port), "SIPAS_PUBLIC_URL": f"http://127.0.0.1:{port}"}

    def bodies(self, codes: list[str]) -> list[dict[str, Any]]:
        returned = local_now() - timedelta(minutes=1)
        found = []
        for i, code in enumerate(codes):
            body = sample_event(code, 10, returned)
            body["SoDienThoai"] = phone(i)
            found.append(body)
        return found

    def timeout(self) -> float:
        return self.args.cases / self.args.rate * 1.5 + 90

    async def run(self) -> dict[str, Any]:
        result: dict[str, Any] = {"notes": self.notes}
        await self.fake.start(self.work)
        try:
            bodies: list[dict[str, Any]] = []
            if "steady" in self.args.phases:
                result["steady"], bodies = await self.steady()
            if "kill" in self.args.phases:
                result["kill"] = await self.kill()
            if "baseline" in self.args.phases:
                result["baseline"] = await self.baseline(bodies)
        finally:
            self.fake.stop()
        return result

    async def steady(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        args = self.args
        codes = self.codes("S")
        async with fresh_database(args.db, self.work, args.pg_admin, "zns_steady") as db:
            child, url = await start_service(self.work, self.env(db), "steady")
            try:
                idle = await wait_quiet(NAME, args.quiet_wait, self.notes)
                assert self.fake.child is not None
                meter = CpuMeter(
                    {
                        "service": [child.pid],
                        "fake": [self.fake.child.pid],
                        "bench": [os.getpid()],
                        "postgres": postgres_pids() if db.kind == "postgres" else [],
                    }
                )
                since = await self.fake.state()
                cpu0 = meter.sample()
                started = time.time()
                await post_cases(self.http, url, self.bodies(codes), args.post_concurrency)
                posted_at = time.time()
                cpu_posted = meter.sample()
                posted_s = posted_at - started
                log(NAME, f"steady: {len(codes)} status-10 events in {posted_s:.1f} s")
                done = await self.fake.wait_cases(since, set(codes), self.timeout())
                cpu1 = meter.sample()
                wall = time.time() - started
                await asyncio.sleep(3.0)  # a late duplicate would arrive here
                calls = await self.fake.calls(since[0], bodies=True)
                outbox = await self.outbox(db)
            finally:
                child.stop()
        found = arrivals.analyse(
            calls, set(codes), template_id=RATING_ID, limit=args.rate, started_at=started
        )
        late = sum(1 for c in arrivals.accepted(calls, RATING_ID) if c["t"] >= posted_at)
        found.update(
            sent_after_intake=late,
            events_posted_s=round(posted_s, 2),
            timed_out=not done,
            idle_before=idle,
            cpu=meter.usage(cpu0, cpu1, wall),
            cpu_after_intake=meter.usage(cpu_posted, cpu1, wall - posted_s),
            outbox=outbox,
            service_log=log_problems(child),
        )
        log(
            NAME,
            f"steady: {found['delivered_cases']} of {len(codes)} cases invited, steady "
            f"{found['steady_per_s']}/s ({found['steady_pct_of_limit']} % of {args.rate}), "
            f"{found['lost']} lost, {found['duplicated']} twice",
        )
        return found, arrivals.first_bodies(calls, RATING_ID)

    async def outbox(self, db: Database) -> dict[str, int]:
        rows = await query(db, "SELECT status, count(*) FROM outbox WHERE kind = 'zns' GROUP BY 1")
        return {str(status): int(count) for status, count in rows}

    async def kill(self) -> dict[str, Any]:
        args = self.args
        codes = self.codes("K")
        cases = set(codes)
        kill_after = max(1, int(len(codes) * args.kill_at))
        async with fresh_database(args.db, self.work, args.pg_admin, "zns_kill") as db:
            env = self.env(db)
            first, url = await start_service(self.work, env, "kill-first")
            try:
                idle = await wait_quiet(NAME, args.quiet_wait, self.notes)
                since = await self.fake.state()
                started = time.time()
                await post_cases(self.http, url, self.bodies(codes), args.post_concurrency)
                if not await self.fake.wait_accepted(since, kill_after, self.timeout()):
                    raise RuntimeError(f"fewer than {kill_after} invitations before the kill")
            finally:
                first.stop(sig=signal.SIGKILL)
            killed_at = time.time()
            log(NAME, f"kill: SIGKILL after {kill_after} accepted ({killed_at - started:.1f} s)")
            await asyncio.sleep(0.5)  # a send on the wire at the kill lands (or not) by now
            before = await self.fake.calls(since[0])
            rows = await query(
                db, "SELECT survey_id, status FROM outbox WHERE kind = 'zns' ORDER BY id"
            )
            at_kill = {str(status): 0 for _, status in rows}
            for _, status in rows:
                at_kill[str(status)] += 1
            recorded = {str(sid) for sid, status in rows if status == "sent"}
            sending = {str(sid) for sid, status in rows if status == "sending"}
            accepted_before = [c for c in arrivals.accepted(before, RATING_ID)]
            unrecorded = {str(c["tracking_id"]) for c in accepted_before} - recorded
            second, _url = await start_service(self.work, self.with_port(env), "kill-restart")
            restarted_at = time.time()
            try:
                done = await self.fake.wait_cases(since, cases, self.timeout() + LEASE_SECONDS)
                finished_at = time.time()
                await asyncio.sleep(3.0)
                calls = await self.fake.calls(since[0])
                outbox = await self.outbox(db)
            finally:
                second.stop()
        found = arrivals.analyse(
            calls, cases, template_id=RATING_ID, limit=args.rate, started_at=started
        )
        after = [c for c in arrivals.accepted(calls, RATING_ID) if c["t"] >= restarted_at]
        twice = set(found["duplicated_tracking_ids"])
        found.update(
            idle_before=idle,
            timed_out=not done,
            accepted_before_kill=len(accepted_before),
            killed_after_s=round(killed_at - started, 2),
            outbox_at_kill=at_kill,
            in_flight_at_kill=len(sending),
            accepted_not_recorded=len(unrecorded),
            duplicates_predicted=len(twice & unrecorded),
            duplicates_unexplained=len(twice - unrecorded),
            restart_after_kill_s=round(restarted_at - killed_at, 2),
            first_after_restart_s=round(after[0]["t"] - restarted_at, 2) if after else None,
            all_delivered_after_restart_s=round(finished_at - restarted_at, 2),
            sent_after_restart=len(after),
            dispatcher_max_in_flight=MAX_IN_FLIGHT,
            lease_s=LEASE_SECONDS,
            outbox=outbox,
            service_log={"first": log_problems(first), "restart": log_problems(second)},
        )
        log(
            NAME,
            f"kill: {found['in_flight_at_kill']} in flight at the kill, "
            f"{found['accepted_not_recorded']} accepted but not recorded; after the restart "
            f"{found['lost']} lost, {found['duplicated']} twice",
        )
        return found

    async def baseline(self, bodies: list[dict[str, Any]]) -> dict[str, Any]:
        args = self.args
        path, out = self.work / "bodies.json", self.work / "bare-sender.json"
        path.write_text(json.dumps(bodies, ensure_ascii=False), encoding="utf-8")
        cases = {str(b["template_data"]["ma_ho_so"]) for b in bodies}
        idle = await wait_quiet(NAME, args.quiet_wait, self.notes)
        since = await self.fake.state()
        log(NAME, f"baseline: {len(bodies)} template POSTs by a token bucket at {args.rate}/s")
        started = time.time()
        argv = ["--url", self.fake.url, "--token", ACCESS_TOKEN, "--rate", str(args.rate)]
        argv += ["--bodies", str(path), "--out", str(out)]
        limit = len(bodies) / args.rate * 2 + 60
        code = await run_module(
            "bench.zns.bare_sender", argv, timeout=limit, log_path=self.work / "bare.log"
        )
        path.unlink(missing_ok=True)  # phone numbers: nothing of them stays behind
        if code != 0 or not out.exists():
            raise RuntimeError(f"the bare sender failed ({code})")
        calls = await self.fake.calls(since[0])
        found = arrivals.analyse(
            calls, cases, template_id=RATING_ID, limit=args.rate, started_at=started
        )
        found.update(sender=json.loads(out.read_text()), idle_before=idle)
        return found


async def run(args: argparse.Namespace, when: str) -> dict[str, Any]:
    config = {k: v for k, v in vars(args).items() if k != "pg_admin"}
    config["phases"] = sorted(args.phases)
    result: dict[str, Any] = {
        "benchmark": NAME,
        "stamp": when,
        "command": " ".join([".venv/bin/python -m bench.zns", *sys.argv[1:]]),
        "config": config,
        "machine": await machine(args.pg_admin if args.db == "postgres" else None),
    }
    with scratch("sipas-zns-bench-", args.keep) as tmp:
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=max(64, args.post_concurrency))
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            bench = ZnsBench(args, Path(tmp), http)
            try:
                result.update(await bench.run())
            except Exception as exc:
                traceback.print_exc()
                result["error"] = f"{type(exc).__name__}: {exc}"
                result["notes"] = bench.notes
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    when = stamp()
    started = time.monotonic()
    result = asyncio.run(run(args, when))
    result["runtime_s"] = round(time.monotonic() - started, 1)
    result["checks"] = report.checks(result)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{NAME}-{when}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(report.markdown(result))
    print(f"\nruntime {result['runtime_s']} s; JSON: {path.relative_to(RESULTS_DIR.parent.parent)}")
    if "error" in result:
        print(f"run aborted: {result['error']}", file=sys.stderr)
        return 1
    return 0 if all(check["met"] for check in result["checks"]) else 2


if __name__ == "__main__":
    raise SystemExit(main())
