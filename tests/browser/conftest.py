"""Fixtures for the browser tests: the whole service in-process and Debian's Chromium.

Playwright drives the Chromium the system installed (`SIPAS_TEST_CHROMIUM`, default
`/usr/bin/chromium`) through `executable_path`; no browser is ever downloaded. One browser is
started per test run, each test gets new phone-sized contexts (360×740, touch, Vietnamese)
that record every request the page makes, and a fresh service on a migrated SQLite database
(the page does not depend on the backend; tests/integration/test_web_survey.py covers both).

Without the `playwright` package or a Chromium that starts, the tests are skipped locally with
the reason; in CI (`CI=true`) that fails the run, as the PostgreSQL rule in tests/conftest.py.
Each step's screenshot is kept under tests/browser/artifacts/<test name>/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import create_app
from bot.web.keys import ENGINE
from tests.conftest import IN_CI, make_settings
from tests.support import bearer, dossier, signed

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

CHROMIUM = os.environ.get("SIPAS_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
CASE = "H12.22-261001-0001"
# The receipt's links carry the configured public address; the pages are reached on the
# test server's own.
PUBLIC_BASE = "http://127.0.0.1:8080"
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
    "timezone_id": "Asia/Ho_Chi_Minh",
}


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(reason + " (CI requires the browser tests)")
    pytest.skip(reason)


@pytest.fixture
def database_kind() -> str:
    """Browser tests run on SQLite only (see the module docstring)."""
    return "sqlite"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Chromium, started once per run (skipped, or failed in CI, when unavailable)."""
    try:
        from playwright.async_api import Error, async_playwright
    except ImportError as exc:
        _unavailable(f"the playwright package is not installed: {exc}")
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (set SIPAS_TEST_CHROMIUM)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    async with async_playwright() as playwright:
        try:
            started = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        except Error as exc:
            _unavailable(f"Chromium at {CHROMIUM} does not start: {exc.message.splitlines()[0]}")
        yield started
        await started.close()


@dataclass
class Site:
    """The running service and what the scenarios ask of it besides the browser: deliver a
    case, read its survey back through the read API and the database."""

    client: TestClient

    def url(self, path: str) -> str:
        """The test server's address of a path or of a receipt's link."""
        return str(self.client.make_url(path.removeprefix(PUBLIC_BASE)))

    @property
    def origin(self) -> str:
        return self.url("/").rstrip("/")

    async def deliver(self, code: str = CASE, **fields: Any) -> dict[str, Any]:
        """A signed one-stop delivery of the case; the receipt."""
        body, headers = signed(dossier(code, **fields))
        answer = await self.client.post("/api/v1/onestop/events", data=body, headers=headers)
        assert answer.status in (200, 202), await answer.text()
        return dict(await answer.json())

    async def case_at_survey(self, code: str = CASE, **fields: Any) -> str:
        """Deliver the case at the survey status (10); the address of its page."""
        receipt = await self.deliver(code, TrangThaiHoSo=10, **fields)
        return self.url(str(receipt["links"]["web"]))

    async def survey(self, code: str = CASE) -> dict[str, Any]:
        """The case's survey as the read API shows it (`status`, `answers`)."""
        answer = await self.client.get(f"/api/v1/cases/{code}", headers=bearer())
        assert answer.status == 200, await answer.text()
        return dict((await answer.json())["survey"])

    async def answers(self, code: str = CASE) -> dict[str, dict[str, Any]]:
        """The stored answers of the case's survey, by question code."""
        sql = (
            "SELECT a.question_code, a.value_int, a.value_text, a.choices, a.skipped, s.source "
            "FROM answers a JOIN surveys s ON s.id = a.survey_id WHERE s.case_code = :code"
        )
        async with self.client.app[ENGINE].connect() as conn:
            found = (await conn.execute(text(sql), {"code": code})).all()
        return {r._mapping["question_code"]: dict(r._mapping) for r in found}


@asynccontextmanager
async def open_site(database_url: str, **overrides: Any) -> AsyncIterator[Site]:
    """The whole service in-process on `database_url` (settings `overrides` on top)."""
    settings = make_settings(database_url, scheduler_enabled=False, **overrides)
    async with TestClient(TestServer(create_app(settings))) as client:
        yield Site(client)


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[Site]:
    """The service with no chat channel on."""
    async with open_site(migrated_url) as running:
        yield running


@dataclass
class Phones:
    """Phone-sized browser contexts for one test, the requests their pages made, and the
    test's screenshots."""

    browser: Browser
    shots_dir: Path
    requests: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)
    shot_count: int = 0

    async def open(self, url: str, *, js: bool = True) -> Page:
        """A new phone (its own cookies and cache) showing `url`."""
        context = await self.browser.new_context(**PHONE, java_script_enabled=js)
        context.set_default_timeout(5_000)
        context.on("request", lambda request: self.requests.append(request.url))
        self.contexts.append(context)
        page = await context.new_page()
        await page.goto(url)
        return page

    async def shot(self, page: Page, label: str) -> Path:
        """Keep a screenshot of the whole page as this step's artifact."""
        self.shot_count += 1
        path = self.shots_dir / f"{self.shot_count:02d}-{label}.jpg"
        # CSS-pixel JPEGs: a quarter of the time of device-pixel PNGs, still readable.
        await page.screenshot(path=str(path), full_page=True, scale="css", quality=80)
        return path

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def phones(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Phones]:
    """New browser contexts for this test; its screenshots in tests/browser/artifacts/."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shots_dir = ARTIFACTS / name
    shutil.rmtree(shots_dir, ignore_errors=True)  # a previous run's
    shots_dir.mkdir(parents=True)
    phones = Phones(browser, shots_dir)
    yield phones
    await phones.close()
