"""Pictures handed to the Zalo Bot by URL: the whole service (bot.app) hosts a chart at
`/media/<token>.png` and the fake platform fetches it before it accepts `sendPhoto`; what is
not a PNG, an unknown or malformed name, or an expired picture is never served. SQLite and
PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer, unused_port
from sqlalchemy import text

from bot.app import create_app
from bot.channels.base import MessageView, Sent
from bot.web.keys import ENGINE
from bot.web.pictures import MAX_PICTURE_BYTES, PictureHost
from bot.zalo_bot import webhook as zalo_bot_webhook
from storage.pictures import PictureStore
from tests.conftest import make_settings
from tests.fakes.zalo_bot_api import FakeZaloBot

USER = "zalo-bot-user-1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"chart"


@contextlib.asynccontextmanager
async def serving(
    database_url: str, fake: FakeZaloBot, *, reachable: bool
) -> AsyncIterator[TestClient]:
    """The whole service with the Zalo Bot on; its SIPAS_PUBLIC_URL is where it listens, or
    (`reachable=False`) a port nothing listens on."""
    port = unused_port()
    settings = make_settings(
        database_url,
        zalo_bot_token=fake.token,
        zalo_bot_api_base_url=fake.base_url,
        public_url=f"http://127.0.0.1:{port}",
        scheduler_enabled=False,
    )
    server = TestServer(create_app(settings), port=port if reachable else None)
    async with TestClient(server) as client:
        yield client


@pytest.fixture
async def service(migrated_url: str) -> AsyncIterator[tuple[TestClient, FakeZaloBot]]:
    async with (
        FakeZaloBot(fetch_photos=True) as fake,
        serving(migrated_url, fake, reachable=True) as client,
    ):
        yield client, fake


async def test_a_chart_goes_to_the_zalo_bot_as_a_link_the_platform_fetches(
    service: tuple[TestClient, FakeZaloBot],
) -> None:
    client, fake = service
    fake.add_user(USER).has_written = True
    channel = client.app[zalo_bot_webhook.CHANNEL]
    outcome = await channel.send(USER, MessageView("SIPAS 30 ngày", picture=PNG))
    assert isinstance(outcome, Sent)
    [photo] = fake.messages_to(USER)
    assert photo.method == "sendPhoto" and photo.caption == "SIPAS 30 ngày"
    assert photo.photo is not None and photo.photo.startswith(f"{client.make_url('/media/')}")
    assert photo.photo_bytes == PNG
    # Only the token's hash is stored; the URL works for anyone who has it, nothing else does.
    token = photo.photo.rsplit("/", 1)[1].removesuffix(".png")
    async with client.app[ENGINE].connect() as conn:
        [(stored,)] = (await conn.execute(text("SELECT token_hash FROM hosted_pictures"))).all()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    answer = await client.get(f"/media/{token}.png")
    assert answer.status == 200 and answer.content_type == "image/png"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    other = token[:-1] + ("B" if token.endswith("A") else "A")
    for wrong in (f"{other}.png", f"{token}.svg", f"{token}.png.png", "x.png", "%00.png"):
        missing = await client.get(f"/media/{wrong}")
        assert missing.status == 404, wrong
        assert "Không tìm thấy ảnh" in await missing.text()


async def test_what_is_not_a_small_png_is_not_hosted_and_the_text_goes_alone(
    service: tuple[TestClient, FakeZaloBot],
) -> None:
    client, fake = service
    fake.add_user(USER).has_written = True
    channel = client.app[zalo_bot_webhook.CHANNEL]
    for picture in (b"<svg/>", PNG + b"\x00" * MAX_PICTURE_BYTES):
        assert isinstance(await channel.send(USER, MessageView("Biểu đồ", picture=picture)), Sent)
    assert [(m.method, m.text) for m in fake.messages_to(USER)] == [
        ("sendMessage", "Biểu đồ"),
        ("sendMessage", "Biểu đồ"),
    ]
    async with client.app[ENGINE].connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM hosted_pictures"))).scalar() == 0


async def test_a_picture_zalo_cannot_fetch_leaves_the_text_to_go_alone(migrated_url: str) -> None:
    async with FakeZaloBot(fetch_photos=True) as fake:
        # SIPAS_PUBLIC_URL names a port nothing listens on: Zalo cannot fetch the picture.
        async with serving(migrated_url, fake, reachable=False) as client:
            fake.add_user(USER).has_written = True
            channel = client.app[zalo_bot_webhook.CHANNEL]
            outcome = await channel.send(USER, MessageView("SIPAS 30 ngày", picture=PNG))
    assert isinstance(outcome, Sent)
    assert [(m.method, m.text) for m in fake.messages_to(USER)] == [
        ("sendMessage", "SIPAS 30 ngày")
    ]
    refused = [call for call in fake.calls if call.method == "sendPhoto"]
    assert len(refused) == 1 and not refused[0].ok


async def test_an_expired_picture_is_gone_and_deleted_by_the_next_one(migrated_url: str) -> None:
    settings: Any = make_settings(migrated_url, scheduler_enabled=False)
    async with TestClient(TestServer(create_app(settings))) as client:
        engine = client.app[ENGINE]
        moment = [datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(days=8)]
        host = PictureHost(PictureStore(engine), public_url="http://x", now=lambda: moment[0])
        old = await host.host(PNG)
        assert old is not None
        moment[0] += timedelta(days=8)
        fresh = await host.host(PNG)
        assert fresh is not None and fresh != old
        assert (await client.get(old.removeprefix("http://x"))).status == 404
        assert (await client.get(fresh.removeprefix("http://x"))).status == 200
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM hosted_pictures"))).scalar()
        assert count == 1
