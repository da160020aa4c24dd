"""`sipas` processes for end-to-end tests, forked from an interpreter that imported them once.

A `sipas` process spends seconds of CPU importing its dependencies before it does anything, and
the end-to-end tests start one or more per test (`sipas serve`, restarts, the CLI beside it). The
zygote is one helper process per test worker (`python -m tests.e2e.zygote`) that imports the
product once, then forks a child per request: the child takes the request's working directory,
environment (replacing its own), standard streams (files), fresh random state and signal
dispositions, and runs `bot.cli.main(argv)` as `python -m bot.cli` would. It is a real process
of its own — signals, `kill -9`, its own event loop, sockets and database connections — only
its imports were done before it was forked. Nothing of the product is instantiated before the
fork (importing runs no event loop, opens no connection, starts no thread).

`SIPAS_TEST_ZYGOTE=0` starts every process with `python -m bot.cli` instead.

Protocol (JSON lines): the client writes `{"id", "argv", "cwd", "env", "stdout", "stderr"}`;
the zygote answers `{"ready": true}` once, then `{"id", "pid"}` per fork and `{"pid", "code"}`
when that child exits (its exit code, or minus the signal that ended it).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

ENABLED = os.environ.get("SIPAS_TEST_ZYGOTE", "1") != "0"


# -- the zygote -------------------------------------------------------------------------------


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the requested `sipas` process; never returns."""
    code = 1
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        stdin = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        err = (
            out
            if request["stderr"] == request["stdout"]
            else os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        )
        os.dup2(stdin, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)
        sys.argv = ["sipas", *request["argv"]]
        random.seed()
        from bot.cli import main

        try:
            code = main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def serve() -> None:
    """The zygote: import the product, then fork a child per request until stdin closes."""
    import bot.app  # the imports every `sipas` process needs
    import bot.cli  # noqa: F401

    out = sys.stdout
    lock = threading.Lock()

    def report(message: dict[str, Any]) -> None:
        with lock:
            out.write(json.dumps(message) + "\n")
            out.flush()

    def reap() -> None:
        while True:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                time.sleep(0.02)
                continue
            report({"pid": pid, "code": os.waitstatus_to_exitcode(status)})

    report({"ready": True})
    threading.Thread(target=reap, daemon=True).start()
    for line in sys.stdin:
        request = json.loads(line)
        with lock:  # no report half written while the child is made
            out.flush()
            pid = os.fork()
        if pid == 0:
            _child(request)
        report({"id": request["id"], "pid": pid})


# -- the client (in a test worker) ------------------------------------------------------------


class Forked:
    """A child of the zygote, with the part of `subprocess.Popen`'s interface tests use."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited = threading.Event()

    def _ended(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(["sipas"], timeout or 0)
        assert self.returncode is not None
        return self.returncode


class Zygote:
    """This worker's zygote process and the children it forked."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[2]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.zygote"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin: IO[str] = self._process.stdin
        self._stdout: IO[str] = self._process.stdout
        self._lock = threading.Lock()
        self._next = 0
        self._started: dict[int, int] = {}
        self._children: dict[int, Forked] = {}
        self._early: dict[int, int] = {}  # exits read before their child was registered
        self._changed = threading.Condition()
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._stdout:
            message = json.loads(line)
            with self._changed:
                if message.get("ready"):
                    self._ready.set()
                elif "id" in message:
                    self._started[message["id"]] = message["pid"]
                else:
                    child = self._children.pop(message["pid"], None)
                    if child is None:
                        self._early[message["pid"]] = message["code"]
                    else:
                        child._ended(message["code"])
                self._changed.notify_all()
        with self._changed:  # the zygote is gone: so are the answers it owed
            for child in self._children.values():
                child._ended(-signal.SIGKILL)
            self._children.clear()
            self._changed.notify_all()

    def spawn(
        self, argv: list[str], *, cwd: Path, env: dict[str, str], stdout: Path, stderr: Path
    ) -> Forked:
        if not self._ready.wait(120):
            raise RuntimeError("the e2e zygote did not start")
        with self._lock:
            self._next += 1
            request_id = self._next
            request = {
                "id": request_id,
                "argv": argv,
                "cwd": str(cwd),
                "env": env,
                "stdout": str(stdout),
                "stderr": str(stderr),
            }
            self._stdin.write(json.dumps(request) + "\n")
            self._stdin.flush()
        with self._changed:
            if not self._changed.wait_for(lambda: request_id in self._started, 30):
                raise RuntimeError("the e2e zygote forked no child")
            child = Forked(self._started.pop(request_id))
            if child.pid in self._early:
                child._ended(self._early.pop(child.pid))
            else:
                self._children[child.pid] = child
        return child

    def run(
        self, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """`subprocess.run(..., capture_output=True, text=True)` for a `sipas` command."""
        outputs = cwd / f".zygote-{os.getpid()}-{self._next + 1}"
        stdout, stderr = outputs.with_suffix(".out"), outputs.with_suffix(".err")
        child = self.spawn(argv, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)
            raise
        try:
            return subprocess.CompletedProcess(
                ["sipas", *argv],
                code,
                stdout.read_text(encoding="utf-8", errors="replace") if stdout.exists() else "",
                stderr.read_text(encoding="utf-8", errors="replace") if stderr.exists() else "",
            )
        finally:
            stdout.unlink(missing_ok=True)
            stderr.unlink(missing_ok=True)


_zygote: Zygote | None = None
_made = threading.Lock()


def zygote() -> Zygote:
    """This worker's zygote, started at the first use."""
    global _zygote
    with _made:
        if _zygote is None:
            _zygote = Zygote()
        return _zygote


if __name__ == "__main__":
    serve()
