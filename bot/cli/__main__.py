"""`python -m bot.cli`: the `sipas` command line (tests and benchmarks start it this way)."""

from __future__ import annotations

from bot.cli import main

raise SystemExit(main())
