"""What both Zalo OA benchmarks share: the app's credentials, signed webhook events, the
processes (stub OA API, `sipas serve` with the OA on), fresh databases, the machine's state.

Processes are `bench.fanout.procs.Child`ren on free loopback ports, stopped with TERM then
KILL; PostgreSQL databases are created for the run and dropped after it. Webhook bodies and
their `X-ZEvent-Signature` come from the fake OA's own code (`tests/fakes/zalo_oa_events.py`),
not the product's, so a signing bug on either side shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.fanout.procs import Child, free_port, wait_http
from bench.ingest.cpu import idle_share
from tests.fakes.zalo_oa_events import SIGNATURE_HEADER, EventFactory, compact, signature

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "bench" / "results"
PYTHON = sys.executable
DEFAULT_ADMIN_DSN = os.environ.get(
    "SIPAS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

APP_ID = "4318552104707811904"
APP_SECRET = "bench-zalo-app-secret"
OA_ID = "2891427320125106187"
OA_SECRET_KEY = "bench-zalo-oa-secret-key"
ACCESS_TOKEN = "bench-oa-access-token-0"
REFRESH_TOKEN = "bench-oa-refresh-token-0"
ONESTOP_SECRET = "bench-zalo-onestop-secret"
WEBHOOK_PATH = "/zalo/webhook"
EVENTS = EventFactory(app_id=APP_ID, oa_id=OA_ID)
Request = tuple[bytes, dict[str, str]]


def log(bench: str, message: str) -> None:
    print(f"[{bench} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def user_text(user_id: str, text: str, msg_id: str, ts_ms: int) -> Request:
    """A signed `user_send_text` webhook request (body, headers), as Zalo sends it."""
    body = EVENTS.user_text(user_id, text, msg_id, ts_ms)
    raw = compact(body)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(APP_ID, raw, str(body["timestamp"]), OA_SECRET_KEY),
    }
    return raw, headers


def base_env() -> dict[str, str]:
    """The environment children inherit: ours, without any SIPAS_/TELEGRAM_/ZALO_ setting."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "TELEGRAM_", "ZALO_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def service_env(
    *, database_url: str, port: int, stub_url: str, oa_rate: int, api_token: str
) -> dict[str, str]:
    """`sipas serve` with only the Zalo OA channel on, every Zalo base URL at the stub."""
    return {
        **base_env(),
        "SIPAS_DATABASE_URL": database_url,
        "SIPAS_HTTP_HOST": "127.0.0.1",
        "SIPAS_HTTP_PORT": str(port),
        "SIPAS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SIPAS_ONESTOP_SECRETS": ONESTOP_SECRET,
        "SIPAS_API_TOKEN": api_token,
        "SIPAS_SECRET_KEY": "bench-zalo-link-key-0123456789abcdef",
        "SIPAS_CONTACT_KEY": "bench-zalo-contact-key-0123456789ab",
        "SIPAS_QUIET_HOURS": "",
        "SIPAS_LOG_LEVEL": "WARNING",
        "SIPAS_LOG_FORMAT": "text",
        "TELEGRAM_BOT_TOKEN": "",
        "ZALO_APP_ID": APP_ID,
        "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_OA_ID": OA_ID,
        "ZALO_OA_SECRET_KEY": OA_SECRET_KEY,
        "ZALO_OA_ACCESS_TOKEN": ACCESS_TOKEN,
        "ZALO_OA_REFRESH_TOKEN": REFRESH_TOKEN,
        "ZALO_OA_API_BASE_URL": stub_url,
        "ZALO_OAUTH_BASE_URL": stub_url,
        "ZALO_ZNS_API_BASE_URL": stub_url,
        "ZALO_OA_RATE_PER_SECOND": str(oa_rate),
    }


async def start_stub(workdir: Path, name: str = "stub-oa") -> tuple[Child, str]:
    """The stub OA API (`bench.zalo_oa.stub_oa`) in its own process; returns it and its URL."""
    port = free_port()
    argv = [PYTHON, "-m", "bench.zalo_oa.stub_oa", "--port", str(port)]
    argv += ["--access-token", ACCESS_TOKEN, "--refresh-token", REFRESH_TOKEN]
    argv += ["--app-secret", APP_SECRET]
    child = Child(name, argv, base_env(), workdir)
    child.start()
    url = f"http://127.0.0.1:{port}"
    await wait_http(child, f"{url}/_stub/health", 30)
    return child, url


async def start_service(
    workdir: Path, env: dict[str, str], name: str = "service", timeout: float = 90.0
) -> tuple[Child, str]:
    """`sipas serve` (it migrates first) started in `workdir`, so no `.env` leaks in."""
    child = Child(name, [PYTHON, "-m", "bot.cli", "serve"], env, workdir)
    child.start()
    url = env["SIPAS_PUBLIC_URL"]
    await wait_http(child, f"{url}/healthz", timeout)
    return child, url


@dataclass
class Database:
    """A fresh database of one kind: the URL the service and the baselines are given."""

    kind: str  # "sqlite" | "postgres"
    url: str  # postgresql://… or sqlite:///absolute/path
    pg_name: str | None = None  # the PostgreSQL database's name (CPU accounting)


