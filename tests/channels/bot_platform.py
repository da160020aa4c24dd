"""The Zalo Bot as a contract-suite platform: the real adapter in front of the fake platform.

Per test one `FakeZaloBot` (`tests.fakes.zalo_bot_api`) plays the Bot Platform and its users;
per conversation the product's real `ZaloBotChannel` runs in webhook mode: at start it checks
its token (`getMe`) and calls `setWebhook` with the URL of a local aiohttp server that serves
the real `POST /zalo/bot/webhook` route.

- Out: the outbox and the reply queue send through `ZaloBotChannel.send` (`sendMessage`);
  what the user sees is read back from the fake's records, one `Shown` per message (no
  buttons exist: choices are numbered lines).
- In: everything is typed (`user_sends_text`): a start is `/start <payload>` (there are no
  deep links), a command `/name args`; media is a sticker. The fake pushes each update to the
  webhook; once the push was answered, the channel's inbox is drained. Messages typed
  quickly are all acted on while the fake holds the bot's replies on their way. Blocking the
  bot is the platform's 403 to the next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels.base import Capabilities, Limits, MessageView
from bot.channels.inbound import (
    ChatRef,
    Command,
    Inbound,
    LinkCode,
    Media,
    Press,
    SharedPhone,
    Start,
    Text,
    Unsubscribed,
)
from bot.zalo_bot import CHANNEL
from bot.zalo_bot.channel import CAPABILITIES, WEBHOOK_PATH, ZaloBotChannel
from bot.zalo_bot.webhook import CHANNEL as RUNNING
from bot.zalo_bot.webhook import install
from storage.channel_events import ChannelEventStore
from tests.channels.harness import Conversation
from tests.channels.platforms import Shown, Traits, typed
from tests.fakes.zalo_bot_api import FakeZaloBot, ZaloBotSentMessage

TRAITS = Traits(
    app_language=False,
    hands_over_codes=False,
    shares_phone=False,
    shares_others_phone=False,
    pictures=False,  # the platform takes no upload, and the product hosts no pictures for it
)
SECRET = "contract-zalo-bot-secret"
WAIT = 10.0  # seconds for the platform's push to be answered


class ZaloBotPlatform:
    """The fake platform's users for one test; `connect` puts the product's bot before it."""

    name = CHANNEL
    traits = TRAITS

    def __init__(self, fake: FakeZaloBot) -> None:
        self.fake = fake
        self._chats: dict[str, list[Shown]] = {}
        self._read = 0  # records of `fake.sent` already turned into `Shown`

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def settings(self) -> dict[str, object]:
        return {}

    @contextlib.asynccontextmanager
    async def connect(self, talk: Conversation) -> AsyncIterator[ZaloBotLink]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        with contextlib.closing(sock):
            async with self._serving(talk, sock) as channel:
                yield ZaloBotLink(self.fake, channel)

    @contextlib.asynccontextmanager
    async def _serving(
        self, talk: Conversation, sock: socket.socket
    ) -> AsyncIterator[ZaloBotChannel]:
        """The product's bot, its webhook route listening on `sock`, set up on the platform."""
        channel = ZaloBotChannel(
            token=self.fake.token,
            base_url=self.fake.base_url,
            mode="webhook",
            webhook_url=f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}",
            webhook_secret=SECRET,
            router=talk.router,
            store=ChannelEventStore(talk.services.engine),
            limits=Limits(talk.settings.zalo_bot_rate_per_second, 3),
            now=talk.clock.utcnow,
            sweep_interval=3600.0,  # nothing is left behind here; the test's clock jumps days
            first_backoff=0.05,
        )
        app = web.Application()
        install(app)
        app[RUNNING] = channel
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        try:
            channel.start()
            async with asyncio.timeout(WAIT):
                await channel.receiving.wait()
            yield channel
        finally:
            await channel.stop()
            await runner.cleanup()

    # -- what the users see ----------------------------------------------------------------

    def messages(self, external_id: str) -> list[Shown]:
        sent = self.fake.sent
        for record in sent[self._read :]:
            self._show(record)
        self._read = len(sent)
        return list(self._chats.get(external_id, []))

    def _show(self, record: ZaloBotSentMessage) -> None:
        text = record.text if record.text is not None else record.caption or ""
        chat = self._chats.setdefault(record.chat_id, [])
        chat.append(Shown(record.message_id, MessageView(text)))


class ZaloBotLink:
    """The fake platform's users talking to one product process."""

    def __init__(self, fake: FakeZaloBot, channel: ZaloBotChannel) -> None:
        self._fake = fake
        self.channel = channel

    async def act(self, event: Inbound) -> str | None:
        user, fake = event.chat.external_id, self._fake
        before = len(fake.webhook_deliveries)
        match event:
            case Start() | Command():
                fake.user_sends_text(user, typed(event))
            case Text(text=text):
                fake.user_sends_text(user, text)
            case Media():
                fake.user_sends_sticker(user)
            case Press() | SharedPhone() | LinkCode() | Unsubscribed():
                raise AssertionError(f"a Zalo Bot user cannot send a {type(event).__name__}")
        await self._answered(before, 1)
        return None

    async def type_quickly(self, chat: ChatRef, texts: tuple[str, ...]) -> None:
        """All of `texts` acted on while the bot's messages are still on their way."""
        fake, before = self._fake, len(self._fake.webhook_deliveries)
        fake.hold_messages()
        try:
            for text in texts:
                fake.user_sends_text(chat.external_id, text)
            await self._answered(before, len(texts))
        finally:
            fake.release_messages()

    async def block(self, user: str) -> None:
        """The platform refuses the next message with 403 (the blocking user is the only one
        the scenario writes to next)."""
        self._fake.fail_next("sendMessage", 1, 403)

    async def drain(self) -> None:
        assert await self.channel.inbox.drain(WAIT), "the Zalo Bot's inbox did not empty"

    async def _answered(self, before: int, count: int) -> None:
        """Wait until the platform's pushes of `count` updates were answered; drain."""
        found = await self._fake.wait_for_deliveries(before + count, WAIT)
        for delivery in found[before:]:
            assert delivery.status == 200, f"the webhook answered {delivery.status}"
        await self.drain()


@contextlib.asynccontextmanager
async def zalo_bot() -> AsyncIterator[ZaloBotPlatform]:
    """The platform for one test (its fake server running)."""
    async with FakeZaloBot() as fake:
        yield ZaloBotPlatform(fake)
