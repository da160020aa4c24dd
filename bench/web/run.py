"""One run of the web survey benchmark: database, processes, setup, phases (see `__main__`).

Every phase sends from its own block of loopback addresses (127.<block>.x.y), at most
`PER_ADDRESS` requests from each, and no token gets more than `PER_TOKEN` requests in the run:
the page's limits (30 a minute per token, 600 per address) stay on and are never what a phase
measures. After each phase the run waits (`settle`, up to `SETTLE_LIMIT`) for the server to go
idle: requests the client gave up on are still being worked through and would disturb the next.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest.cpu import idle_share, process_cpu_seconds
from bench.ingest.targets import (
    PostgresDatabases,
    Server,
    free_port,
    python_module,
    service_env,
    sipas_executable,
)
from bench.web.loadgen import Plan, address
from bench.web.seed import Case, capture, prepare_posts, seed_cases, thanks_bytes
from bot.cli.cases import sample_event

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-web-onestop-secret-0123456789"
PER_ADDRESS = 400  # requests from one source address in a phase (the page allows 600/min)
PER_TOKEN = 20  # GETs of one token over the whole run (the page allows 30/min)
SETUP_BLOCK = 2  # 127.2.x.y: the setup's GETs; phases use 127.10.x.y and up
DISTURBED_PCT = 10.0
SETTLE_LIMIT = 30.0  # seconds a phase may wait for its server to finish abandoned requests
PROCEDURE = str(sample_event("X", 10, datetime(2026, 1, 1))["TenTTHC"])


class Run:
    """One benchmark run: scratch directory, database, processes, results."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tag = datetime.now(UTC).strftime("%H%M%S") + secrets.token_hex(2)
        self.workdir = Path(tempfile.mkdtemp(prefix="sipas-bench-web-"))
        self.pg = PostgresDatabases(args.pg_admin_dsn)
        self.pg_name = f"sipas_bench_web_{self.tag}" if args.db == "postgres" else None
        self.database_url = f"sqlite:///{self.workdir / 'service.db'}"
        self.phases: dict[str, Any] = {}
        self.notes: list[str] = []
        self.extra: dict[str, Any] = {}
        self.blocks = 10
        self.waited = 0.0
        self.cursor = 0  # next GET token to use, round robin over the run

    # -- sizes ----------------------------------------------------------------------------

    @property
    def open_count(self) -> int:
        return round(self.args.rate * (self.args.open_warmup + self.args.open_duration))

    @property
    def closed_count(self) -> int:
        return int((self.args.warmup + self.args.duration) * self.args.max_rps)

    @property
    def baseline_count(self) -> int:
        return int((self.args.warmup + self.args.duration) * self.args.baseline_max_rps)

    @property
    def get_tokens(self) -> int:
        # Only the service's phases count against the page's per-token limit.
        service_gets = self.open_count + self.args.rounds * self.closed_count
        return max(200, math.ceil(service_gets / PER_TOKEN) + 1)

    # -- phases ---------------------------------------------------------------------------

    def wait_quiet(self, label: str) -> None:
        """Bounded wait for a machine at least 85 % idle, so a phase starts undisturbed."""
        limit = min(self.args.quiet_wait, max(0.0, self.args.patience - self.waited))
        started = time.monotonic()
        idle = idle_share(0.5)
        while idle < 0.85 and time.monotonic() - started < limit:
            idle = idle_share(1.0)
        self.waited += max(0.0, time.monotonic() - started - 0.5)
        if idle < 0.85:
            note = f"{label}: machine only {idle:.0%} idle before the phase (other jobs running)"
            self.notes.append(note)
            print(f"WARNING: {note}", file=sys.stderr, flush=True)

    def get_paths(self, gets: list[Case], count: int) -> list[str]:
        start = self.cursor
        self.cursor += count
        return [gets[(start + i) % len(gets)].path for i in range(count)]

    def phase(
        self,
        key: str,
        server: Server,
        url: str,
        mode: str,
        paths: list[str],
        bodies: list[str] | None = None,
    ) -> dict[str, Any]:
        args = self.args
        block = self.blocks
        self.blocks += 1
        plan = Plan(
            url=url,
            method="GET" if bodies is None else "POST",
            paths=paths,
            bodies=bodies,
            expect_status=200 if bodies is None else 303,
            expect_text='id="survey"' if bodies is None else None,
            address_block=block,
            addresses=max(16, math.ceil(len(paths) / PER_ADDRESS)),
        )
        plan_path = self.workdir / f"{key}-{block}.plan.json"
        out = self.workdir / f"{key}-{block}.json"
        plan.dump(plan_path)
        if mode == "open":
            duration, warmup = args.open_duration, args.open_warmup
            extra = ["--rate", str(args.rate)]
        else:
            duration, warmup = args.duration, args.warmup
            extra = ["--concurrency", str(args.concurrency)]
        command = python_module(
            "bench.web.loadgen",
            "--plan",
            str(plan_path),
            "--mode",
            mode,
            "--duration",
            str(duration),
            "--warmup",
            str(warmup),
            "--timeout",
            str(args.timeout),
            "--server-pid",
            str(server.pid),
            "--out",
            str(out),
            *extra,
        )
        if self.pg_name:
            command += ["--pg-database", self.pg_name]
        self.wait_quiet(key)
        print(f"[{key}] {mode} loop, {plan.method} …", file=sys.stderr, flush=True)
        limit = warmup + duration + 2 * args.timeout + 60
        completed = subprocess.run(command, cwd=ROOT, timeout=limit, check=False)
        if completed.returncode != 0 or not out.exists():
            raise RuntimeError(f"load generator failed ({completed.returncode}) for {key}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        rate = result.get("rps") if mode == "closed" else result.get("achieved_rps")
        print(
            f"[{key}] {rate} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
            f"errors {result['errors']}",
            file=sys.stderr,
            flush=True,
        )
        result["settle_s"] = settle(server)
        return result

    def execute(self) -> None:
        args = self.args
        if self.pg_name:
            try:
                self.database_url = self.pg.create(self.pg_name)
            except Exception as exc:  # asyncpg's errors, refused connections
                raise RuntimeError(f"could not create the PostgreSQL database: {exc}") from exc
        with contextlib.ExitStack() as stack:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = service_env(database_url=self.database_url, port=port, secret=SECRET)
            started = time.monotonic()
            service = stack.enter_context(
                Server(
                    "sipas serve",
                    [sipas_executable(), "serve"],
                    env=env,
                    cwd=self.workdir,
                    log=self.workdir / "service.log",
                )
            )
            service.wait_ready(url + "/healthz")
            self.extra["service_startup_s"] = round(time.monotonic() - started, 2)

            gets_n, posts_n = self.get_tokens, self.open_count
            print(f"seeding {gets_n + posts_n + 1} cases …", file=sys.stderr, flush=True)
            started = time.monotonic()
            cases = asyncio.run(
                seed_cases(url, count=gets_n + posts_n + 1, prefix=f"W{self.tag}", secret=SECRET)
            )
            seeded_s = round(time.monotonic() - started, 1)
            gets, posts, sample = cases[:gets_n], cases[gets_n:-1], cases[-1]
            started = time.monotonic()
            bodies = asyncio.run(prepare_posts(url, posts, address_block=SETUP_BLOCK))
            template, sizes = asyncio.run(
                capture(url, sample, procedure=PROCEDURE, source=address(SETUP_BLOCK, 240))
            )
            self.extra["seeded"] = {
                "cases": len(cases),
                "get_tokens": len(gets),
                "post_tokens": len(posts),
                "seconds": seeded_s,
                "forms_opened_s": round(time.monotonic() - started, 1),
            }
            self.extra["page_bytes"] = sizes
            template_path = self.workdir / "template.json"
            template.dump(template_path)

            bport = free_port()
            burl = f"http://127.0.0.1:{bport}"
            benv = dict(os.environ, PYTHONPATH=str(ROOT))
            command = python_module(
                "bench.web.baseline",
                "--port",
                str(bport),
                "--database",
                self.database_url,
                "--template",
                str(template_path),
            )
            baseline = stack.enter_context(
                Server("baseline", command, env=benv, cwd=ROOT, log=self.workdir / "base.log")
            )
            baseline.wait_ready(burl + "/healthz")
            # The survey loop works through the seeded cases' events before the first phase.
            self.extra["seeded"]["settle_s"] = settle(service)

            open_paths = self.get_paths(gets, self.open_count)
            self.phases["get-service"] = self.phase("get-service", service, url, "open", open_paths)
            self.phases["post-service"] = self.phase(
                "post-service", service, url, "open", [c.path for c in posts], bodies
            )
            self.extra["surveys_completed"] = self.completed_surveys()
            sizes["thanks"] = asyncio.run(
                thanks_bytes(url, posts[0], source=address(SETUP_BLOCK, 241))
            )
            self.phases["get-baseline"] = self.phase(
                "get-baseline", baseline, burl, "open", open_paths
            )
            self.phases["closed-service"] = []
            self.phases["closed-baseline"] = []
            for _ in range(args.rounds):
                paths = self.get_paths(gets, self.closed_count)
                self.phases["closed-service"].append(
                    self.phase("closed-service", service, url, "closed", paths)
                )
                # The same tokens, cycled further: the baseline has no limits to stay under.
                paths = [gets[i % len(gets)].path for i in range(self.baseline_count)]
                self.phases["closed-baseline"].append(
                    self.phase("closed-baseline", baseline, burl, "closed", paths)
                )
            for name, server in (("service", service), ("baseline", baseline)):
                code = server.stop()
                if code not in (0, None):
                    self.notes.append(f"{name} exited with {code}: {server.log_tail(5)}")

    def completed_surveys(self) -> int:
        sql = "SELECT count(*) FROM surveys WHERE status = 'completed'"
        if self.pg_name is None:
            path = self.database_url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(path)) as db:
                return int(db.execute(sql).fetchone()[0])

        async def count() -> int:
            import asyncpg

            conn = await asyncpg.connect(self.database_url, timeout=10)
            try:
                return int(await conn.fetchval(sql))
            finally:
                await conn.close()

        return asyncio.run(count())

    def cleanup(self) -> None:
        for failure in self.pg.drop_all():
            print(f"could not drop database {failure}", file=sys.stderr)
        shutil.rmtree(self.workdir, ignore_errors=True)


def settle(server: Server, limit: float = SETTLE_LIMIT) -> float:
    """Wait (bounded) until `server` is idle: requests the client gave up on are still being
    worked through, and would disturb the next phase. The seconds it took."""
    started = time.monotonic()
    before = process_cpu_seconds(server.pid)
    while time.monotonic() - started < limit:
        time.sleep(0.5)
        now = process_cpu_seconds(server.pid)
        if now - before < 0.05:  # under 10 % of a core over half a second
            break
        before = now
    return round(time.monotonic() - started, 1)
