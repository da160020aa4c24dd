"""The load generator process of the web survey benchmark: one phase, JSON out.

It reads a plan (`Plan`, written by the orchestrator): the base URL, one method, the requests
(each a path, and for a POST its form body), the answer expected (status, and a marker the
body must hold), and the block of source addresses to send from. Requests go out in order,
request `i` from address `i % addresses` of `127.<block>.x.y`: Linux routes all of 127.0.0.0/8
to loopback, and the page's per-address limit (600 a minute) then sees many clients, as it
would in a town, instead of one script. Each address has its own keep-alive pool.

Closed loop: `concurrency` workers, each sending its next request once the previous answer is
read; only answers completed inside the measured window (after the warm-up) count for
throughput and latency, every answer is checked. Open loop: requests on a fixed schedule
(`rate` per second) whatever the answers, latency measured from each request's scheduled send
time (no coordinated omission). Both are bounded by the plan's request count and by time. CPU
over the measured window is split as in `bench.ingest.cpu`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.ingest.cpu import Snapshot, snapshot, usage
from bench.ingest.stats import summarize_ms

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_PHASE_SECONDS = 120.0
CONNECTIONS_PER_ADDRESS = 8


@dataclass(frozen=True, slots=True)
class Plan:
    """What one phase sends and what it expects back."""

    url: str
    method: str
    paths: list[str]
    bodies: list[str] | None
    expect_status: int
    expect_text: str | None
    address_block: int
    addresses: int

    @classmethod
    def load(cls, path: Path) -> Plan:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**data)

    def dump(self, path: Path) -> None:
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        path.write_text(json.dumps(fields), encoding="utf-8")


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


def address(block: int, index: int) -> str:
    """The `index`-th source address of a block: 127.<block>.<index // 250>.<index % 250 + 1>."""
    if not 1 <= block <= 254 or not 0 <= index < 250 * 256:
        raise ValueError("address block or index out of range")
    return f"127.{block}.{index // 250}.{index % 250 + 1}"


