"""What starting the bot imports: every `sipas serve` and CLI process loads `bot.app` (the CLI
`bot.cli`), and neither may pull in pandas, numpy or matplotlib. A CLI command loads them only
when it scores or reports; `sipas serve` loads pandas as it starts (`bot.app.COMPUTING_MODULES`)
so that no request waits for it, and matplotlib at the first chart.

Each check runs in a fresh interpreter: this test process has long imported them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "matplotlib")


@pytest.mark.parametrize("module", ["bot.app", "bot.cli"])
def test_starting_the_bot_imports_no_pandas_numpy_or_matplotlib(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"importing {module} loads {done.stdout.strip()}"
