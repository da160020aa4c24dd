"""The CPU and the SQL statements of one web survey POST, measured in-process.

`.venv/bin/python -m bench.web.profile_post [--posts 400] [--db-url URL] [--profile] [--gets]`

Starts the whole service in this process (`bot.app.create_app`, scheduler off) on a fresh,
migrated SQLite database (or `--db-url`, an empty migrated database of your own), delivers
cases at the survey status through the signed intake, opens each form once (its `csrf` and
`v`), then POSTs the benchmark's bodies (`bench.web.seed.answers`: every fifth low, one in
fifty a complaint) one at a time, so nothing else runs while a POST is being handled.

Reported per POST: the server's CPU inside the handler (process CPU time, threads included:
aiosqlite works on its own thread, from the route's middleware entry to its exit; the client
waits meanwhile), the whole process's CPU (client and HTTP parsing included), the wall time,
and the SQL statements executed (SQLAlchemy `before_cursor_execute`). `--profile`: cProfile
of the event-loop thread over the POSTs, top functions by own and by cumulative time.
`--gets` measures GETs of the form the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import event

from bench.ingest.profile import summarize
from bench.web.seed import prepare_posts, seed_cases
from bot.app import create_app
from bot.config import Settings
from bot.web.keys import ENGINE
from storage.db import migrate_async

SECRET = "bench-web-onestop-secret-0123456789"


class Meter:
    """CPU and statements inside the handlers of `/s/<token>` (one request at a time)."""

    def __init__(self) -> None:
        self.cpu: dict[str, list[float]] = collections.defaultdict(list)
        self.statements: dict[str, list[int]] = collections.defaultdict(list)
        self.kinds: collections.Counter[str] = collections.Counter()
        self.current: str | None = None
        self.counted = 0

    def on_statement(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if self.current is not None:
            self.counted += 1
            self.kinds[f"{self.current}: {statement.split(None, 1)[0].upper()}"] += 1

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith("/s/"):
            return await handler(request)
        self.current, self.counted = request.method, 0
        started = time.process_time()
        try:
            return await handler(request)
        finally:
            self.cpu[request.method].append(time.process_time() - started)
            self.statements[request.method].append(self.counted)
            self.current = None


async def _sequential(
    session: aiohttp.ClientSession, url: str, calls: list[dict[str, Any]]
) -> list[int]:
    statuses = []
    for call in calls:
        async with session.request(url=url + call.pop("path"), allow_redirects=False, **call) as r:
            await r.read()
            statuses.append(r.status)
    return statuses


async def _reference_path(app: web.Application) -> None:
    """The page as it was before the raw-driver store: SQLAlchemy's `WebSurveyStore` and the
    case by `CaseReader.by_link` (for before/after figures in one session)."""
    from bot.survey import web_form
    from bot.web import survey_page
    from bot.web.keys import SURVEYS
    from storage.web_surveys import WebSurveyStore

    driver = app[survey_page.DRIVER]
    await driver.close()
    del app[survey_page.DRIVER]
    app[survey_page.WEB_SURVEYS] = web_form.WebSurveys(
        survey=app[SURVEYS], store=WebSurveyStore(app[ENGINE])
    )


def _trace_raw_sqlite(meter: Meter) -> None:
    """Count the statements the page runs on its own SQLite connection (raw driver) too."""
    from storage.rawsql import SqliteWriter

    original = SqliteWriter._connection

    def traced(self: Any) -> Any:
        conn = original(self)
        if not getattr(self, "_traced", False):
            conn.set_trace_callback(lambda sql: meter.on_statement(None, None, sql))
            self._traced = True
        return conn

    SqliteWriter._connection = traced  # type: ignore[method-assign]


SECTIONS: dict[str, list[float]] = collections.defaultdict(list)


def _time_sections(targets: list[tuple[Any, str]]) -> None:
    """Wrap async methods so their process CPU is summed per name (not nested-aware)."""
    for owner, name in targets:
        original = getattr(owner, name)
        label = f"{owner.__name__}.{name}"

        async def timed(*a: Any, __o: Any = original, __l: str = label, **k: Any) -> Any:
            started = time.process_time()
            try:
                return await __o(*a, **k)
            finally:
                SECTIONS[__l].append(time.process_time() - started)

        setattr(owner, name, timed)


def _start_spy(raw: str) -> subprocess.Popen[bytes]:
    """py-spy sampling this process (raw stacks to `raw`), started and given a moment."""
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(os.getpid()),
            "--format",
            "raw",
            "--output",
            raw,
            "--rate",
            "500",
            "--nonblocking",
            "--gil",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    return spy


def _summary(label: str, values: list[float], wall: float, process: float, count: int) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{label}: {count} requests; handler CPU ms mean {statistics.fmean(ms):.2f} "
        f"median {statistics.median(ms):.2f} p90 {statistics.quantiles(ms, n=10)[-1]:.2f}; "
        f"whole process CPU ms/req {process * 1000 / count:.2f}; wall ms/req "
        f"{wall * 1000 / count:.2f}"
    )


async def main(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="sipas-profile-post-"))
    url = args.db_url or f"sqlite+aiosqlite:///{workdir}/sipas.db"
    try:
        if not args.db_url:
            await migrate_async(url)
        settings = Settings(
            _env_file=None,
            database_url=url,
            onestop_secrets=[SECRET],
            api_token="profile-api-token-0123456789",
            secret_key="profile-link-key",
            log_format="text",
            log_level="WARNING",
            scheduler_enabled=False,
        )
        if args.sections:
            from bot.heads.service import AlertService
            from bot.survey.web_form import WebSurveys
            from storage.cases import CaseReader
            from storage.web_surveys import WebSurveyStore

            _time_sections(
                [
                    (CaseReader, "by_link"),
                    (WebSurveyStore, "state"),
                    (WebSurveyStore, "complete"),
                    (WebSurveys, "view"),
                    (WebSurveys, "submit"),
                    (AlertService, "on_survey_completed"),
                ]
            )
        meter = Meter()
        _trace_raw_sqlite(meter)
        app = create_app(settings)
        app.middlewares.insert(0, meter.middleware)
        if args.reference:
            app.on_startup.append(_reference_path)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            event.listen(app[ENGINE].sync_engine, "before_cursor_execute", meter.on_statement)
            base = str(server.make_url("")).rstrip("/")
            count = args.posts + args.warmup
            cases = await seed_cases(base, count=count, prefix="PRF", secret=SECRET)
            bodies = await prepare_posts(base, cases, address_block=3)
            meter.cpu.clear()
            meter.statements.clear()
            meter.kinds.clear()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            calls = [
                {"method": "POST", "path": c.path, "data": b.encode(), "headers": headers}
                for c, b in zip(cases, bodies, strict=True)
            ]
            connector = aiohttp.TCPConnector(limit=1, local_addr=("127.4.0.1", 0))
            async with aiohttp.ClientSession(connector=connector) as session:
                await _sequential(session, base, calls[: args.warmup])
                meter.cpu.clear()
                meter.statements.clear()
                meter.kinds.clear()
                SECTIONS.clear()
                profiler = cProfile.Profile() if args.profile else None
                spy = _start_spy(args.spy) if args.spy else None
                wall, process = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                statuses = await _sequential(session, base, calls[args.warmup :])
                if profiler:
                    profiler.disable()
                wall, process = time.perf_counter() - wall, time.process_time() - process
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(30)
                    print(summarize(Path(args.spy), top=args.top))
                print(collections.Counter(statuses))
                print(_summary("POST", meter.cpu["POST"], wall, process, len(statuses)))
                print(
                    "SQL statements per POST: mean "
                    f"{statistics.fmean(meter.statements['POST']):.2f}, distribution "
                    f"{sorted(collections.Counter(meter.statements['POST']).items())}"
                )
                by_count: dict[int, list[float]] = collections.defaultdict(list)
                for cpu, n in zip(meter.cpu["POST"], meter.statements["POST"], strict=True):
                    by_count[n].append(cpu * 1000)
                for n, cpus in sorted(by_count.items()):
                    print(
                        f"  POSTs with {n} statements: {len(cpus)}, handler CPU ms mean "
                        f"{statistics.fmean(cpus):.2f} median {statistics.median(cpus):.2f}"
                    )
                for label, values in SECTIONS.items():
                    print(
                        f"  section {label}: {len(values) / len(statuses):.2f} calls/POST, "
                        f"{sum(values) * 1000 / len(statuses):.2f} CPU ms/POST"
                    )
                for kind, n in meter.kinds.most_common():
                    print(f"  {kind}: {n / len(statuses):.2f} per request")
                if args.gets:
                    gets = [{"method": "GET", "path": c.path} for c in cases[args.warmup :]]
                    await session.close()
                    session = aiohttp.ClientSession(  # a fresh address: the limit is 600/min
                        connector=aiohttp.TCPConnector(limit=1, local_addr=("127.4.0.2", 0))
                    )
                    meter.kinds.clear()
                    wall, process = time.perf_counter(), time.process_time()
                    got = await _sequential(session, base, gets)
                    wall, process = time.perf_counter() - wall, time.process_time() - process
                    print(collections.Counter(got))
                    print(_summary("GET (thank-you)", meter.cpu["GET"], wall, process, len(got)))
                    print(
                        f"SQL statements per GET: {statistics.fmean(meter.statements['GET']):.2f}"
                    )
                    await session.close()
                if profiler:
                    stats = pstats.Stats(profiler, stream=sys.stdout)
                    stats.sort_stats("tottime").print_stats(args.top)
                    stats.sort_stats("cumulative").print_stats(args.top)
        finally:
            await server.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--db-url", default=None, help="a migrated database (default: SQLite)")
    parser.add_argument("--profile", action="store_true", help="cProfile the POSTs")
    parser.add_argument("--gets", action="store_true", help="then GET each page once")
    parser.add_argument("--spy", default=None, help="py-spy raw output file (GIL samples)")
    parser.add_argument("--reference", action="store_true", help="the former path (SQLAlchemy)")
    parser.add_argument("--sections", action="store_true", help="CPU of the main steps")
    parser.add_argument("--top", type=int, default=40)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
