"""Baseline of the fan-out benchmark, its own process: the same CS messages sent straight to the
same OA API at `--rate` per second with a simple token bucket, no database, no outbox.

The bucket holds at most two tokens and refills at `--rate` per second, so sends leave
evenly spaced (a late wake-up catches up by one send instead of losing its time) without
waiting for each other's answers (up to `--max-in-flight` at once). A refused send
(`error` -32, HTTP 5xx, no answer) goes back to the front of the queue and takes the next token.

`python -m bench.zalo_oa.bare_sender --url http://127.0.0.1:P --token T --rate 50
--messages messages.json --out result.json` (`messages.json`: a list of `{"user_id",
"message"}`); the result counts sends, retries and the elapsed time.
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

MESSAGE_PATH = "/v3.0/oa/message/cs"


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up."""

    def __init__(self, rate: float, capacity: float = 1.0) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = 1.0
        self.at = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self.tokens) / self.rate)


async def send_all(
    url: str, token: str, messages: list[dict[str, Any]], *, rate: float, max_in_flight: int
) -> dict[str, Any]:
    queue: deque[dict[str, Any]] = deque(messages)
    bucket = TokenBucket(rate, capacity=2.0)
    in_flight: set[asyncio.Task[None]] = set()
    counts = {"sent": 0, "refused": 0, "attempts": 0}
    headers = {"access_token": token, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=10)
    ) as http:

        async def send(item: dict[str, Any]) -> None:
            body = {"recipient": {"user_id": item["user_id"]}, "message": item["message"]}
            ok = False
            try:
                async with http.post(url + MESSAGE_PATH, json=body, headers=headers) as response:
                    answer = await response.json(content_type=None)
                    ok = response.status == 200 and answer.get("error") == 0
            except (aiohttp.ClientError, TimeoutError, ValueError):
                ok = False
            if ok:
                counts["sent"] += 1
            else:
                counts["refused"] += 1
                queue.appendleft(item)

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
    return {**counts, "messages": len(messages), "elapsed_s": round(elapsed, 3), "rate": rate}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.zalo_oa.bare_sender")
    parser.add_argument("--url", required=True, help="base URL of the OA API")
    parser.add_argument("--token", required=True, help="access token")
    parser.add_argument("--rate", type=float, required=True, help="sends per second")
    parser.add_argument("--messages", type=Path, required=True)
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    messages = json.loads(args.messages.read_text(encoding="utf-8"))
    result = asyncio.run(
        send_all(
            args.url.rstrip("/"),
            args.token,
            messages,
            rate=args.rate,
            max_in_flight=args.max_in_flight,
        )
    )
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
