"""ZNS as a contract-suite platform: send only, the real ZNS channel in front of the fake ZNS.

Per test one `FakeZaloOA` (tokens, the webhook the ratings come back by) and one `FakeZaloZNS`
(`tests.fakes.zalo_zns_api`) play Zalo; per conversation the product's real `ZnsService`
(client on the OA's tokens, `ZnsSender`, `ZnsRoute`) runs with an outbox `Dispatcher` of its
own for channel "zns" (as the composition root runs one per outlet), and the real OA channel
(`ZaloOAService`) takes the citizens' ratings on its `POST /zalo/webhook` on a local server.

- Out: the route (surveys due, notices read from the intake inbox) and the ZNS dispatcher run
  in `drain`, which the harness calls first and last in every `settle`: every ZNS row due is
  sent (or refused) before the harness's own dispatcher looks, so that one never sees a ZNS
  row it could not render. What the citizen's phone received is read back from the fake: one
  `Shown` per accepted template (`templates` gives the fake's records themselves).
- In: nothing is typed on ZNS; the citizen's stars are `rate` (a signed `user_feedback` event
  to the product's webhook), then the OA's inbox is drained.
- Both fakes and the product read the conversation's `TestClock`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.base import Capabilities, MessageView
from bot.channels.inbound import ChatRef, Inbound
from bot.outbox.dispatcher import Dispatcher
from bot.zalo_oa.service import ZaloOAService
from bot.zalo_oa.webhook import WEBHOOK, WEBHOOK_PATH, install
from bot.zns import CHANNEL
from bot.zns.sender import CAPABILITIES, ZnsOutlet
from bot.zns.service import ZnsService
from storage.outbox import ClaimedMessage, OutboxStore
from tests.channels.harness import Conversation
from tests.channels.platforms import Shown, Traits
from tests.fakes.zalo_oa_api import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_OA_ID,
    DEFAULT_OA_SECRET_KEY,
    FakeZaloOA,
)
from tests.fakes.zalo_zns_api import (
    DEFAULT_TEMPLATE_IDS,
    FakeZaloZNS,
    ZnsMessage,
    templates_setting,
)

CONTACT_KEY = "c1:zns-contract-key-0123456789abcdef"
PURPOSE_OF = {template_id: purpose for purpose, template_id in DEFAULT_TEMPLATE_IDS.items()}
TRAITS = Traits(
    app_language=False,
    hands_over_codes=False,
    shares_phone=False,
    shares_others_phone=False,
    pictures=False,
)


def shown_text(message: ZnsMessage) -> str:
    """A template message as the phone shows it here: its purpose, then its parameters."""
    purpose = PURPOSE_OF.get(message.template_id, message.template_id)
    lines = [f"{key}: {value}" for key, value in message.template_data.items()]
    return "\n".join([f"[{purpose}]", *lines])


class ZnsPlatform:
    """The fake ZNS's phones for one test; `connect` puts the product's ZNS in front of it."""

    name = CHANNEL
    traits = TRAITS

    def __init__(self, oa: FakeZaloOA, zns: FakeZaloZNS) -> None:
        self.oa = oa
        self.zns = zns
        self._shown: dict[str, Shown] = {}  # by msg_id: the same objects each time

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def settings(self) -> dict[str, object]:
        oa = self.oa
        return {
            "zalo_oa_id": DEFAULT_OA_ID,
            "zalo_oa_secret_key": DEFAULT_OA_SECRET_KEY,
            "zalo_app_id": DEFAULT_APP_ID,
            "zalo_app_secret": DEFAULT_APP_SECRET,
            "zalo_oa_access_token": oa.access_token,
            "zalo_oa_refresh_token": oa.refresh_token,
            "zalo_oa_api_base_url": oa.url,
            "zalo_oauth_base_url": oa.url,
            "zalo_zns_api_base_url": self.zns.url,
            "zalo_zns_templates": templates_setting(),
            "contact_key": CONTACT_KEY,
        }

    @contextlib.asynccontextmanager
    async def connect(self, talk: Conversation) -> AsyncIterator[ZnsLink]:
        services = talk.services
        oa_service = ZaloOAService(
            talk.settings, services.engine, router=talk.router, services=services
        )
        zns = ZnsService(
            talk.settings, services.engine, tokens=oa_service.tokens, services=services
        )
        await zns.route.start()  # the notices' cursor, at the newest intake event
        app = web.Application()
        install(app)
        app[WEBHOOK] = oa_service.webhook
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        self.oa.webhook_url = str(server.make_url(WEBHOOK_PATH))
        now = lambda: talk.clock.now().timestamp()  # noqa: E731
        self.oa.clock, self.zns.clock = now, now
        try:
            yield ZnsLink(self, talk, oa_service, zns)
        finally:
            await self.zns.drain()
            await zns.stop()
            await oa_service.stop()
            self.oa.webhook_url, self.oa.clock, self.zns.clock = None, None, None
            await server.close()

    # -- what the phones received ----------------------------------------------------------

    def templates(self, phone: str) -> list[ZnsMessage]:
        """Every template message Zalo accepted for `phone`, oldest first."""
        return self.zns.messages_to(phone)

    def messages(self, external_id: str) -> list[Shown]:
        found: list[Shown] = []
        for message in self.templates(external_id):
            shown = self._shown.get(message.msg_id)
            if shown is None:
                shown = Shown(message.msg_id, MessageView(shown_text(message)))
                self._shown[message.msg_id] = shown
            found.append(shown)
        return found


class ZnsLink:
    """The product's ZNS (and the OA webhook its ratings come back by) for one conversation."""

    def __init__(
        self, platform: ZnsPlatform, talk: Conversation, oa: ZaloOAService, zns: ZnsService
    ) -> None:
        self._platform = platform
        self.oa = oa
        self.zns = zns
        clock = talk.clock
        outlet = zns.outlet
        self.dispatcher = Dispatcher(
            OutboxStore(talk.services.engine),
            {outlet.name: outlet.outbox_sender()},
            channel=outlet.name,
            global_limit=outlet.limits.per_second,
            per_chat_burst=outlet.limits.per_chat_burst,
            now=clock.utcnow,
            clock=clock.monotonic,
            sleep=clock.sleep,
            fallback=self._fallback,
        )

    @property
    def channel(self) -> ZnsOutlet:
        return self.zns.outlet

    async def _fallback(self, message: ClaimedMessage, _error: str) -> None:
        await self.zns.route.fallback(message)

    async def act(self, event: Inbound) -> str | None:
        raise AssertionError(f"ZNS is send only: a citizen cannot send {type(event).__name__}")

    async def type_quickly(self, chat: ChatRef, texts: tuple[str, ...]) -> None:
        raise AssertionError("ZNS is send only: nothing is typed")

    async def block(self, user: str) -> None:
        raise AssertionError("ZNS is send only: a phone cannot block it (see `no_account`)")

    async def rate(
        self,
        message: ZnsMessage,
        stars: int,
        note: str = "",
        feedbacks: Sequence[str] | None = None,
    ) -> None:
        """The citizen rates `message`; the product has taken the rating once this returns."""
        answer = await self._platform.zns.rate(message, stars, note, feedbacks)
        assert answer.status == 200, f"the OA webhook answered {answer.status}: {answer.body}"
        await self.drain()

    async def drain(self) -> None:
        """Ratings taken; due cases and new notices put on ZNS; every due ZNS row sent."""
        await self._platform.zns.drain()
        assert await self.oa.inbox.drain(10), "the OA's inbox did not empty"
        await self.zns.route.step()
        await self.dispatcher.run_until_idle()


@contextlib.asynccontextmanager
async def zns_phones() -> AsyncIterator[ZnsPlatform]:
    """The platform for one test (both fakes running; no delivery receipts: the product only
    records them)."""
    async with (
        FakeZaloOA(echo=False, receipts=False) as oa,
        FakeZaloZNS(oa, receipts=False) as zns,
    ):
        yield ZnsPlatform(oa, zns)
