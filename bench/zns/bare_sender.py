"""Baseline of the ZNS benchmark, its own process: the same template POSTs sent straight to the
same fake ZNS at `--rate` per second with a simple token bucket (no database, no outbox, no
sealed phones).

The bucket is the OA benchmark's (`bench.zalo_oa.bare_sender.TokenBucket`: one token, refilled
at `--rate`/s), so sends leave evenly spaced without waiting for each other's answers (up to
`--max-in-flight` at once). A refused send (non-zero `error`, HTTP 5xx, no answer) goes back to
the front of the queue and takes the next token.

`python -m bench.zns.bare_sender --url http://127.0.0.1:P --token T --rate 20
--bodies bodies.json --out result.json` (`bodies.json`: a list of `POST /message/template`
bodies); the result counts sends, refusals and the elapsed time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import deque
from pathlib import Path
from typing import Any

import aiohttp

from bench.zalo_oa.bare_sender import TokenBucket

SEND_PATH = "/message/template"


async def send_all(
    url: str, token: str, bodies: list[dict[str, Any]], *, rate: float, max_in_flight: int
) -> dict[str, Any]:
    queue: deque[dict[str, Any]] = deque(bodies)
    bucket = TokenBucket(rate)
    in_flight: set[asyncio.Task[None]] = set()
    counts = {"sent": 0, "refused": 0, "attempts": 0}
    headers = {"access_token": token, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=10)
    ) as http:

        async def send(body: dict[str, Any]) -> None:
            ok = False
            try:
                async with http.post(url + SEND_PATH, json=body, headers=headers) as response:
                    answer = await response.json(content_type=None)
                    ok = response.status == 200 and answer.get("error") == 0
            except (aiohttp.ClientError, TimeoutError, ValueError):
                ok = False
            if ok:
                counts["sent"] += 1
            else:
                counts["refused"] += 1
                queue.appendleft(body)

        started = time.monotonic()
        while queue or in_flight:
            if not queue or len(in_flight) >= max_in_flight:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            await bucket.take()
            counts["attempts"] += 1
            task = asyncio.create_task(send(queue.popleft()))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        elapsed = time.monotonic() - started
    return {**counts, "messages": len(bodies), "elapsed_s": round(elapsed, 3), "rate": rate}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.zns.bare_sender")
    parser.add_argument("--url", required=True, help="base URL of the ZNS API")
    parser.add_argument("--token", required=True, help="access token")
    parser.add_argument("--rate", type=float, required=True, help="sends per second")
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    bodies = json.loads(args.bodies.read_text(encoding="utf-8"))
    result = asyncio.run(
        send_all(
            args.url.rstrip("/"),
            args.token,
            bodies,
            rate=args.rate,
            max_in_flight=args.max_in_flight,
        )
    )
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