@contextlib.asynccontextmanager
async def fresh_database(
    kind: str, workdir: Path, admin_dsn: str, tag: str
) -> AsyncIterator[Database]:
    """A new SQLite file in `workdir`, or a new PostgreSQL database dropped on exit."""
    if kind == "sqlite":
        yield Database(kind, f"sqlite:///{workdir / (tag + '.db')}")
        return
    name = f"sipas_bench_zoa_{tag}_{os.getpid()}"
    admin = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield Database(kind, admin_dsn.rsplit("/", 1)[0] + "/" + name, name)
    finally:
        admin = await asyncpg.connect(admin_dsn, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


class Stub:
    """The stub OA API's control routes (`/_stub/...`)."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self._http = http

    async def _json(self, method: str, path: str, **request: Any) -> Any:
        async with self._http.request(method, f"{self.url}/_stub/{path}", **request) as response:
            response.raise_for_status()
            return await response.json()

    async def count(self) -> int:
        return int((await self._json("GET", "state"))["calls"])

    async def arm(
        self, *, rate_limited: Sequence[int] = (), unavailable: Sequence[int] = ()
    ) -> None:
        """From now on, message call number i (0-based, counted from now) is refused with
        -32 if i is in `rate_limited`, with HTTP 503 if in `unavailable`."""
        plan = {"rate_limited": list(rate_limited), "unavailable": list(unavailable)}
        await self._json("POST", "arm", json=plan)

    async def calls(self, since: int = 0, *, bodies: bool = False) -> list[dict[str, Any]]:
        params = {"since": str(since), "bodies": "1" if bodies else "0"}
        return list(await self._json("GET", "calls", params=params))


async def post_all(
    http: aiohttp.ClientSession, url: str, requests: Sequence[Request], concurrency: int
) -> dict[int, int]:
    """POST every request (at most `concurrency` at once); status counts (0: no answer)."""
    semaphore = asyncio.Semaphore(concurrency)
    statuses: dict[int, int] = {}

    async def one(request: Request) -> None:
        body, headers = request
        async with semaphore:
            status = 0
            try:
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError, OSError):
                pass
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one(r) for r in requests))
    return statuses


async def wait_quiet(bench: str, limit: float, notes: list[str]) -> float:
    """Wait up to `limit` s for the machine to be ≥ 85 % idle; returns the idle share seen
    (other sessions share this machine: a busy start is noted, not hidden)."""
    started = time.monotonic()
    idle = await asyncio.to_thread(idle_share, 0.5)
    while idle < 0.85 and time.monotonic() - started < limit:
        idle = await asyncio.to_thread(idle_share, 1.0)
    if idle < 0.85:
        note = f"machine only {idle:.0%} idle before the phase (other jobs running)"
        notes.append(note)
        log(bench, f"WARNING: {note}")
    return round(idle, 3)


def log_problems(child: Child) -> dict[str, Any]:
    """Warning and error lines of a child's log (the service logs at WARNING)."""
    try:
        lines = child.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    errors = [line for line in lines if " ERROR " in line or "Traceback" in line]
    warnings = [line for line in lines if " WARNING " in line]
    return {
        "warning_lines": len(warnings),
        "error_lines": len(errors),
        "first_problems": [line[:300] for line in (errors + warnings)[:5]],
    }


def _git(*args: str) -> str:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return completed.stdout.strip()


async def machine(admin_dsn: str | None) -> dict[str, Any]:
    """What the figures were measured on (and at which commit, with how many edits)."""
    changed = [line[3:] for line in _git("status", "--porcelain").splitlines() if line[3:]]
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": _git("rev-parse", "--short", "HEAD") or None,
        "uncommitted_files": len(changed),
    }
    if admin_dsn:
        try:
            conn = await asyncpg.connect(admin_dsn, timeout=5)
            try:
                info["postgresql"] = str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            info["postgresql"] = f"unreachable: {type(exc).__name__}"
    return info


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


async def metric_values(
    http: aiohttp.ClientSession, service_url: str, names: Sequence[str]
) -> dict[str, float]:
    """Sum of each named series of the service's /metrics (over its labels)."""
    async with http.get(f"{service_url}/metrics") as response:
        text = await response.text()
    found = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, _, value = line.rpartition(" ")
        name = series.split("{", 1)[0]
        if name in found:
            with contextlib.suppress(ValueError):
                found[name] += float(value)
    return found


async def query(db: Database, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a read-only query (no parameters) straight from a run's database."""
    if db.kind == "postgres":
        conn = await asyncpg.connect(db.url, timeout=10)
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    def read() -> list[tuple[Any, ...]]:
        path = db.url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as c:
            return [tuple(row) for row in c.execute(sql).fetchall()]

    return await asyncio.to_thread(read)


def as_datetime(value: Any) -> datetime | None:
    """A timestamp column as a datetime (SQLite gives text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


async def run_module(module: str, args: Sequence[str], *, timeout: float, log_path: Path) -> int:
    """`python -m module args…` as a child process (output appended to `log_path`); its exit
    code, or -9 after killing it at `timeout` seconds."""
    with log_path.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            PYTHON, "-m", module, *args, env=base_env(), cwd=ROOT, stdout=out, stderr=out
        )
        try:
            return await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            return -9


@contextlib.contextmanager
def scratch(prefix: str, keep: bool) -> Iterator[Path]:
    """A scratch directory for the run's logs and databases; removed after unless `keep`."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            print(f"scratch directory kept: {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)
