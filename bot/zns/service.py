"""ZNS put together from settings: the client on the OA's token, the outbox sender and its
outlet, the route that decides what goes by ZNS, and the figures for /metrics.

The composition root (`bot.app`) builds one `ZnsService` while ZNS is on (the OA is on and a
template is named), registers `outlet` as the "zns" outlet (a dispatcher of its own), hands
`route.fallback` to the dispatchers' fallback hook, runs `route` and stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.base import Limits
from bot.config import Settings
from bot.contacts import ContactBook
from bot.metrics import Sample
from bot.services import Services
from bot.zalo_oa.tokens import OATokens
from bot.zns import CASE_PREFIX, CHANNEL
from bot.zns.choices import SurveyChoices
from bot.zns.client import ZnsClient
from bot.zns.poll import RatingPoll
from bot.zns.route import ZnsRoute
from bot.zns.sender import ZnsOutlet, ZnsSender
from storage.channel_state import BillableStore
from storage.chats import ChatStore
from storage.contacts import ContactStore
from storage.zns import ZnsStore

log = logging.getLogger(__name__)


class ZnsService:
    """Everything of ZNS one process runs."""

    def __init__(
        self, settings: Settings, engine: AsyncEngine, *, tokens: OATokens, services: Services
    ) -> None:
        surveys = services.surveys
        clock = surveys.clock
        # The read-back of ratings whose webhook never came (set by the composition root).
        self.poll: RatingPoll | None = None
        self.templates = settings.zns_templates
        self.client = ZnsClient(base_url=settings.zalo_zns_api_base_url, tokens=tokens)
        contacts = services.contacts or ContactBook(settings.contact_ring, ContactStore(engine))
        store = ZnsStore(engine, channel=CHANNEL, prefix=CASE_PREFIX)
        self.billable = BillableStore(engine)
        self.choices = SurveyChoices(store, self.templates, monotonic=time.monotonic)
        self._monthly: list[tuple[str, str, int]] = []
        self.sender = ZnsSender(
            self.client,
            self.templates,
            contacts=contacts,
            store=store,
            chats=ChatStore(engine),
            billable=self.billable,
            now=clock.utcnow,
            local_now=clock.local_now,
            to_utc=clock.to_utc,
            # Read at each use: an admin may change the quiet hours by chat.
            quiet_window=lambda: surveys.quiet_window,
            choices=self.choices,
            links=settings.key_ring,
        )
        self.outlet = ZnsOutlet(
            self.sender, Limits(per_second=settings.zalo_zns_rate_per_second, per_chat_burst=1)
        )
        self.route = ZnsRoute(surveys, store, contacts, self.templates, choices=self.choices)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.stopped = False  # the OA's token pair died: nothing can go out
        if not contacts.enabled:
            log.warning("ZNS is on but SIPAS_CONTACT_KEY is empty: no phone can be reached")

    async def start(self) -> None:
        """Start the route's loop (the notices' cursor first)."""
        try:
            await self.route.start()
        except Exception as exc:  # the loop creates the cursor itself later
            log.warning("zns: the notices cursor is not ready", extra={"error": repr(exc)})
        self._task = asyncio.create_task(self.route.run(self._stop))
        log.info("zns channel running", extra={"templates": sorted(self.templates.ids)})

    def watch(self, dead: asyncio.Event, stop_sending: Callable[[], None]) -> None:
        """Once the OA's token pair is dead (`dead` set), `stop_sending` stops ZNS's
        dispatcher too: queued messages wait for a restart with a new pair instead of
        spending their attempts."""

        async def wait() -> None:
            await dead.wait()
            self.stopped = True
            log.error("zns stopped: the OA's token pair is dead")
            stop_sending()

        self._watch = asyncio.create_task(wait())

    async def stop(self) -> None:
        """Stop the route's loop, then close the HTTP client."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        self._stop.set()
        self.route.wake()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.poll is not None:
            await self.poll.stop()
        await self.client.close()

    async def read_monthly(self) -> None:
        """Read the messages sent per agency and month (before each /metrics scrape)."""
        self._monthly = await self.billable.counts(CHANNEL)

    def samples(self) -> Iterable[Sample]:
        """ZNS's figures for /metrics (never a phone number)."""
        sender, route = self.sender, self.route
        for purpose, count in sorted(sender.sent.items()):
            yield Sample("zns_sent", "ZNS messages Zalo accepted", count, {"purpose": purpose})
        yield Sample(
            "zns_unreachable",
            "Cases ZNS can never reach (invalid phone, no Zalo account, no phone kept)",
            sender.final,
        )
        yield Sample(
            "zns_quota_refusals", "ZNS sends refused for the daily quota", sender.quota_refusals
        )
        yield Sample(
            "zns_token_retries",
            "ZNS calls made again with a renewed OA token",
            self.client.token_retries,
        )
        yield Sample("zns_surveys_opened", "Surveys opened on ZNS (this process)", route.opened)
        yield Sample("zns_notices_queued", "Notices queued on ZNS", route.notices_queued)
        yield Sample(
            "zns_fallbacks", "Chat messages re-queued on ZNS (window closed)", route.fallbacks
        )
        if sender.quota is not None:
            yield Sample(
                "zns_quota_daily",
                "ZNS daily quota, as the latest accepted send reported it",
                sender.quota.daily,
                counter=False,
            )
            yield Sample(
                "zns_quota_remaining",
                "ZNS messages left today, as the latest accepted send reported it",
                sender.quota.remaining,
                counter=False,
            )
        yield Sample("zns_up", "1 while ZNS can send", 0 if self.stopped else 1, counter=False)
        for agency, month, count in self._monthly:
            yield Sample(
                "zns_messages_by_month",
                "ZNS messages sent per agency (of the case) and local month, all processes",
                count,
                {"agency": agency, "month": month},
                counter=False,
            )


__all__ = ["ZnsService"]
