"""The whole service (bot.app) with ZNS on, for the ZNS integration tests: the fake OA and the
fake ZNS over real HTTP, on SQLite and PostgreSQL, the service's clock and the fakes' clock one
file the test moves (`Moment`); `start` makes a `Rig`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import create_app
from bot.clock import Clock
from bot.web.keys import ENGINE
from bot.zns import case_chat_id
from tests.conftest import make_settings
from tests.fakes.zalo_oa_api import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_OA_ID,
    DEFAULT_OA_SECRET_KEY,
    DEFAULT_REFRESH_TOKEN,
    FakeZaloOA,
)
from tests.fakes.zalo_zns_api import DEFAULT_TEMPLATE_IDS, FakeZaloZNS, templates_setting
from tests.support import dossier, signed

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONTACT_KEY = "c1:zns-contact-key-0123456789abcdef"
CASE = "H12.22-261001-0001"
OTHER = "H12.22-261001-0002"
PHONE = "0912345678"
OTHER_PHONE = "0977111222"
AGENCY = "000.00.01.H12"
CITIZEN = "8800000000000002"
# The product's clock starts here (local): after every date the one-stop payloads carry.
START = datetime(2027, 3, 10, 10, 0, tzinfo=TZ)
RATING_ID = DEFAULT_TEMPLATE_IDS["rating"]


class Moment:
    """The time the service and both fakes read: a clock file (SIPAS_CLOCK_FILE)."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.set(start)
        self.clock = Clock(TZ, clock_file=str(path))

    def set(self, instant: datetime) -> None:
        self.path.write_text(instant.isoformat(), encoding="utf-8")

    def epoch(self) -> float:
        return self.clock.now().timestamp()


@dataclass
class Rig:
    oa: FakeZaloOA
    zns: FakeZaloZNS
    client: TestClient
    moment: Moment

    @property
    def engine(self) -> Any:
        return self.client.app[ENGINE]

    async def deliver(self, code: str = CASE, **fields: Any) -> dict[str, Any]:
        body, headers = signed(dossier(code, **fields))
        response = await self.client.post("/api/v1/onestop/events", data=body, headers=headers)
        assert response.status in {200, 202}, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer

    async def returned(self, code: str = CASE, phone: str = PHONE) -> None:
        """The case's result was handed over (status 10) on 8 October 2026."""
        await self.deliver(
            code,
            TrangThaiHoSo=10,
            ThoiDiemXuLy="20261008100000",
            NgayTra="20261008100000",
            SoDienThoai=phone,
        )

    async def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.engine.connect() as conn:
            return [tuple(row) for row in (await conn.execute(text(sql), params)).all()]

    async def until(self, probe: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
        """Wait until `probe()` returns something truthy (the database is polled: the service
        gives no event for it)."""
        async with asyncio.timeout(timeout):
            while not (found := await probe()):
                await asyncio.sleep(0.02)
        return found

    async def zns_rows(self, code: str = CASE) -> list[tuple[Any, ...]]:
        """(status, not_before, last_error, payload) of the case's ZNS outbox rows."""
        return await self.rows(
            "SELECT o.status, o.not_before, o.last_error, o.payload FROM outbox o "
            "JOIN chats c ON c.id = o.chat_id WHERE c.channel = 'zns' AND c.external_id = :e "
            "ORDER BY o.id",
            e=case_chat_id(code),
        )

    def move(self, instant: datetime) -> None:
        self.moment.set(instant)


@pytest.fixture
async def start(migrated_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Rig]]]:
    async with AsyncExitStack() as stack:

        async def make(*, start: datetime = START, **overrides: Any) -> Rig:
            moment = Moment(tmp_path / "clock", start)
            oa = await stack.enter_async_context(FakeZaloOA(clock=moment.epoch))
            zns = await stack.enter_async_context(FakeZaloZNS(oa))
            values: dict[str, Any] = {
                "zalo_oa_id": DEFAULT_OA_ID,
                "zalo_oa_secret_key": DEFAULT_OA_SECRET_KEY,
                "zalo_app_id": DEFAULT_APP_ID,
                "zalo_app_secret": DEFAULT_APP_SECRET,
                "zalo_oa_access_token": DEFAULT_ACCESS_TOKEN,
                "zalo_oa_refresh_token": DEFAULT_REFRESH_TOKEN,
                "zalo_oa_api_base_url": oa.url,
                "zalo_oauth_base_url": oa.url,
                "zalo_zns_api_base_url": zns.url,
                "zalo_zns_templates": templates_setting(),
                "contact_key": CONTACT_KEY,
                "clock_file": str(moment.path),
                "quiet_hours": "",
                "scheduler_enabled": False,
            }
            values.update(overrides)
            client = TestClient(TestServer(create_app(make_settings(migrated_url, **values))))
            await client.start_server()
            stack.push_async_callback(client.close)
            oa.webhook_url = str(client.make_url("/zalo/webhook"))
            return Rig(oa, zns, client, moment)

        yield make
