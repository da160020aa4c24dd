"""The webhook load generator, its own process: signed `user_send_text` events at a steady rate
(open loop), JSON out.

Every event is built and signed before the clock starts: distinct `msg_id`s, `--users` users
taking turns (user k % users sends event k, so each writes every users/rate seconds), texts a
citizen might type to an OA that has no survey open for them. The loop itself is the intake
benchmark's (`bench.ingest.loadgen.open_loop`): requests leave on a fixed schedule whatever the
answers, latency is measured from each request's scheduled time (no coordinated omission), CPU
of the server, PostgreSQL, the generator and everything else is read from /proc at the edges of
the measured window.

`python -m bench.zalo_oa.loadgen --url http://127.0.0.1:P --rate 200 --duration 30 --out f.json`
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import secrets
import sys
import time
from pathlib import Path

from bench.ingest.loadgen import Window, open_loop
from bench.zalo_oa.common import WEBHOOK_PATH, Request, user_text

TEXTS = (
    "Xin chào",
    "Cho tôi hỏi hồ sơ của tôi đã xong chưa?",
    "Hồ sơ đất đai nộp tuần trước đến đâu rồi ạ",
    "alo",
    "Cảm ơn cán bộ",
    "Tôi muốn đánh giá dịch vụ",
    "Bao giờ tôi nhận được kết quả?",
    "ok",
)
USER_BASE = 6_100_000_000_000_000_000


def build(count: int, users: int, user_base: int = USER_BASE) -> list[Request]:
    """`count` signed events, timestamped now (build them right before the phase)."""
    now_ms = int(time.time() * 1000)
    return [
        user_text(str(user_base + k % users), TEXTS[k % len(TEXTS)], secrets.token_hex(16), now_ms)
        for k in range(count)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.zalo_oa.loadgen")
    parser.add_argument("--url", required=True, help="base URL of the server")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--user-base", type=int, default=USER_BASE)
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--max-inflight", type=int, default=2000)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--pg-database")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0 or args.users < 1:
        parser.error("rate, duration and users must be positive, warm-up not negative")
    count = round(args.rate * (args.warmup + args.duration))
    started = time.perf_counter()
    requests = build(count, args.users, args.user_base)
    build_s = time.perf_counter() - started
    gc.collect()
    gc.freeze()  # everything built lives to the end: keep the collector out of the window
    window = Window(args.server_pid, args.pg_database)
    result = asyncio.run(
        open_loop(
            args.url.rstrip("/") + WEBHOOK_PATH,
            requests,
            rate=args.rate,
            warmup=args.warmup,
            duration=args.duration,
            timeout=args.timeout,
            max_inflight=args.max_inflight,
            window=window,
        )
    )
    result.update(build_s=round(build_s, 3), users=args.users, events=count)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
