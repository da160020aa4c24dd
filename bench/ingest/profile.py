"""Profile the real service under the closed-loop load: where does its time go?

`.venv/bin/python -m bench.ingest.profile [--backend postgresql|sqlite] [--duration 8]`

Starts `sipas serve` on a fresh database, drives it with the same load generator as the
benchmark, and meanwhile:
- samples the server with py-spy (`pip install py-spy` into .venv; `--gil`: only while the
  server holds the GIL, i.e. Python CPU, not time spent waiting in system calls), and
- on PostgreSQL, samples `pg_stat_activity` wait events of the service's connections every
  100 ms and counts the connections the service opened.

Prints self time by package and by function, inclusive time of the service's own functions,
and the wait events; writes the raw py-spy stacks next to the benchmark results.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.ingest.__main__ import DEFAULT_ADMIN_DSN, RESULTS_DIR
from bench.ingest.payloads import DEFAULT_SECRET
from bench.ingest.targets import (
    PostgresDatabases,
    Server,
    free_port,
    python_module,
    service_env,
    sipas_executable,
)

PACKAGES = ("sqlalchemy", "asyncpg", "aiosqlite", "aiohttp", "asyncio", "json", "prometheus")


def _py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def _package(frame: str) -> str:
    where = frame.rpartition("(")[2]
    for name in PACKAGES:
        if where.startswith(name + "/"):
            return name
    if where.startswith(("bot/", "storage/", "scoring/", "scheduler/")):
        return "service code (" + where.split("/", 1)[0] + "/)"
    if where.startswith("sqlite3/"):
        return "aiosqlite"
    return "other (stdlib, greenlet, …)" if where else "native / unknown"


def summarize(raw: Path, top: int = 25) -> str:
    """Self time by package and function, inclusive time of service functions."""
    self_fn: collections.Counter[str] = collections.Counter()
    self_pkg: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        self_fn[frames[-1]] += n
        self_pkg[_package(frames[-1])] += n
        for frame in set(frames):
            if "(bot/" in frame or "(storage/" in frame:
                inclusive[frame] += n
    if not total:
        return "py-spy recorded no samples"
    out = [f"{total} samples while holding the GIL", "", "self time by package:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_pkg.most_common()]
    out += ["", f"self time, top {top} functions:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_fn.most_common(top)]
    out += [
        "",
        "inclusive time of service functions (greenlet frames are cut off, so the",
        "share under SQLAlchemy's sync execute appears as its own root):",
    ]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(out)


class WaitSampler(threading.Thread):
    """Counts wait events of the service's PostgreSQL connections, every 100 ms."""

    def __init__(self, dsn: str, database: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.database = database
        self.counts: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.dsn)
        try:
            while not self.stop.is_set():
                rows = await conn.fetch(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    self.database,
                )
                self.samples += 1
                for row in rows:
                    event = f"{row['wait_event_type'] or 'CPU'}:{row['wait_event'] or '-'}"
                    self.counts[f"{row['state']:<8} {event}"] += 1
                await asyncio.sleep(0.1)
        finally:
            await conn.close()

    def report(self) -> str:
        if not self.samples:
            return "no pg_stat_activity samples"
        lines = [f"pg_stat_activity, mean connections per sample ({self.samples} samples):"]
        lines += [f"  {n / self.samples:6.2f}  {key}" for key, n in self.counts.most_common(12)]
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.profile")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--duration", type=float, default=8.0, help="profiled seconds (8)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--pg-admin-dsn", default=DEFAULT_ADMIN_DSN)
    parser.add_argument("--service-cmd", help="instead of `.venv/bin/sipas serve`")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    spy = _py_spy()
    if spy is None:
        print("py-spy not found: .venv/bin/pip install py-spy", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="sipas-profile-"))
    pg = PostgresDatabases(args.pg_admin_dsn)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    raw = args.results_dir / f"ingest-profile-{args.backend}-{stamp}.txt"
    database = f"sipas_bench_profile_{secrets.token_hex(3)}"
    try:
        if args.backend == "postgresql":
            url = pg.create(database)
        else:
            url = f"sqlite:///{workdir / 'profile.db'}"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = shlex.split(args.service_cmd) if args.service_cmd else [sipas_executable()]
        if not args.service_cmd:
            command.append("serve")
        env = service_env(database_url=url, port=port, secret=DEFAULT_SECRET)
        with Server("service", command, env=env, cwd=workdir, log=workdir / "serve.log") as srv:
            srv.wait_ready(base + "/healthz")
            before = pg.counters(database) if args.backend == "postgresql" else None
            warmup = 2.0
            load = subprocess.Popen(
                python_module(
                    "bench.ingest.loadgen",
                    "--url", base, "--mode", "closed", "--prefix", f"PROF{stamp[-7:-1]}",
                    "--duration", str(args.duration + 1.0), "--warmup", str(warmup),
                    "--concurrency", str(args.concurrency),
                    "--max-requests", str(int((args.duration + 3) * 4000)),
                    "--out", str(workdir / "load.json"), "--server-pid", str(srv.pid),
                    *(["--pg-database", database] if args.backend == "postgresql" else []),
                )
            )  # fmt: skip
            sampler = None
            if args.backend == "postgresql":
                sampler = WaitSampler(args.pg_admin_dsn, database)
            time.sleep(warmup + 1.5)  # request building, then warm-up
            if sampler:
                sampler.start()
            subprocess.run(
                [spy, "record", "--pid", str(srv.pid), "--duration", str(int(args.duration)),
                 "--rate", str(args.rate), "--gil", "--nonblocking", "--format", "raw",
                 "--output", str(raw)],
                check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=args.duration + 30,
            )  # fmt: skip
            if sampler:
                sampler.stop.set()
                sampler.join(5)
            load.wait(timeout=args.duration + 60)
            after = pg.counters(database) if before else None
        result = (workdir / "load.json").read_text() if (workdir / "load.json").exists() else ""
        print(f"service on {args.backend}, {args.concurrency} workers")
        if result:
            import json

            data = json.loads(result)
            cpu = data.get("cpu", {})
            split = ", ".join(
                f"{who} {cpu.get(f'{who}_cpu_ms_per_req')}"
                for who in ("server", "pg", "loadgen", "other")
            )
            print(
                f"load: {data['rps']} req/s, p50 {data['p50_ms']} ms, p99 {data['p99_ms']} ms, "
                f"errors {data['errors']}; CPU ms/req: {split} (machine busy "
                f"{cpu.get('machine_busy_pct')}%)"
            )
        if before and after:
            opened = after.get("sessions", 0) - before.get("sessions", 0)
            commits = after.get("commits", 0) - before.get("commits", 0)
            print(
                f"PostgreSQL during the load: {opened} connections opened, {commits} "
                "transactions committed"
            )
        print()
        print(summarize(raw) if raw.exists() else "py-spy wrote nothing (ptrace not permitted?)")
        if sampler:
            print()
            print(sampler.report())
        print(f"\nraw stacks: {raw}")
    finally:
        pg.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
