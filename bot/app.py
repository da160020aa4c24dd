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
from bot.outbox.dispatcher import Dispatcher
from bot.services import build_services, job_runner
from bot.survey.notices import SurveyLoop
from bot.telegram.channel import TelegramChannel
from bot.telegram.render import TelegramRenderer
from bot.telegram.sender import CHANNEL, TelegramSender
from bot.web import case_routes, intake_routes, ops_routes, security, survey_routes
from bot.web.inflight import InFlight
from bot.web.keys import (
    ALERTS,
    CASES,
    CLOCK,
    ENGINE,
    IN_FLIGHT,
    INTAKE,
    LOCAL_NOW,
    METRICS,
    SERVICES,
    SETTINGS,
    SURVEYS,
    TELEGRAM,
)
from storage.db import create_engine
from storage.errors import StorageError
from storage.leader import Leadership
from storage.outbox import OutboxStore

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """The whole HTTP service; resources open on startup and close in reverse on cleanup."""
    app = web.Application(middlewares=[ops_routes.observe], client_max_size=1024 * 1024)
    security.install(app)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[IN_FLIGHT] = InFlight()
    app[CLOCK] = clock
    app[LOCAL_NOW] = lambda: datetime.fromtimestamp(clock(), settings.tz).replace(tzinfo=None)
    app.add_routes(intake_routes.routes)
    app.add_routes(case_routes.routes)
    app.add_routes(ops_routes.routes)
    app.add_routes(survey_routes.routes)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_background)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url)
    services = await build_services(settings, engine)
    app[ENGINE] = engine
    app[INTAKE] = services.intake
    app[CASES] = services.cases
    app[SURVEYS] = services.surveys
    app[ALERTS] = services.alerts
    app[SERVICES] = services
    services.commands.dispatcher.counters = app[METRICS].chat  # exported at /metrics
    try:
        await services.surveys.ensure_form()
    except StorageError as exc:
        log.warning("questionnaire not seeded yet (database down)", extra={"error": str(exc)})
    yield
    await services.close()
    await engine.dispose()


async def _background(app: web.Application) -> AsyncIterator[None]:
    """The outbox dispatcher, the survey loop and the Telegram channel, stopped in reverse."""
    settings = app[SETTINGS]
    service = app[SURVEYS]
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    channel: TelegramChannel | None = None
    senders = {}
    if settings.telegram_bot_token:
        intake = app[INTAKE]

        def known(username: str) -> None:
            intake.telegram_username = username

        channel = TelegramChannel(
            token=settings.telegram_bot_token,
            base_url=settings.telegram_api_base_url,
            mode=settings.telegram_mode,
            webhook_url=f"{settings.public_url}/telegram/webhook",
            webhook_secret=settings.telegram_webhook_secret,
            service=service,
            on_username=known,
            alerts=app[ALERTS],
            commands=app[SERVICES].commands,
        )
        app[TELEGRAM] = channel
        renderer = TelegramRenderer(service.forms, today=lambda: service.clock.local_now().date())
        senders[CHANNEL] = TelegramSender(channel.bot, renderer)
    else:
        log.info("TELEGRAM_BOT_TOKEN is empty: the Telegram channel is off")
    dispatcher = Dispatcher(
        OutboxStore(app[ENGINE]),
        senders,
        leadership=Leadership(app[ENGINE], "outbox-dispatcher"),
        global_limit=settings.telegram_rate_per_second,
        per_chat_burst=settings.telegram_chat_burst,
        now=service.clock.utcnow,
    )
    app[SERVICES].commands.pace = lambda chat_id: dispatcher.slot(CHANNEL, chat_id)
    loop = SurveyLoop(service, sweep_interval=settings.survey_sweep_seconds)
    service.wake = dispatcher.wake
    app[ALERTS].wake = dispatcher.wake
    app[INTAKE].on_accepted = loop.wake
    jobs = job_runner(app[SERVICES], settings) if settings.scheduler_enabled else None
    if jobs is not None:
        await jobs.catch_up()
        jobs.start()
    tasks.append(asyncio.create_task(dispatcher.run(stop)))
    tasks.append(asyncio.create_task(loop.run(stop)))
    if channel is not None:
        channel.start()
    yield
    if jobs is not None:
        jobs.stop()
    stop.set()
    dispatcher.wake()
    loop.wake()
    # The dispatcher finishes the sends in flight first: closing the bot's HTTP client under
    # them would record them as failed and send them again after a restart.
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if channel is not None:
        await channel.stop()


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
