"""The real `sipas` command line as a subprocess (interfaces.md "Command line"): what needs a
process, that is the installed `sipas` script, `python -m bot.cli` and a refusal to serve that
leaves no traceback. Every other case runs through `main(argv)` in
tests/integration/test_cli_main.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# The console script `pip install` wrote next to this interpreter ([project.scripts]).
SIPAS_SCRIPT = Path(sys.executable).parent / "sipas"


class Sipas:
    """Runs the command line in a working directory with its own database: `python -m bot.cli
    …` by default, or the installed script."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.database = workdir / "sipas.db"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "TELEGRAM_"))},
            "SIPAS_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "SIPAS_LOG_FORMAT": "text",
            "SIPAS_LOG_LEVEL": "WARNING",
            "PYTHONIOENCODING": "utf-8",
        }

    def __call__(self, *args: str, script: bool = False) -> subprocess.CompletedProcess[str]:
        command = [str(SIPAS_SCRIPT)] if script else [sys.executable, "-m", "bot.cli"]
        return subprocess.run(
            [*command, *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )


@pytest.fixture
def sipas(tmp_path: Path) -> Sipas:
    return Sipas(tmp_path)


def test_the_installed_script_writes_a_private_env_file(sipas: Sipas) -> None:
    assert SIPAS_SCRIPT.exists(), f"{SIPAS_SCRIPT}: the package is not installed"
    os.umask(0o022)  # the usual umask: a plain write would be world-readable
    done = sipas("init-env", script=True)
    assert done.returncode == 0, done.stderr
    env = sipas.workdir / ".env"
    assert env.stat().st_mode & 0o777 == 0o600
    values = dict(line.split("=", 1) for line in env.read_text("utf-8").splitlines() if "=" in line)
    key = values["SIPAS_SECRET_KEY"]
    assert len(key) >= 43 and len(set(key)) > 16  # token_urlsafe(32): 256 random bits
    again = sipas("init-env", script=True)
    assert again.returncode == 0 and "left unchanged" in again.stdout


def test_serve_refuses_to_start_without_a_secret_key(sipas: Sipas) -> None:
    done = sipas("serve")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("sipas serve: SIPAS_SECRET_KEY is not set")
    assert sipas.database.exists()  # it migrated first


def test_a_usage_error_exits_2_from_the_process(sipas: Sipas) -> None:
    done = sipas("report", "--from", "2026-10-01", "--to", "yesterday")
    assert done.returncode == 2
    assert "usage: sipas report" in done.stderr
    assert "Traceback" not in done.stderr
