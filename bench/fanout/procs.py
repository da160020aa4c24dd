"""The processes of a fan-out run: the fake Bot API, `sipas serve`, the echo baseline bot.

Each runs as its own child process on a free loopback port with its output in a log file of
the run's temporary directory; every wait is bounded and `stop()` always ends the child (TERM,
then KILL). Fresh PostgreSQL databases are created and dropped here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TOKEN = "123456:FANOUT-BENCH-TOKEN"
SECRET = "fanout-bench-onestop-secret"
API_TOKEN = "fanout-bench-api-token"
LINK_KEY = "fanout-bench-link-key"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """A child process with its output in `log_path`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not started"
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 20.0, sig: int = signal.SIGTERM) -> int | None:
        """`sig` (TERM), wait up to `timeout` s, then KILL; returns the exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=10)
        return process.returncode

    def __enter__(self) -> Child:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def start_fake(workdir: Path, name: str = "fake", timeout: float = 30.0) -> tuple[Child, str]:
    """`python -m tests.fakes.run_telegram` with Telegram's limits on; returns it and its URL."""
    port = free_port()
    child = Child(
        name,
        [PYTHON, "-m", "tests.fakes.run_telegram", "--port", str(port), "--token", TOKEN],
        _base_env(),
        workdir,
    )
    child.start()
    url = f"http://127.0.0.1:{port}"
    await wait_http(child, f"{url}/_fake/health", timeout)
    return child, url


def service_env(*, database_url: str, port: int, telegram_base_url: str) -> dict[str, str]:
    return {
        **_base_env(),
        "SIPAS_DATABASE_URL": database_url,
        "SIPAS_HTTP_PORT": str(port),
        "SIPAS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SIPAS_ONESTOP_SECRETS": SECRET,
        "SIPAS_API_TOKEN": API_TOKEN,
        "SIPAS_SECRET_KEY": LINK_KEY,
        "SIPAS_QUIET_HOURS": "",
        "SIPAS_LOG_LEVEL": "WARNING",
        "SIPAS_LOG_FORMAT": "text",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram_base_url,
    }


async def start_service(
    workdir: Path, *, database_url: str, telegram_base_url: str, timeout: float = 90.0
) -> tuple[Child, str]:
    """`sipas serve` (it migrates first); returns it once /healthz answers, and its URL."""
    port = free_port()
    env = service_env(database_url=database_url, port=port, telegram_base_url=telegram_base_url)
    child = Child("service", [PYTHON, "-m", "bot.cli", "serve"], env, workdir)
    child.start()
    url = f"http://127.0.0.1:{port}"
    await wait_http(child, f"{url}/healthz", timeout)
    return child, url


def start_echo(workdir: Path, telegram_base_url: str) -> Child:
    """The baseline: a minimal python-telegram-bot Application that echoes every text."""
    child = Child(
        "echo",
        [PYTHON, "-m", "bench.fanout.echo_bot", "--base-url", telegram_base_url, "--token", TOKEN],
        _base_env(),
        workdir,
    )
    child.start()
    return child


async def wait_http(child: Child, url: str, timeout: float) -> None:
    """Wait until `url` answers 200 while the child lives."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited early:\n{child.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{child.name} did not answer {url} within {timeout} s:\n{child.log_tail()}")


class PostgresDatabase:
    """A fresh database on the local server, dropped on exit."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.name = f"sipas_fanout_{uuid.uuid4().hex[:10]}"

    @property
    def url(self) -> str:
        base = self.admin_dsn.rsplit("/", 1)[0].split("://", 1)[1]
        return f"postgresql+asyncpg://{base}/{self.name}"

    @property
    def dsn(self) -> str:
        return self.admin_dsn.rsplit("/", 1)[0] + "/" + self.name

    async def create(self) -> str:
        admin = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await admin.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await admin.close()
        return self.url

    async def drop(self) -> None:
        admin = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await admin.close()


def postgres_pids() -> list[int]:
    """Every process of the PostgreSQL server (other users' sessions too)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith("postgres"):
            pids.append(int(entry.name))
    return pids
