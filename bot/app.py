"""Composition root: build the aiohttp application from settings and run it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.heads.service import AlertService
from bot.metrics import Metrics
from bot.onestop.intake import IntakeService
from bot.outbox.dispatcher import Dispatcher
from bot.scoring_setup import question_meta
from bot.survey.notices import SurveyLoop
from bot.survey.service import SurveyService
from bot.telegram.channel import TelegramChannel
from bot.telegram.render import TelegramRenderer
from bot.telegram.sender import CHANNEL, TelegramSender
from bot.web import case_routes, intake_routes, ops_routes, survey_routes
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
    SETTINGS,
    SURVEYS,
    TELEGRAM,
)
from scheduler.runner import Job, JobRunner, hour_period, quarter_hour_period
from scheduler.scoring_jobs import score_day
from scheduler.workdays import WorkCalendar
from storage.alerts import AlertStore
from storage.cases import CaseReader, service_secret
from storage.db import create_engine
from storage.errors import StorageError
from storage.intake import IntakeStore
from storage.jobs import JobClaims
from storage.leader import Leadership
from storage.outbox import OutboxStore
from storage.surveys import SurveyStore

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
    app.add_routes(survey_routes.routes)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_background)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url)
    link_key = (settings.secret_key or await service_secret(engine, "link_key")).encode()
    app[ENGINE] = engine
    intake_store = IntakeStore(engine)
    app[INTAKE] = IntakeService(
        store=intake_store, link_key=link_key, public_url=settings.public_url
    )
    app[CASES] = CaseReader(engine)
    clock = Clock(settings.tz, clock_file=settings.clock_file or None)
    statuses = (9, 10) if settings.survey_status == 9 else (10,)
    app[SURVEYS] = SurveyService(
        store=SurveyStore(engine),
        clock=clock,
        link_key=link_key,
        survey_statuses=statuses,
        reminder_after=timedelta(hours=settings.reminder_hours),
        expiry=timedelta(days=settings.survey_expiry_days),
        quiet_window=settings.quiet_window,
    )
    app[ALERTS] = AlertService(
        store=AlertStore(engine),
        surveys=app[SURVEYS].store,
        forms=app[SURVEYS].forms,
        clock=clock,
        calendar=WorkCalendar(),
    )
    app[SURVEYS].on_completed = app[ALERTS].on_survey_completed
    app[SURVEYS].on_invite = app[ALERTS].redeem
    app[SURVEYS].on_note = app[ALERTS].take_note
    try:
        await app[SURVEYS].ensure_form()
    except StorageError as exc:
        log.warning("questionnaire not seeded yet (database down)", extra={"error": str(exc)})
    yield
    await intake_store.close()
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
    loop = SurveyLoop(service, sweep_interval=settings.survey_sweep_seconds)
    service.wake = dispatcher.wake
    app[ALERTS].wake = dispatcher.wake
    app[INTAKE].on_accepted = loop.wake
    jobs = _job_runner(app) if settings.scheduler_enabled else None
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
    if channel is not None:
        await channel.stop()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _job_runner(app: web.Application) -> JobRunner:
    """The scheduled jobs: daily scoring, the late-case scan, escalation of alerts."""
    engine = app[ENGINE]
    alerts = app[ALERTS]
    clock = app[SURVEYS].clock

    async def score_yesterday(moment: datetime) -> str:
        return await score_day(
            engine, moment.date() - timedelta(days=1), await question_meta(engine)
        )

    async def late_scan(_moment: datetime) -> str:
        if not alerts.calendar.is_working_day(clock.local_now().date()):
            return "not a working day"
        return f"{await alerts.scan_late_cases()} agencies alerted"

    async def escalate(_moment: datetime) -> str:
        return f"{await alerts.escalate_overdue()} alerts escalated"

    return JobRunner(
        [
            Job("daily-score", {"hour": 6, "minute": 0}, score_yesterday),
            Job(
                "late-cases",
                {"day_of_week": "mon-fri", "hour": "8-16", "minute": 0},
                late_scan,
                period=hour_period,
            ),
            Job(
                "escalation",
                {"minute": "*/15"},
                escalate,
                period=quarter_hour_period,
                catch_up=False,
            ),
        ],
        claims=JobClaims(engine),
        tz=app[SETTINGS].tz,
        local_now=clock.local_now,
        utcnow=clock.utcnow,
    )


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
