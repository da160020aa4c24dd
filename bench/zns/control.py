"""The driver's side of the fake Zalo process (`bench.zns.fake`): start it, read its
`/_fake/...` control routes, wait for invitations to arrive (bounded polls)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.fanout.procs import Child, free_port, wait_http
from bench.zalo_oa.common import PYTHON, base_env
from bench.zns import arrivals
from tests.fakes.zalo_zns_api import DEFAULT_TEMPLATE_IDS

RATING_ID = DEFAULT_TEMPLATE_IDS["rating"]


class FakeZns:
    """The fake Zalo side's process and its `/_fake/...` control routes."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.child: Child | None = None
        self.url = ""
        self.oa_url = ""

    async def start(self, work: Path) -> None:
        port, oa_port = free_port(), free_port()
        argv = [PYTHON, "-m", "bench.zns.fake", "--port", str(port), "--oa-port", str(oa_port)]
        self.child = Child("fake-zalo", argv, base_env(), work)
        self.child.start()
        self.url, self.oa_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{oa_port}"
        await wait_http(self.child, f"{self.url}/_fake/health", 30)

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    async def state(self) -> tuple[int, int]:
        """(template sends so far, accepted so far)."""
        async with self.http.get(f"{self.url}/_fake/state") as response:
            response.raise_for_status()
            found = await response.json()
        return int(found["calls"]), int(found["accepted"])

    async def calls(self, since: int, *, bodies: bool = False) -> list[dict[str, Any]]:
        params = {"since": str(since), "bodies": "1" if bodies else "0"}
        async with self.http.get(f"{self.url}/_fake/calls", params=params) as response:
            response.raise_for_status()
            return list(await response.json())

    async def wait_accepted(self, since: tuple[int, int], count: int, timeout: float) -> bool:
        """Until `count` sends were accepted after `since` (polled every 20 ms); False on
        timeout."""
        deadline = time.monotonic() + timeout
        while (await self.state())[1] - since[1] < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def wait_cases(self, since: tuple[int, int], cases: set[str], timeout: float) -> bool:
        """Until every case of `cases` got an accepted rating template after `since`."""
        deadline = time.monotonic() + timeout
        while True:
            if (await self.state())[1] - since[1] >= len(cases):
                got = arrivals.delivered_cases(await self.calls(since[0]), RATING_ID)
                if cases <= got:
                    return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.5)
