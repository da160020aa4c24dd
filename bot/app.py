"""Composition root: build the aiohttp application from settings and run it."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.channels.base import Channel, Limits
from bot.channels.links import ChannelLinks
from bot.config import Settings
from bot.conversation.replies import ReplyQueue
from bot.conversation.router import Router
from bot.conversation.views import ViewRenderer
from bot.metrics import Metrics
from bot.outbox.channel_sender import ChannelSender
from bot.outbox.dispatcher import Dispatcher, Fallback, Sender
from bot.outbox.signals import Pacing, Wake
from bot.services import build_services, job_runner
from bot.survey.notices import SurveyLoop
from bot.telegram import webhook as telegram_webhook
from bot.telegram.channel import WEBHOOK_PATH, TelegramChannel
from bot.telegram.links import TelegramLinks
from bot.web import (
    case_routes,
    intake_routes,
    ops_routes,
    pictures,
    qr_routes,
    security,
    survey_page,
    survey_routes,
)
from bot.web.inflight import InFlight
from bot.web.keys import (
    ACCEPTED,
    ALERTS,
    CASES,
    CLOCK,
    ENGINE,
    IN_FLIGHT,
    INTAKE,
    LINKS,
    LOCAL_NOW,
    METRICS,
    OUTLETS,
    PACING,
    ROUTER,
    SERVICES,
    SETTINGS,
    SURVEYS,
    WAKE,
)
from bot.zalo_bot import webhook as zalo_bot_webhook
from bot.zalo_bot.channel import WEBHOOK_PATH as ZALO_BOT_WEBHOOK_PATH
from bot.zalo_bot.channel import ZaloBotChannel
from bot.zalo_oa import webhook as zalo_oa_webhook
from bot.zalo_oa.service import ZaloOAService
from bot.zns.poll import RatingPoll
from bot.zns.service import ZnsService
from storage.channel_events import ChannelEventStore
from storage.db import create_engine
from storage.errors import StorageError
from storage.event_feed import EventFeed
from storage.leader import Leadership
from storage.outbox import ClaimedMessage, OutboxStore
from storage.pending_choices import PendingChoiceStore
from storage.pictures import PictureStore

log = logging.getLogger(__name__)
# The bot's deep links: `<bot>` in drafts until the channel learns its username on start.
TELEGRAM_LINKS = web.AppKey("telegram_links", TelegramLinks)
# Each dispatcher's stop signal by channel (a channel that dies stops its own).
DISPATCH_STOPS: web.AppKey[dict[str, asyncio.Event]] = web.AppKey("dispatch_stops")
ZALO_OA = web.AppKey("zalo_oa", ZaloOAService)
ZNS = web.AppKey("zns", ZnsService)


@runtime_checkable
class OwnSender(Protocol):
    """An outlet that provides its own outbox `Sender` (its rows are not rendered views)."""

    def outbox_sender(self) -> Sender: ...


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
    app.add_routes(qr_routes.routes)
    app.add_routes(pictures.routes)
    app.add_routes(case_routes.routes)
    survey_page.install(app)
    app.add_routes(ops_routes.routes)
    app.add_routes(survey_routes.routes)
    telegram_webhook.install(app)
    zalo_oa_webhook.install(app)
    zalo_bot_webhook.install(app)
    app[DISPATCH_STOPS] = {}
    app[WAKE] = Wake()
    app[PACING] = Pacing()
    app[ACCEPTED] = Wake()
    app[TELEGRAM_LINKS] = TelegramLinks()
    deep_links = {"telegram": app[TELEGRAM_LINKS]} if settings.telegram_bot_token else {}
    app[LINKS] = ChannelLinks(deep_links, typed=settings.typed_code_channels)
    # Each resource opens in order and closes in reverse: the scheduler and the survey loop
    # stop first, the dispatchers finish the sends in flight, then the channels close (their
    # HTTP clients under a send would record it as failed and send it again after a restart),
    # then the services and the engine.
    for resource in (_engine, _services, _channels, _dispatchers, _survey_loop, _scheduler):
        app.cleanup_ctx.append(resource)
    return app


async def _engine(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database_url)
    app[ENGINE] = engine
    yield
    await engine.dispose()


# What surveys, reports and jobs compute with (pandas, numpy): `import bot.app` leaves them
# out so a CLI command starts without them, and the service loads them before it serves, so
# no request (the first completed survey's alert check, a head's /report) waits for them.
COMPUTING_MODULES = (
    "scoring.alerts",
    "scheduler.scoring_jobs",
    "storage.head_views",
    "bot.commands.head_report",
)


async def _services(app: web.Application) -> AsyncIterator[None]:
    """The use-case services, the router and the reply queue every channel shares."""
    settings = app[SETTINGS]
    for module in COMPUTING_MODULES:
        importlib.import_module(module)
    services = await build_services(
        settings,
        app[ENGINE],
        wake=app[WAKE],
        on_accepted=app[ACCEPTED],
        links=app[LINKS],
        counters=app[METRICS].chat,
    )
    app[INTAKE] = services.intake
    app[CASES] = services.cases
    app[SURVEYS] = services.surveys
    app[ALERTS] = services.alerts
    app[SERVICES] = services
    if not settings.contact_ring:
        log.warning(
            "SIPAS_CONTACT_KEY is empty: phone numbers are kept only as hashes, "
            "so ZNS cannot reach citizens by phone"
        )
    choices = PendingChoiceStore(app[ENGINE])
    replies = ReplyQueue(pace=app[PACING].slot, choices=choices, now=services.surveys.clock.utcnow)
    app[ROUTER] = Router(
        surveys=services.surveys,
        linking=services.linking,
        alerts=services.loop,
        commands=services.commands,
        replies=replies,
        choices=choices,
    )
    try:
        await services.surveys.ensure_form()
    except StorageError as exc:
        log.warning("questionnaire not seeded yet (database down)", extra={"error": str(exc)})
    yield
    await replies.drain()
    await services.close()


async def _channels(app: web.Application) -> AsyncIterator[None]:
    """Each configured channel adapter, started now and stopped after the dispatchers."""
    settings = app[SETTINGS]
    services = app[SERVICES]
    outlets: dict[str, Channel] = {}
    channel: TelegramChannel | None = None
    if settings.telegram_bot_token:
        channel = TelegramChannel(
            token=settings.telegram_bot_token,
            base_url=settings.telegram_api_base_url,
            mode=settings.telegram_mode,
            webhook_url=f"{settings.public_url}{WEBHOOK_PATH}",
            webhook_secret=settings.telegram_webhook_secret,
            router=app[ROUTER],
            limits=Limits(settings.telegram_rate_per_second, settings.telegram_chat_burst),
            on_username=app[TELEGRAM_LINKS].know,
            menus=services.commands.menus,
        )
        app[telegram_webhook.CHANNEL] = channel
        outlets[channel.messenger.name] = channel.messenger
        channel.start()
    else:
        log.info("TELEGRAM_BOT_TOKEN is empty: the Telegram channel is off")
    oa = _zalo_oa(app, outlets)
    zns = await _zns(app, outlets, oa)
    zalo_bot = _zalo_bot(app, outlets)
    app[OUTLETS] = outlets
    yield
    if channel is not None:
        await channel.stop()
    if zns is not None:
        await zns.stop()
    if oa is not None:
        await oa.stop()
    if zalo_bot is not None:
        await zalo_bot.stop()


def _zalo_oa(app: web.Application, outlets: dict[str, Channel]) -> ZaloOAService | None:
    """The Zalo OA channel, while its id and webhook key are set."""
    settings = app[SETTINGS]
    if not settings.zalo_oa_enabled:
        log.info("ZALO_OA_ID or ZALO_OA_SECRET_KEY is empty: the Zalo OA channel is off")
        return None

    async def stopped() -> None:
        stop = app[DISPATCH_STOPS].get(oa.channel.name)
        if stop is not None:
            stop.set()

    oa = ZaloOAService(
        settings, app[ENGINE], router=app[ROUTER], services=app[SERVICES], on_stopped=stopped
    )
    app[ZALO_OA] = oa
    app[zalo_oa_webhook.WEBHOOK] = oa.webhook
    app[METRICS].channels.sources.append(oa.samples)
    app[METRICS].before_scrape.append(oa.read_billable)
    outlets[oa.channel.name] = oa.channel
    oa.start()
    return oa


async def _zns(
    app: web.Application, outlets: dict[str, Channel], oa: ZaloOAService | None
) -> ZnsService | None:
    """ZNS (template messages by phone, with the OA's token), while the OA is on and a
    template is named: its own outlet and dispatcher, the route that puts on it what no chat
    can carry, its figures in /metrics."""
    settings = app[SETTINGS]
    if oa is None or not settings.zns_enabled:
        log.info("ZALO_ZNS_TEMPLATES is empty or the OA is off: ZNS is off")
        return None
    zns = ZnsService(settings, app[ENGINE], tokens=oa.tokens, services=app[SERVICES])
    app[ZNS] = zns
    app[ACCEPTED].listen(zns.route.wake)
    app[METRICS].channels.sources.append(zns.samples)
    app[METRICS].before_scrape.append(zns.read_monthly)
    outlets[zns.outlet.name] = zns.outlet

    def stop_sending() -> None:
        stop = app[DISPATCH_STOPS].get(zns.outlet.name)
        if stop is not None:
            stop.set()

    zns.watch(oa.dead, stop_sending)
    await zns.start()
    poll = RatingPoll.from_settings(
        settings, app[ENGINE], source=zns.client, intake=oa.ratings, now=app[SERVICES].clock.now
    )
    if poll is not None:
        app[METRICS].channels.sources.append(poll.samples)
        poll.start()
        zns.poll = poll
    return zns


def _zalo_bot(app: web.Application, outlets: dict[str, Channel]) -> ZaloBotChannel | None:
    """The Zalo Bot Platform channel, while its token is set."""
    settings = app[SETTINGS]
    if not settings.zalo_bot_enabled:
        log.info("ZALO_BOT_TOKEN is empty: the Zalo Bot channel is off")
        return None
    channel = ZaloBotChannel(
        token=settings.zalo_bot_token,
        base_url=settings.zalo_bot_api_base_url,
        mode=settings.zalo_bot_mode,
        webhook_url=f"{settings.public_url}{ZALO_BOT_WEBHOOK_PATH}",
        webhook_secret=settings.zalo_bot_webhook_secret,
        router=app[ROUTER],
        store=ChannelEventStore(app[ENGINE]),
        limits=Limits(settings.zalo_bot_rate_per_second, settings.zalo_bot_chat_burst),
        now=app[SERVICES].surveys.clock.utcnow,
        # sendPhoto takes a URL: charts are served at /media/<token>.png for Zalo to fetch.
        host_picture=pictures.PictureHost(
            PictureStore(app[ENGINE]),
            public_url=settings.public_url,
            now=app[SERVICES].surveys.clock.utcnow,
        ).host,
    )
    app[zalo_bot_webhook.CHANNEL] = channel
    outlets[channel.name] = channel
    channel.start()
    return channel


async def _dispatchers(app: web.Application) -> AsyncIterator[None]:
    """One outbox dispatcher per channel: its own budget, leader lock and rows."""
    surveys = app[SURVEYS]
    views = ViewRenderer(surveys.forms, today=lambda: surveys.clock.local_now().date())
    running: list[tuple[str, Dispatcher, asyncio.Task[None]]] = []
    for name, outlet in app[OUTLETS].items():
        stop = app[DISPATCH_STOPS][name] = asyncio.Event()
        # An outlet whose rows are no views (ZNS: templates) sends them itself.
        sender: Sender = (
            outlet.outbox_sender()
            if isinstance(outlet, OwnSender)
            else ChannelSender(
                outlet, views, choices=PendingChoiceStore(app[ENGINE]), now=surveys.clock.utcnow
            )
        )
        dispatcher = Dispatcher(
            OutboxStore(app[ENGINE]),
            {name: sender},
            leadership=Leadership(app[ENGINE], f"outbox-dispatcher:{name}"),
            channel=name,
            global_limit=outlet.limits.per_second,
            per_chat_burst=outlet.limits.per_chat_burst,
            now=surveys.clock.utcnow,
            fallback=_unreachable(app),
        )
        app[WAKE].listen(dispatcher.wake)
        app[PACING].add(name, dispatcher)
        running.append((name, dispatcher, asyncio.create_task(dispatcher.run(stop))))
    if not running:
        log.warning("outbox: no channel is configured; messages stay queued")
    yield
    for stop in app[DISPATCH_STOPS].values():
        stop.set()
    # Each dispatcher finishes the sends in flight before its channel closes.
    for name, dispatcher, task in running:
        dispatcher.wake()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        app[PACING].remove(name)


def _unreachable(app: web.Application) -> Fallback:
    """What happens to a message its channel cannot carry now: counted, and re-queued on
    ZNS when it can carry it; else the citizen keeps the receipt's web link."""
    counter = app[METRICS].unreachable

    async def fallback(message: ClaimedMessage, _error: str) -> None:
        counter.labels(message.channel, message.kind).inc()
        # ZNS by phone, while it is on and the case has one.
        zns = app.get(ZNS)
        if zns is not None:
            await zns.route.fallback(message)

    return fallback


async def _survey_loop(app: web.Application) -> AsyncIterator[None]:
    """Opens surveys as cases reach the survey status; reminds and expires."""
    loop = SurveyLoop(
        app[SURVEYS], EventFeed(app[ENGINE]), sweep_interval=app[SETTINGS].survey_sweep_seconds
    )
    app[ACCEPTED].listen(loop.wake)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    yield
    stop.set()
    loop.wake()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _scheduler(app: web.Application) -> AsyncIterator[None]:
    """The scheduled jobs (daily scoring, digests, late cases, escalation), when enabled."""
    settings = app[SETTINGS]
    jobs = job_runner(app[SERVICES], settings) if settings.scheduler_enabled else None
    if jobs is not None:
        await jobs.catch_up()
        jobs.start()
    yield
    if jobs is not None:
        jobs.stop()


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
