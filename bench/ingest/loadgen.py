"""The load generator process: one phase (closed or open loop) against one URL, JSON out.

Closed loop: `concurrency` workers, each sending its next request as soon as the previous answer
is read, through one aiohttp session with a keep-alive pool of `concurrency` connections. Only
requests that complete inside the measured window (after the warm-up) count for throughput and
latency; every response of the phase, warm-up included, is checked for its status.

Open loop: requests are sent on a fixed schedule (`rate` per second) whatever the answers, and a
request's latency is measured from its scheduled send time, so a stalled server or a lagging
generator shows up in the numbers instead of hiding (no coordinated omission).

All requests are built and signed before the clock starts, and every loop is bounded both by
that count and by time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench.ingest.cpu import Snapshot, snapshot, usage
from bench.ingest.payloads import DEFAULT_SECRET, DEFAULT_STATUSES, PATH, Request, build_requests
from bench.ingest.stats import summarize_ms

OPEN_LOOP_CONNECTIONS = 256  # a late request waits for a connection; its latency shows it
MAX_PHASE_SECONDS = 240.0  # bodies are timestamped at build time; the server allows 300 s


class Window:
    """CPU snapshots at the start and the end of the measured window."""

    def __init__(self, server_pid: int | None, pg_database: str | None) -> None:
        self.server_pid = server_pid
        self.pg_database = pg_database
        self.start: Snapshot | None = None
        self.end: Snapshot | None = None

    async def watch(self, start_at: float, end_at: float) -> None:
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        self.start = snapshot(self.server_pid, self.pg_database)
        await asyncio.sleep(max(0.0, end_at - time.perf_counter()))
        self.end = snapshot(self.server_pid, self.pg_database)

    def usage(self, requests: int) -> dict[str, Any]:
        if self.start is None or self.end is None:
            return {}
        return usage(self.start, self.end, requests)


class Tally:
    """Status counts of every response of a phase, and the measured latencies."""

    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.error_samples: list[str] = []

    def status(self, label: str, detail: str = "") -> None:
        self.statuses[label] += 1
        if not label.startswith("2") and len(self.error_samples) < 5:
            self.error_samples.append(f"{label}: {detail[:300]}")

    @property
    def errors(self) -> int:
        return sum(n for label, n in self.statuses.items() if not label.startswith("2"))


async def _send(session: aiohttp.ClientSession, url: str, request: Request, tally: Tally) -> None:
    body, headers = request
    try:
        async with session.post(url, data=body, headers=headers) as response:
            answer = await response.read()
            label = str(response.status)
            tally.status(label, answer.decode("utf-8", "replace"))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        tally.status(f"exception:{type(exc).__name__}", str(exc))


def _session(limit: int, timeout: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, use_dns_cache=True)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))


async def closed_loop(
    url: str,
    requests: list[Request],
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    timeout: float,
    window: Window,
) -> dict[str, Any]:
    tally = Tally()
    next_index = 0
    last_end = 0.0
    async with _session(concurrency, timeout) as session:
        started = time.perf_counter()
        measure_from = started + warmup
        stop_at = measure_from + duration
        watcher = asyncio.create_task(window.watch(measure_from, stop_at))

        async def worker() -> None:
            nonlocal next_index, last_end
            while True:
                now = time.perf_counter()
                if now >= stop_at or next_index >= len(requests):
                    return
                request = requests[next_index]
                next_index += 1
                begin = time.perf_counter()
                await _send(session, url, request, tally)
                end = time.perf_counter()
                if measure_from <= end <= stop_at:
                    tally.latencies.append(end - begin)
                    last_end = max(last_end, end)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        exhausted = next_index >= len(requests)
        if exhausted and window.end is None:  # out of requests before the end of the window
            watcher.cancel()
            window.end = snapshot(window.server_pid, window.pg_database)
        else:
            await watcher
    span = (last_end if exhausted else stop_at) - measure_from
    measured = len(tally.latencies)
    return {
        "mode": "closed",
        "concurrency": concurrency,
        "warmup_s": warmup,
        "duration_s": duration,
        "window_s": round(span, 3),
        "requests_built": len(requests),
        "requests_sent": next_index,
        "exhausted": exhausted,
        "measured": measured,
        "rps": round(measured / span, 1) if span > 0 else 0.0,
        **summarize_ms(tally.latencies),
        "statuses": dict(tally.statuses),
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "cpu": window.usage(measured),
    }


async def open_loop(
    url: str,
    requests: list[Request],
    *,
    rate: float,
    warmup: float,
    duration: float,
    timeout: float,
    max_inflight: int,
    window: Window,
) -> dict[str, Any]:
    tally = Tally()
    lags: list[float] = []
    total = min(len(requests), round(rate * (warmup + duration)))
    warm_count = round(rate * warmup)
    inflight = 0
    dropped = 0
    async with _session(min(max_inflight, OPEN_LOOP_CONNECTIONS), timeout) as session:

        async def fire(request: Request, scheduled: float, measured: bool) -> None:
            nonlocal inflight
            inflight += 1
            lag = time.perf_counter() - scheduled
            try:
                await _send(session, url, request, tally)
            finally:
                inflight -= 1
            if measured:
                tally.latencies.append(time.perf_counter() - scheduled)
                lags.append(lag)

        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter() + 0.05
        watcher = asyncio.create_task(window.watch(start + warmup, start + warmup + duration))
        for index in range(total):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if inflight >= max_inflight:
                dropped += 1
                tally.status("dropped:too_many_in_flight")
                continue
            tasks.append(asyncio.create_task(fire(requests[index], scheduled, index >= warm_count)))
        sent_until = time.perf_counter()
        await asyncio.gather(*tasks, watcher)
        finished = time.perf_counter()
    measured_span = duration
    return {
        "mode": "open",
        "rate": rate,
        "warmup_s": warmup,
        "duration_s": duration,
        "requests_scheduled": total,
        "measured": len(tally.latencies),
        "offered_rps": round((total - warm_count) / measured_span, 1) if measured_span else 0.0,
        "achieved_send_rps": round(total / (sent_until - start), 1) if sent_until > start else 0.0,
        "drain_s": round(finished - sent_until, 3),
        **summarize_ms(tally.latencies),
        "send_lag_p99_ms": summarize_ms(lags)["p99_ms"],
        "statuses": dict(tally.statuses),
        "errors": tally.errors,
        "dropped": dropped,
        "error_samples": tally.error_samples,
        "cpu": window.usage(len(tally.latencies)),
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.loadgen")
    parser.add_argument("--url", required=True, help="base URL of the server")
    parser.add_argument("--mode", choices=("closed", "open"), required=True)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0, help="open loop: requests/s")
    parser.add_argument("--max-requests", type=int, default=60_000)
    parser.add_argument(
        "--max-inflight",
        type=int,
        default=2000,
        help="open loop: requests in flight before new ones are dropped (counted as errors)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--prefix", required=True, help="unique MaHoSo prefix of this phase")
    parser.add_argument("--secret", default=DEFAULT_SECRET)
    parser.add_argument(
        "--statuses", default=",".join(map(str, DEFAULT_STATUSES)), help="statuses per case"
    )
    parser.add_argument("--server-pid", type=int, help="account this process's CPU")
    parser.add_argument("--pg-database", help="account PostgreSQL CPU (backends of this db)")
    parser.add_argument("--out", type=Path, help="write the JSON result here (else stdout)")
    args = parser.parse_args(argv)
    if args.warmup + args.duration > MAX_PHASE_SECONDS:
        parser.error(f"warm-up + duration must stay under {MAX_PHASE_SECONDS:.0f} s")
    if args.concurrency < 1 or args.rate <= 0 or args.duration <= 0 or args.warmup < 0:
        parser.error("concurrency, rate and duration must be positive, warm-up not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    statuses = [int(s) for s in args.statuses.split(",") if s.strip()]
    if args.mode == "closed":
        count = args.max_requests
    else:
        count = round(args.rate * (args.warmup + args.duration))
    build_started = time.perf_counter()
    requests = build_requests(count, prefix=args.prefix, secret=args.secret, statuses=statuses)
    build_s = time.perf_counter() - build_started
    # Keep the collector out of the timed window: everything built so far lives to the end.
    gc.collect()
    gc.freeze()
    url = args.url.rstrip("/") + PATH
    window = Window(args.server_pid, args.pg_database)
    if args.mode == "closed":
        result = asyncio.run(
            closed_loop(
                url,
                requests,
                concurrency=args.concurrency,
                warmup=args.warmup,
                duration=args.duration,
                timeout=args.timeout,
                window=window,
            )
        )
    else:
        result = asyncio.run(
            open_loop(
                url,
                requests,
                rate=args.rate,
                warmup=args.warmup,
                duration=args.duration,
                timeout=args.timeout,
                max_inflight=args.max_inflight,
                window=window,
            )
        )
    result["build_s"] = round(build_s, 3)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
