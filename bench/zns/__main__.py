"""`python -m bench.zns [options]`: the ZNS fan-out benchmark (`--help` for its options)."""

from __future__ import annotations

from bench.zns.run import main

if __name__ == "__main__":
    raise SystemExit(main())
