"""Fixtures for end-to-end tests: the real `sipas serve` process and a fake Bot API.

The process starts on a database cloned from the run's migrated template (`database_url` here
is migrated; its own migration at start is then a check that finds nothing to do — tests about
migrating at start use `empty_database_url`).

Flood limits: a test marked `flood_limits` gets a fake with Telegram's own limits and a service
paced by its defaults (30/s per bot, 3 at once then 1/s per chat). Every other test gets a fake
that still enforces limits, but the ones the service is configured with here
(`TELEGRAM_CHAT_BURST=CHAT_BURST`): a survey or a dialog then runs at the speed of the process,
not at one message a second, and `telegram.violations == []` still checks the pacing.

Databases: an end-to-end test runs on SQLite only, unless marked `both_databases` (its
behaviour depends on the database: concurrent claims, restarts, kills, redeliveries); what the
product stores and reads on PostgreSQL is covered by the integration tests, which run on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.service import ServiceProcess
from tests.fakes.telegram_api import FakeTelegram
from tests.support import API_TOKEN, SECRET, bearer, signed

# A weekday mid-morning in Hà Nội: outside quiet hours.
MORNING = "2026-10-05T10:00:00+07:00"
# Messages a chat may take at once outside `flood_limits` tests (then one a second, as Telegram).
CHAT_BURST = 60


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the PostgreSQL run of end-to-end tests not marked `both_databases`."""
    here = Path(__file__).parent
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        single = item.get_closest_marker("both_databases") is None
        if single and params.get("database_kind") == "postgres" and here in item.path.parents:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def database_url(migrated_url: str) -> str:
    """A database of each kind at the head revision (the process would migrate it at start)."""
    return migrated_url


@pytest.fixture
async def telegram(request: pytest.FixtureRequest) -> AsyncIterator[FakeTelegram]:
    """A fake Bot API enforcing flood limits: Telegram's own for a `flood_limits` test, else
    Telegram's with a per-chat burst of `CHAT_BURST` (what `bot_service` configures)."""
    if request.node.get_closest_marker("flood_limits") is not None:
        fake = FakeTelegram()
    else:
        fake = FakeTelegram(per_chat_burst=CHAT_BURST)
    await fake.start()
    yield fake
    await fake.stop()


class Clock:
    """The service's clock, through `SIPAS_CLOCK_FILE`: set it to any instant."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, instant: str | datetime) -> None:
        text = instant if isinstance(instant, str) else instant.isoformat()
        self.path.write_text(text, encoding="utf-8")


@pytest.fixture
def clock(tmp_path: Path) -> Clock:
    controlled = Clock(tmp_path / "clock.txt")
    controlled.set(MORNING)
    return controlled


ServiceFactory = Callable[..., ServiceProcess]


@pytest.fixture
async def bot_service(
    database_url: str, tmp_path: Path, telegram: FakeTelegram, clock: Clock
) -> AsyncIterator[ServiceFactory]:
    """Start `sipas serve` wired to the fake Bot API (call again after stop() to restart)."""
    started: list[ServiceProcess] = []

    def start(**env: str) -> ServiceProcess:
        settings = {
            "SIPAS_DATABASE_URL": database_url,
            "SIPAS_ONESTOP_SECRETS": SECRET,
            "SIPAS_API_TOKEN": API_TOKEN,
            "SIPAS_SECRET_KEY": "e2e-link-key-of-32-characters-x",
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "SIPAS_CLOCK_FILE": str(clock.path),
            "SIPAS_SURVEY_SWEEP_SECONDS": "0.5",
            "TELEGRAM_CHAT_BURST": str(telegram.per_chat_burst),
            **env,
        }
        service = ServiceProcess(tmp_path, settings)
        if started:
            service.port, service.url = started[0].port, started[0].url
            service.env["SIPAS_HTTP_PORT"] = str(service.port)
            service.env["SIPAS_PUBLIC_URL"] = service.url
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        if service.process is not None and service.process.poll() is None:
            # In a thread: the fake Bot API shares this event loop and must keep answering
            # the bot's last getUpdates while the service shuts down.
            await asyncio.to_thread(service.stop)


Serve = Callable[..., Awaitable[ServiceProcess]]


@pytest.fixture
async def serve(bot_service: ServiceFactory) -> AsyncIterator[Serve]:
    """`bot_service`, but started and stopped in a thread so the fake Bot API (on this event
    loop) keeps answering meanwhile — the bot's last getUpdates need not time out."""
    started: list[ServiceProcess] = []

    async def start(**env: str) -> ServiceProcess:
        service = await asyncio.to_thread(bot_service, **env)
        started.append(service)
        return service

    yield start
    for service in started:
        if service.process is not None and service.process.poll() is None:
            await asyncio.to_thread(service.stop)


async def post_event(service: ServiceProcess, payload: dict[str, Any]) -> dict[str, Any]:
    """Deliver a signed one-stop event and return the JSON answer (asserting 200/202)."""
    body, headers = signed(payload)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{service.url}/api/v1/onestop/events", data=body, headers=headers) as response,
    ):
        assert response.status in (200, 202), await response.text()
        return dict(await response.json())


async def telegram_link(service: ServiceProcess, payload: dict[str, Any]) -> str:
    """Post the event until the bot's username is known; return the /start payload."""
    for _ in range(100):
        answer = await post_event(service, payload)
        link = answer["links"]["telegram"]
        if link:
            return str(link.split("start=", 1)[1])
        await asyncio.sleep(0.1)
    raise AssertionError("links.telegram stayed null: the bot never learned its username")


async def read_case(service: ServiceProcess, code: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{service.url}/api/v1/cases/{code}", headers=bearer()) as response,
    ):
        assert response.status == 200, await response.text()
        return dict(await response.json())
