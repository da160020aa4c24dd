"""`python -m tests.fakes` runs the fake Telegram server (same options as run_telegram)."""

from __future__ import annotations

from .run_telegram import main

main()