class Tally:
    """Every answer's status (or what went wrong), bytes read, and the measured latencies."""

    def __init__(self, expect_status: int, expect_text: str | None) -> None:
        self.expect_status = expect_status
        self.expect_marker = expect_text.encode("utf-8") if expect_text else None
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.sizes: list[int] = []
        self.error_samples: list[str] = []
        self.errors = 0

    def answer(self, status: int, body: bytes) -> bool:
        """Count one answer; whether it is the one expected."""
        label = str(status)
        ok = status == self.expect_status
        if ok and self.expect_marker is not None and self.expect_marker not in body:
            ok, label = False, f"{status}:unexpected_page"
        self.statuses[label] += 1
        self.sizes.append(len(body))
        if not ok:
            self.failure(label, body.decode("utf-8", "replace"))
        return ok

    def failure(self, label: str, detail: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{label}: {detail[:300]}")

    def exception(self, exc: BaseException) -> bool:
        label = f"exception:{type(exc).__name__}"
        self.statuses[label] += 1
        self.failure(label, str(exc))
        return False


class Client:
    """One keep-alive session per source address; sends request `i` of the plan."""

    def __init__(self, plan: Plan, timeout: float) -> None:
        self.plan = plan
        self.base = plan.url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.sessions: list[aiohttp.ClientSession] = []

    async def __aenter__(self) -> Client:
        for index in range(self.plan.addresses):
            connector = aiohttp.TCPConnector(
                limit=CONNECTIONS_PER_ADDRESS,
                local_addr=(address(self.plan.address_block, index), 0),
            )
            self.sessions.append(aiohttp.ClientSession(connector=connector, timeout=self.timeout))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await asyncio.gather(*(session.close() for session in self.sessions))

    async def send(self, index: int, tally: Tally) -> bool:
        """Send request `index`; whether its answer was the one expected."""
        plan = self.plan
        session = self.sessions[index % len(self.sessions)]
        url = self.base + plan.paths[index]
        try:
            if plan.bodies is None:
                async with session.get(url, allow_redirects=False) as response:
                    return tally.answer(response.status, await response.read())
            else:
                async with session.post(
                    url,
                    data=plan.bodies[index].encode("ascii"),
                    headers={"Content-Type": FORM_TYPE},
                    allow_redirects=False,
                ) as response:
                    return tally.answer(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return tally.exception(exc)


def _common(plan: Plan, tally: Tally, window: Window, measured: int) -> dict[str, Any]:
    sizes = tally.sizes
    return {
        "method": plan.method,
        "addresses": plan.addresses,
        **summarize_ms(tally.latencies),
        "statuses": dict(tally.statuses),
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "bytes_mean": round(sum(sizes) / len(sizes)) if sizes else None,
        "bytes_max": max(sizes) if sizes else None,
        "cpu": window.usage(measured),
    }


async def closed_loop(
    plan: Plan, *, concurrency: int, warmup: float, duration: float, timeout: float, window: Window
) -> dict[str, Any]:
    tally = Tally(plan.expect_status, plan.expect_text)
    total = len(plan.paths)
    next_index = 0
    last_end = 0.0
    async with Client(plan, timeout) as client:
        started = time.perf_counter()
        measure_from = started + warmup
        stop_at = measure_from + duration
        watcher = asyncio.create_task(window.watch(measure_from, stop_at))

        async def worker() -> None:
            nonlocal next_index, last_end
            while time.perf_counter() < stop_at and next_index < total:
                index = next_index
                next_index += 1
                begin = time.perf_counter()
                await client.send(index, tally)
                end = time.perf_counter()
                if measure_from <= end <= stop_at:
                    tally.latencies.append(end - begin)
                    last_end = max(last_end, end)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        exhausted = next_index >= total
        if exhausted and window.end is None:  # out of requests before the window's end
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
        "requests_planned": total,
        "requests_sent": next_index,
        "exhausted": exhausted,
        "measured": measured,
        "rps": round(measured / span, 1) if span > 0 else 0.0,
        **_common(plan, tally, window, measured),
    }


async def open_loop(
    plan: Plan, *, rate: float, warmup: float, duration: float, timeout: float, window: Window
) -> dict[str, Any]:
    tally = Tally(plan.expect_status, plan.expect_text)
    lags: list[float] = []
    total = min(len(plan.paths), round(rate * (warmup + duration)))
    warm_count = round(rate * warmup)
    good = 0
    last_good = 0.0
    async with Client(plan, timeout) as client:

        async def fire(index: int, scheduled: float) -> None:
            nonlocal good, last_good
            lag = time.perf_counter() - scheduled
            ok = await client.send(index, tally)
            if index >= warm_count:
                done = time.perf_counter()
                tally.latencies.append(done - scheduled)
                lags.append(lag)
                if ok:
                    good += 1
                    last_good = max(last_good, done)

        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter() + 0.05
        watcher = asyncio.create_task(window.watch(start + warmup, start + warmup + duration))
        for index in range(total):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(fire(index, scheduled)))
        sent_until = time.perf_counter()
        await asyncio.gather(*tasks, watcher)
        finished = time.perf_counter()
    measured = len(tally.latencies)
    return {
        "mode": "open",
        "rate": rate,
        "warmup_s": warmup,
        "duration_s": duration,
        "requests_scheduled": total,
        "measured": measured,
        "offered_rps": round((total - warm_count) / duration, 1),
        # Expected answers to the measured requests, per second until the last of them.
        "achieved_rps": round(good / (last_good - start - warmup), 1)
        if last_good > start + warmup
        else 0.0,
        "achieved_send_rps": round(total / (sent_until - start), 1) if sent_until > start else 0.0,
        "drain_s": round(finished - sent_until, 3),
        "send_lag_p99_ms": summarize_ms(lags)["p99_ms"],
        **_common(plan, tally, window, measured),
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.web.loadgen")
    parser.add_argument("--plan", type=Path, required=True, help="the phase's plan (JSON)")
    parser.add_argument("--mode", choices=("closed", "open"), required=True)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0, help="open loop: requests/s")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
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
    plan = Plan.load(args.plan)
    # Keep the collector out of the timed window: the plan lives to the end.
    gc.collect()
    gc.freeze()
    window = Window(args.server_pid, args.pg_database)
    if args.mode == "closed":
        result = asyncio.run(
            closed_loop(
                plan,
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
                plan,
                rate=args.rate,
                warmup=args.warmup,
                duration=args.duration,
                timeout=args.timeout,
                window=window,
            )
        )
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
