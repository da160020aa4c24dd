"""Typed application keys shared by the routes and the composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.base import Channel
from bot.channels.links import ChannelLinks
from bot.config import Settings
from bot.conversation.router import Router
from bot.heads.service import AlertService
from bot.metrics import Metrics
from bot.onestop.intake import IntakeService
from bot.outbox.signals import Pacing, Wake
from bot.services import Services
from bot.survey.service import SurveyService
from bot.web.inflight import InFlight
from storage.cases import CaseReader

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
ENGINE = web.AppKey("engine", AsyncEngine)
INTAKE = web.AppKey("intake", IntakeService)
CASES = web.AppKey("cases", CaseReader)
# Wall clock as Unix seconds (signature freshness) and as local time (overdue, pages).
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")
LOCAL_NOW: web.AppKey[Callable[[], datetime]] = web.AppKey("local_now")
IN_FLIGHT = web.AppKey("in_flight", InFlight)
SURVEYS = web.AppKey("surveys", SurveyService)
ALERTS = web.AppKey("alerts", AlertService)
# The one router of inbound chat events, shared by every channel adapter.
ROUTER = web.AppKey("router", Router)
SERVICES = web.AppKey("services", Services)
# Wiring the composition root creates first: dispatchers listen to WAKE and lend PACING.
WAKE = web.AppKey("wake", Wake)
PACING = web.AppKey("pacing", Pacing)
# "A delivery created a case event": the survey loop listens (intake is told through it).
ACCEPTED = web.AppKey("accepted", Wake)
# The enabled channels' deep links (receipts, invitations), filled in as channels learn them.
LINKS = web.AppKey("links", ChannelLinks)
# The enabled channels' adapters by name (the dispatchers send through them).
OUTLETS: web.AppKey[dict[str, Channel]] = web.AppKey("outlets")
