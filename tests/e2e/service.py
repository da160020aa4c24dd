"""Start the real `sipas serve` process for end-to-end tests."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.e2e import zygote

# Below Linux's ephemeral range (32768–60999): no outgoing connection of this or another
# process (the fake Bot API's clients, the bot's) can take a port between its choice here and
# `sipas serve` binding it — nor when a restarted service binds its predecessor's port again.
PORTS = range(20_000, 32_000)
_given: set[int] = set()
_random = random.SystemRandom()


def free_port() -> int:
    """A port no one listens on, chosen at random outside the ephemeral range (so parallel
    runs — pytest-xdist workers, other checkouts — rarely try the same one) and never handed
    out twice by this process."""
    for _ in range(200):
        port = _random.choice(PORTS)
        if port in _given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port in {PORTS}")


class ServiceProcess:
    """`sipas serve` in its own working directory, with a log file to show on failure."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "TELEGRAM_"))},
            "SIPAS_HTTP_PORT": str(self.port),
            "SIPAS_PUBLIC_URL": self.url,
            "SIPAS_LOG_FORMAT": "text",
            # `sipas serve` refuses to start without a link key; a test may override it.
            "SIPAS_SECRET_KEY": "e2e-service-link-key-0123456789",
            **env,
        }
        self.process: subprocess.Popen[bytes] | zygote.Forked | None = None

    def start(self, timeout: float = 60.0) -> None:
        if zygote.ENABLED:
            self.process = zygote.zygote().spawn(
                ["serve"],
                cwd=self.workdir,
                env=self.env,
                stdout=self.log_path,
                stderr=self.log_path,
            )
        else:
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "serve"],
                    cwd=self.workdir,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"sipas serve exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"sipas serve did not become healthy:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"sipas serve ignored signal {sig}:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def cli(self, *args: str, timeout: float = 120) -> str:
        """Run `sipas <args>` beside the service (same directory and settings); its stdout."""
        if zygote.ENABLED:
            done = zygote.zygote().run(list(args), cwd=self.workdir, env=self.env, timeout=timeout)
        else:
            done = subprocess.run(
                [sys.executable, "-m", "bot.cli", *args],
                cwd=self.workdir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()
