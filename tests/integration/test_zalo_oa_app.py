"""The Zalo OA inside the whole service (bot.app): invitations sent as a code to the OA, a
dead token pair alerting the admins and stopping the OA's sending, the OA's figures in
/metrics. Real app, real database, the fake OA over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import ZALO_OA, create_app
from bot.web.keys import ENGINE
from storage.chats import ChatStore
from storage.models import utcnow
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

ADMIN_OA = "8800000000000001"
ADMIN_TELEGRAM = "7101"
CITIZEN = "8800000000000002"


@dataclass
class Service:
    fake: FakeZaloOA
    client: TestClient

    async def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.client.app[ENGINE].connect() as conn:
            return [tuple(row) for row in (await conn.execute(text(sql), params)).all()]


@pytest.fixture
async def service(migrated_url: str) -> AsyncIterator[Service]:
    async with FakeZaloOA() as fake:
        settings = make_settings(
            migrated_url,
            zalo_oa_id=DEFAULT_OA_ID,
            zalo_oa_secret_key=DEFAULT_OA_SECRET_KEY,
            zalo_app_id=DEFAULT_APP_ID,
            zalo_app_secret=DEFAULT_APP_SECRET,
            zalo_oa_access_token=DEFAULT_ACCESS_TOKEN,
            zalo_oa_refresh_token=DEFAULT_REFRESH_TOKEN,
            zalo_oa_api_base_url=fake.url,
            zalo_oauth_base_url=fake.url,
            admins=[f"zalo_oa:{ADMIN_OA}", f"telegram:{ADMIN_TELEGRAM}"],
            quiet_hours="",
            scheduler_enabled=False,
        )
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        fake.webhook_url = str(client.make_url("/zalo/webhook"))
        try:
            yield Service(fake, client)
        finally:
            await client.close()


async def test_an_invitation_is_a_code_sent_to_the_oa(service: Service) -> None:
    fake = service.fake
    await fake.send_text(ADMIN_OA, "/invite inspector")
    answer = await fake.wait_for_message(ADMIN_OA, contains="Zalo OA")
    assert "t.me" not in answer.text  # no Telegram here: the code is the invitation
    code = answer.text.rsplit("\n", 1)[-1].strip()
    assert code and " " not in code
    await fake.send_text(CITIZEN, code)
    granted = await fake.wait_for_message(CITIZEN, contains="thanh tra")
    assert "✅" in granted.text
    assert await service.rows(
        "SELECT g.role FROM role_grants g JOIN chats c ON c.id = g.chat_id "
        "WHERE c.channel = 'zalo_oa' AND c.external_id = :user",
        user=CITIZEN,
    ) == [("inspector",)]


async def test_a_dead_token_pair_alerts_the_admins_and_stops_the_oa(service: Service) -> None:
    fake = service.fake
    engine = service.client.app[ENGINE]
    telegram_admin = await ChatStore(engine).chat(
        channel="telegram", external_id=ADMIN_TELEGRAM, language="vi", now=utcnow()
    )
    fake.expire_access_token()
    fake.fail_refresh_for_good()
    await fake.send_text(CITIZEN, "xin chào")
    await asyncio.wait_for(service.client.app[ZALO_OA].dead.wait(), 10)
    body = await (await service.client.get("/metrics")).text()
    assert "sipas_zalo_oa_up 0.0" in body
    alerts = await service.rows("SELECT chat_id, payload FROM outbox WHERE kind = 'head_text'")
    assert [chat for chat, _payload in alerts] == [telegram_admin.id]
    assert "zalo_oa_token_dead" in str(alerts[0][1])
    # Nothing reached the citizen, and nothing addressed to them is marked failed.
    assert fake.messages_to(CITIZEN) == []
    assert (
        await service.rows(
            "SELECT o.status FROM outbox o JOIN chats c ON c.id = o.chat_id "
            "WHERE c.external_id = :user AND o.status = 'failed'",
            user=CITIZEN,
        )
        == []
    )


async def test_a_reply_in_the_paid_window_is_counted_per_month(service: Service) -> None:
    fake = service.fake
    fake.set_now(datetime.now(UTC) - timedelta(days=3))  # the citizen wrote three days ago
    await fake.send_text(CITIZEN, "xin chào")
    await fake.wait_for_message(CITIZEN, contains="chưa có khảo sát")
    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    counted = f'sipas_zalo_oa_billable_replies_by_month{{agency="",month="{month}"}}'
    # Counted once Zalo answered the send, a moment after the fake recorded it.
    body = ""
    async with asyncio.timeout(10):
        while counted not in body:
            await asyncio.sleep(0.02)
            body = await (await service.client.get("/metrics")).text()
    assert 'sipas_zalo_oa_events_accepted_total{kind="user_send_text"} 1.0' in body
