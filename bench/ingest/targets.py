"""The servers under test: how to start each in its own process, wait for it, stop it.

Also fresh databases: PostgreSQL databases created and dropped by the run (SQLite files live in
the run's temporary directory).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

Kind = Literal["bare", "durable", "service"]
Backend = Literal["none", "postgresql", "sqlite"]


@dataclass(frozen=True, slots=True)
class Target:
    """One server configuration of the benchmark."""

    name: str
    kind: Kind
    backend: Backend
    description: str

    @property
    def open_loop(self) -> bool:
        return self.kind == "service"


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("A", "bare", "none", "bare aiohttp, 202 without reading the body"),
        Target("B-pg", "durable", "postgresql", "HMAC + json.loads + 1 INSERT (asyncpg)"),
        Target("B-sqlite", "durable", "sqlite", "HMAC + json.loads + 1 INSERT OR IGNORE (WAL)"),
        Target("C-pg", "service", "postgresql", "`sipas serve` on PostgreSQL"),
        Target("C-sqlite", "service", "sqlite", "`sipas serve` on SQLite"),
    )
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess with its stderr in a log file; stopped by SIGTERM, then SIGKILL."""

    def __init__(
        self, name: str, command: list[str], *, env: dict[str, str], cwd: Path, log: Path
    ) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.cwd = cwd
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        log = self.log.open("wb")
        try:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, url: str, timeout: float = 60.0) -> None:
        """Poll `url` until it answers 200; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def sipas_executable() -> str:
    candidate = Path(sys.executable).with_name("sipas")
    return str(candidate) if candidate.exists() else "sipas"


def service_env(*, database_url: str, port: int, secret: str) -> dict[str, str]:
    """The environment of `sipas serve`: ours only, no inherited SIPAS_/TELEGRAM_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "TELEGRAM_"))}
    env.update(
        SIPAS_DATABASE_URL=database_url,
        SIPAS_HTTP_HOST="127.0.0.1",
        SIPAS_HTTP_PORT=str(port),
        SIPAS_PUBLIC_URL=f"http://127.0.0.1:{port}",
        SIPAS_ONESTOP_SECRETS=secret,
        SIPAS_SECRET_KEY=secrets.token_urlsafe(32),
        SIPAS_API_TOKEN=secrets.token_urlsafe(32),
        SIPAS_LOG_LEVEL="WARNING",
        TELEGRAM_BOT_TOKEN="",
    )
    return env


class PostgresDatabases:
    """Creates uniquely named databases through an admin DSN and drops them all at the end."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.created: list[str] = []

    async def _execute(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _fetchval(self, sql: str) -> object:
        import asyncpg

        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    def counters(self, name: str) -> dict[str, int] | None:
        """Sessions opened and transactions committed on database `name` so far.

        From pg_stat_database (`sessions` needs PostgreSQL 14+); None if unavailable.
        """
        sql = (
            "SELECT json_build_object('sessions', sessions, 'commits', xact_commit)::text "
            f"FROM pg_stat_database WHERE datname = '{name}'"
        )
        try:
            value = asyncio.run(self._fetchval(sql))
        except Exception:
            return None
        if not isinstance(value, str):
            return None
        decoded = json.loads(value)
        return {k: int(v) for k, v in decoded.items() if v is not None}

    def version(self) -> str:
        return str(asyncio.run(self._fetchval("SHOW server_version")))

    def create(self, name: str) -> str:
        """Create database `name` (dropping a leftover of that name) and return its DSN."""
        asyncio.run(self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(self._execute(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        base, _, _db = self.admin_dsn.rpartition("/")
        return f"{base}/{name}"

    def drop_all(self) -> list[str]:
        failures = []
        for name in reversed(self.created):
            try:
                asyncio.run(self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:
                failures.append(f"{name}: {exc}")
        self.created.clear()
        return failures
