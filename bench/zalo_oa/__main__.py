"""`python -m bench.zalo_oa {webhook,fanout} [options]`: run one of the two Zalo OA benchmarks
(`python -m bench.zalo_oa webhook --help` for a benchmark's options)."""

from __future__ import annotations

import sys

USAGE = "usage: python -m bench.zalo_oa {webhook,fanout} [options]  (… webhook --help)"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("webhook", "fanout"):
        print(USAGE, file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 64
    if args[0] == "webhook":
        from bench.zalo_oa import webhook

        return webhook.main(args[1:])
    from bench.zalo_oa import fanout

    return fanout.main(args[1:])


if __name__ == "__main__":
    raise SystemExit(main())
