"""The Zalo OA channel put together from settings: client, tokens, channel, webhook, inbox.

The composition root (`bot.app`) builds one `ZaloOAService` while the OA is configured, sets
its webhook on the app, hands its channel to the outbox, starts it and stops it. When the
token pair dies for good (Zalo refuses the refresh token), the admins are told on their other
channels and `on_stopped` lets the root stop the OA's dispatcher: queued messages wait for a
restart with a new pair.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.base import Limits
from bot.channels.inbox import EventInbox
from bot.config import Settings
from bot.conversation.router import Router
from bot.heads.messages import head_message
from bot.metrics import Sample
from bot.sealing import Sealer
from bot.services import Services
from bot.zalo_oa import CHANNEL
from bot.zalo_oa.channel import ZaloOAChannel
from bot.zalo_oa.client import OAClient
from bot.zalo_oa.events import FEEDBACK, PHONE_PURPOSE
from bot.zalo_oa.inbox import OAEventHandler
from bot.zalo_oa.render import CSRenderer
from bot.zalo_oa.tokens import TOKEN_PURPOSE, OATokens, TokenPair
from bot.zalo_oa.webhook import PICTURE_PATH, ZaloOAWebhook
from bot.zns.ratings import RatingIntake
from storage.channel_events import ChannelEventStore
from storage.channel_state import ActivityStore, BillableStore, TokenStore
from storage.errors import StorageError
from storage.roles import RoleStore
from storage.zns_ratings import ZnsRatingStore

log = logging.getLogger(__name__)


class ZaloOAService:
    """Everything of the OA channel one process runs."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        *,
        router: Router,
        services: Services,
        on_stopped: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        clock = services.clock
        self._services = services
        self._roles = RoleStore(engine)
        self._on_stopped = on_stopped
        self.client = OAClient(
            api_base_url=settings.zalo_oa_api_base_url,
            oauth_base_url=settings.zalo_oauth_base_url,
            app_id=settings.zalo_app_id,
            app_secret=settings.zalo_app_secret,
        )
        initial = (
            TokenPair(settings.zalo_oa_access_token, settings.zalo_oa_refresh_token)
            if settings.zalo_oa_access_token and settings.zalo_oa_refresh_token
            else None
        )
        self.tokens = OATokens(
            self.client,
            TokenStore(engine),
            Sealer(settings.key_ring, TOKEN_PURPOSE),
            oa_id=settings.zalo_oa_id,
            initial=initial,
            now=clock.utcnow,
            on_dead=self._token_dead,
        )
        self.activity = ActivityStore(engine)
        self.billable = BillableStore(engine)
        self._billable_counts: list[tuple[str, str, int]] = []
        self.channel = ZaloOAChannel(
            self.client,
            self.tokens,
            renderer=CSRenderer(phone_image_url=f"{settings.public_url}{PICTURE_PATH}"),
            activity=self.activity,
            billable=self.billable,
            limits=Limits(settings.zalo_oa_rate_per_second, settings.zalo_oa_chat_burst),
            now=clock.utcnow,
            local_now=clock.local_now,
        )
        phones = Sealer(settings.key_ring, PHONE_PURPOSE)
        # ZNS ratings come to the OA's webhook: a citizen's stars are their case's response.
        self.ratings = RatingIntake(
            ZnsRatingStore(engine),
            forms=services.surveys.forms,
            clock=clock,
            on_completed=services.surveys.on_completed,
        )
        self.handler = OAEventHandler(
            router=router,
            channel=self.channel,
            activity=self.activity,
            sealer=phones,
            linking=services.linking,
            now=clock.utcnow,
            oa_id=settings.zalo_oa_id,
            access=services.commands.access,
            others={FEEDBACK: self.ratings},
        )
        self.inbox = EventInbox(ChannelEventStore(engine), CHANNEL, self.handler, now=clock.utcnow)
        self.webhook = ZaloOAWebhook(
            self.inbox,
            app_id=settings.zalo_app_id,
            secret_key=settings.zalo_oa_secret_key,
            sealer=phones,
            oa_id=settings.zalo_oa_id,
            acts_on=self.handler.acts_on,
        )
        self.stopped = False
        # Set once the channel stopped for a dead token pair and the admins were told.
        self.dead = asyncio.Event()

    def start(self) -> None:
        self.inbox.start()
        log.info("zalo oa channel running")

    async def stop(self) -> None:
        """Finish the events being acted on (the others stay stored for the next start), then
        close the HTTP client."""
        await self.inbox.stop()
        await self.client.close()

    async def _token_dead(self, reason: str) -> None:
        """Tell the admins on their other channels; stop sending on the OA."""
        self.stopped = True
        log.error("zalo oa channel stopped: the token pair is dead", extra={"reason": reason})
        try:
            await self._services.surveys.say(
                *(head_message(chat_id, "zalo_oa_token_dead") for chat_id in await self._admins())
            )
        except StorageError as exc:
            log.warning("could not alert the admins", extra={"error": str(exc)})
        if self._on_stopped is not None:
            await self._on_stopped()
        self.dead.set()

    async def read_billable(self) -> None:
        """Read the billable replies per agency and month (before each /metrics scrape)."""
        self._billable_counts = await self.billable.counts(CHANNEL)

    async def _admins(self) -> list[int]:
        """The admins' chats on other channels: granted by invitation or named in the
        environment (those who wrote to the bot once)."""
        found = set(await self._roles.role_chats("admin"))
        named: dict[str, list[str]] = {}
        for channel, external_id in self._services.commands.access.admins:
            if channel != CHANNEL:
                named.setdefault(channel, []).append(external_id)
        for channel, ids in named.items():
            found.update(await self._roles.chats_of(channel, ids))
        chats = []
        for chat_id in sorted(found):
            ref = await self._roles.chat_ref(chat_id)
            if ref is not None and ref[0] != CHANNEL:
                chats.append(chat_id)
        return chats

    def samples(self) -> Iterable[Sample]:
        """The OA's counters for /metrics."""
        webhook, inbox = self.webhook, self.inbox.counts
        yield Sample("zalo_oa_events_forged", "OA webhook events refused: bad mac", webhook.forged)
        yield Sample("zalo_oa_events_bad", "OA webhook bodies refused: unreadable", webhook.bad)
        for kind, count in webhook.accepted.items():
            yield Sample("zalo_oa_events_accepted", "OA events stored", count, {"kind": kind})
        for kind, count in webhook.duplicates.items():
            yield Sample("zalo_oa_events_duplicate", "OA events redelivered", count, {"kind": kind})
        yield Sample("zalo_oa_events_handled", "OA events acted on", inbox.handled)
        yield Sample("zalo_oa_events_failed", "OA events whose handling failed", inbox.failed)
        yield Sample(
            "zalo_oa_events_lost",
            "OA events answered 200 that the database refused however often it was tried",
            inbox.lost,
        )
        yield Sample(
            "zalo_oa_billable_replies",
            "OA replies sent 48 h-7 d after the user's last interaction (this process)",
            self.channel.billable_sent,
        )
        yield Sample(
            "zalo_oa_phone_requests",
            "Phone requests sent to unlinked users",
            self.handler.phone_requests,
        )
        yield Sample(
            "zalo_oa_token_refreshes", "OA token refreshes this process made", self.tokens.refreshes
        )
        for agency, month, count in self._billable_counts:
            yield Sample(
                "zalo_oa_billable_replies_by_month",
                "OA replies sent 48 h-7 d after the user's last interaction, per agency "
                "(of the case the user linked last) and local month, all processes",
                count,
                {"agency": agency, "month": month},
                counter=False,
            )
        yield Sample(
            "zalo_oa_up", "1 while the OA channel can send", 0 if self.stopped else 1, counter=False
        )
        yield from self.ratings.samples()
