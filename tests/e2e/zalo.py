"""Fixtures and helpers for end-to-end tests of the real `sipas serve` on Zalo OA and Zalo Bot.

A fake Zalo OA (`FakeZaloOA`) or Zalo Bot Platform (`FakeZaloBot`) runs on the test's event
loop; the service process is configured for it alone (Telegram off). `ZaloClock` moves the
service's clock file and the fake OA's clock together, so reply windows agree on both sides.

Test modules take the fixtures with `from tests.e2e.zalo import *` (`__all__` names only them)
and import the helpers by name.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from bot.onestop.links import format_link_code
from storage.db import create_engine
from tests.e2e.conftest import CHAT_BURST, MORNING, Clock, post_event
from tests.e2e.service import ServiceProcess
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa_api import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_OA_ID,
    DEFAULT_OA_SECRET_KEY,
    FakeZaloOA,
)
from tests.fakes.zalo_oa_events import OaSentMessage
from tests.support import API_TOKEN, SECRET, dossier

__all__ = ["bot_services", "oa_clock", "oa_service", "zalo_bot", "zalo_oa"]  # the fixtures

OA_WEBHOOK_PATH = "/zalo/webhook"
BOT_WEBHOOK_PATH = "/zalo/bot/webhook"
BOT_SECRET = "e2e-zalo-bot-webhook-secret"
LINK_KEY = "e2e-link-key-of-32-characters-x"
# Taken by the survey loop at the survey status: handed over before the clock's morning.
DONE = {"ThoiDiemXuLy": "20261005090000", "NgayTra": "20261005090000"}
QUESTIONS = 11  # the built-in questionnaire without its low-score branch
# How long a wait for the service may take: generous, the machine may be busy.
WAIT = 10.0


class ZaloClock:
    """The service's clock file and the fake OA's clock, set to the same instant."""

    def __init__(self, clock: Clock, oa: FakeZaloOA | None = None) -> None:
        self.clock = clock
        self.oa = oa
        self.instant = datetime.fromisoformat(MORNING)
        self.set(self.instant)

    def set(self, instant: str | datetime) -> None:
        moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
        self.instant = moment
        self.clock.set(moment)
        if self.oa is not None:
            self.oa.set_now(moment)


def _base_env(database_url: str, clock: Clock) -> dict[str, str]:
    return {
        "SIPAS_DATABASE_URL": database_url,
        "SIPAS_ONESTOP_SECRETS": SECRET,
        "SIPAS_API_TOKEN": API_TOKEN,
        "SIPAS_SECRET_KEY": LINK_KEY,
        "SIPAS_CLOCK_FILE": str(clock.path),
        "SIPAS_SURVEY_SWEEP_SECONDS": "0.5",
        "TELEGRAM_BOT_TOKEN": "",
        "ZALO_OA_ID": "",
        "ZALO_OA_SECRET_KEY": "",
        "ZALO_BOT_TOKEN": "",
    }


class Services:
    """Starts `sipas serve` (again after a stop: same port, same database) in a thread, so the
    fake on this event loop keeps answering meanwhile; stops what is still running at the end."""

    def __init__(self, workdir: Path, env: dict[str, str], on_url: Callable[[str], None]) -> None:
        self.workdir = workdir
        self.env = env
        self.on_url = on_url
        self.started: list[ServiceProcess] = []

    async def start(self, **env: str) -> ServiceProcess:
        service = ServiceProcess(self.workdir, {**self.env, **env})
        if self.started:
            service.port, service.url = self.started[0].port, self.started[0].url
            service.env["SIPAS_HTTP_PORT"] = str(service.port)
            service.env["SIPAS_PUBLIC_URL"] = service.url
        self.on_url(service.url)
        self.started.append(service)
        await asyncio.to_thread(service.start)
        return service

    async def stop(self, service: ServiceProcess) -> int:
        return await asyncio.to_thread(service.stop)

    async def close(self) -> None:
        for service in self.started:
            if service.process is not None and service.process.poll() is None:
                await asyncio.to_thread(service.stop)


# ------------------------------------------------------------------------------- Zalo OA


@pytest.fixture
async def zalo_oa() -> AsyncIterator[FakeZaloOA]:
    """A fake Zalo OA (its webhook is set once the service's address is known)."""
    fake = FakeZaloOA()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def oa_clock(clock: Clock, zalo_oa: FakeZaloOA) -> ZaloClock:
    return ZaloClock(clock, zalo_oa)


def oa_env(fake: FakeZaloOA) -> dict[str, str]:
    """The OA's settings pointing at the fake, with its first token pair."""
    return {
        "ZALO_OA_ID": DEFAULT_OA_ID,
        "ZALO_OA_SECRET_KEY": DEFAULT_OA_SECRET_KEY,
        "ZALO_APP_ID": DEFAULT_APP_ID,
        "ZALO_APP_SECRET": DEFAULT_APP_SECRET,
        "ZALO_OA_ACCESS_TOKEN": fake.access_token,
        "ZALO_OA_REFRESH_TOKEN": fake.refresh_token,
        "ZALO_OA_API_BASE_URL": fake.url,
        "ZALO_OAUTH_BASE_URL": fake.url,
        "ZALO_ZNS_API_BASE_URL": fake.url,
        "ZALO_OA_CHAT_BURST": str(CHAT_BURST),
    }


@pytest.fixture
async def oa_service(
    database_url: str, tmp_path: Path, zalo_oa: FakeZaloOA, oa_clock: ZaloClock
) -> AsyncIterator[Services]:
    """`sipas serve` with only the Zalo OA channel on, the fake's events POSTed to it."""

    def aim(url: str) -> None:
        zalo_oa.webhook_url = f"{url}{OA_WEBHOOK_PATH}"

    env = {**_base_env(database_url, oa_clock.clock), **oa_env(zalo_oa)}
    services = Services(tmp_path, env, aim)
    yield services
    await services.close()


# ------------------------------------------------------------------------------ Zalo Bot


@pytest.fixture
async def zalo_bot() -> AsyncIterator[FakeZaloBot]:
    fake = FakeZaloBot()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot_services(
    database_url: str, tmp_path: Path, zalo_bot: FakeZaloBot, clock: Clock
) -> AsyncIterator[Services]:
    """`sipas serve` with only the Zalo Bot channel on (polling unless told otherwise)."""
    env = {
        **_base_env(database_url, clock),
        "ZALO_BOT_TOKEN": zalo_bot.token,
        "ZALO_BOT_API_BASE_URL": zalo_bot.base_url,
        # Not read yet (the bot's per-chat burst is fixed at 3, then one a second): once it
        # is, a typed survey runs at the speed of the process.
        "ZALO_BOT_CHAT_BURST": str(CHAT_BURST),
    }
    services = Services(tmp_path, env, lambda _url: None)
    yield services
    await services.close()


# ------------------------------------------------------------------------------- helpers


async def file_case(service: ServiceProcess, code: str, **fields: Any) -> str:
    """Deliver a case and return its receipt's link code, `XXXX-XXXX`. Status 1 unless told:
    it has no notice, so what a chat shows after linking does not depend on when the
    notices' loop reads the event."""
    answer = await post_event(service, dossier(code, **{"TrangThaiHoSo": 1, **fields}))
    return format_link_code(str(answer["link_code"]))


# ------------------------------------------------------------------- Zalo OA users' side


async def next_message(
    fake: FakeZaloOA, user: str, after: int, contains: str | None = None, timeout: float = WAIT
) -> OaSentMessage:
    """The first message to `user` past the first `after` (containing `contains`)."""

    def find() -> OaSentMessage | None:
        later = fake.messages_to(user)[after:]
        return next((m for m in later if contains is None or m.contains(contains)), None)

    try:
        found: OaSentMessage = await fake.wait_until(find, timeout)
    except TimeoutError:
        seen = [m.text or m.kind for m in fake.messages_to(user)[after:]]
        raise AssertionError(f"nothing with {contains!r} to {user}; then: {seen}") from None
    return found


async def say(
    fake: FakeZaloOA, user: str, words: str, contains: str | None = None
) -> OaSentMessage:
    """The user types `words`; the first message the OA sends them next (with `contains`)."""
    before = len(fake.messages_to(user))
    await fake.send_text(user, words)
    return await next_message(fake, user, before, contains)


async def tap(
    fake: FakeZaloOA, user: str, message: OaSentMessage, title: str, contains: str | None = None
) -> OaSentMessage:
    """The user taps a button of `message`; the first message the OA sends them next."""
    before = len(fake.messages_to(user))
    await fake.tap(user, message, title)
    return await next_message(fake, user, before, contains)


async def link(fake: FakeZaloOA, user: str, service: ServiceProcess, code: str) -> None:
    """File case `code` and link it from `user`'s chat by its receipt's link code."""
    link_code = await file_case(service, code)
    linked = await say(fake, user, f"mã của tôi là {link_code}", "Đã liên kết")
    assert f"Đã liên kết hồ sơ {code}" in (linked.text or ""), linked


async def invited(fake: FakeZaloOA, service: ServiceProcess, user: str, code: str) -> OaSentMessage:
    """The case reaches the survey status: the first question, sent to `user`."""
    await post_event(service, dossier(code, TrangThaiHoSo=10, **DONE))
    return await fake.wait_for_message(user, contains=f"Câu 1/{QUESTIONS}", timeout=WAIT)


# ------------------------------------------------------------------------------- outside


async def http_get(service: ServiceProcess, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{service.url}{path}") as response:
        return response.status, await response.text()


def metric(page: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` on a /metrics page whose labels include `labels`."""
    total = 0.0
    for line in page.splitlines():
        found = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if found is None:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1) or ""))
        if all(have.get(key) == value for key, value in labels.items()):
            total += float(found.group(2))
    return total


async def rows(database_url: str, query: str, **params: Any) -> list[Any]:
    """Rows of a read-only query on the service's database."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(query), params)).all())
    finally:
        await engine.dispose()


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = WAIT, every: float = 0.05
) -> Any:
    """Re-run an outside check (the read API, the database) until it is truthy; its value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not met within {timeout} s: {check}")
        await asyncio.sleep(every)
