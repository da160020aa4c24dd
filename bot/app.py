"""Composition root: build the aiohttp application from settings and run it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from bot.config import Settings
from bot.metrics import Metrics
from bot.onestop.intake import IntakeService
from bot.telegram.identity import learn_username
from bot.web import case_routes, intake_routes, ops_routes
from bot.web.inflight import InFlight
from bot.web.keys import CASES, CLOCK, ENGINE, IN_FLIGHT, INTAKE, LOCAL_NOW, METRICS, SETTINGS
from storage.cases import CaseReader, service_secret
from storage.db import create_engine
from storage.intake import IntakeStore

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """The whole HTTP service; resources open on startup and close in reverse on cleanup."""
    app = web.Application(middlewares=[ops_routes.observe], client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[IN_FLIGHT] = InFlight()
    app[CLOCK] = clock
    app[LOCAL_NOW] = lambda: datetime.fromtimestamp(clock(), settings.tz).replace(tzinfo=None)
    app.add_routes(intake_routes.routes)
    app.add_routes(case_routes.routes)
    app.add_routes(ops_routes.routes)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_telegram_identity)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url)
    link_key = (settings.secret_key or await service_secret(engine, "link_key")).encode()
    app[ENGINE] = engine
    app[INTAKE] = IntakeService(
        store=IntakeStore(engine), link_key=link_key, public_url=settings.public_url
    )
    app[CASES] = CaseReader(engine)
    yield
    await engine.dispose()


async def _telegram_identity(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.telegram_bot_token:
        log.info("TELEGRAM_BOT_TOKEN is empty: the Telegram channel is off")
        yield
        return
    intake = app[INTAKE]

    def known(username: str) -> None:
        intake.telegram_username = username

    task = asyncio.create_task(
        learn_username(settings.telegram_bot_token, settings.telegram_api_base_url, known)
    )
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def serve(settings: Settings, *, on_ready: Callable[[str], None] | None = None) -> None:
    """Listen until SIGTERM or SIGINT, then let in-flight requests finish."""
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=settings.shutdown_timeout_seconds)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    url = f"http://{settings.http_host}:{settings.http_port}"
    log.info("listening", extra={"url": url})
    if on_ready is not None:
        on_ready(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        # aiohttp drops bytes that arrive after it closes connections, so stop listening
        # first and let requests already started (bodies still uploading) finish.
        in_flight = app[IN_FLIGHT]
        log.info("shutting down", extra={"in_flight": in_flight.count})
        await site.stop()
        if not await in_flight.drained(settings.shutdown_timeout_seconds):
            log.warning("shutdown timeout: cancelling requests", extra={"left": in_flight.count})
        await runner.cleanup()
        log.info("stopped")
