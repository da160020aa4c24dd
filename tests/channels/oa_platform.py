"""The Zalo OA as a contract-suite platform: the real adapter in front of the fake OA.

Per test one `FakeZaloOA` (`tests.fakes.zalo_oa_api`) plays Zalo and its users; per
conversation the product's real OA channel (`bot.zalo_oa.service.ZaloOAService`: client,
tokens, `ZaloOAChannel`, `OAEventHandler`, `EventInbox`, `ZaloOAWebhook`) runs with its
`POST /zalo/webhook` on a local aiohttp server the fake posts its signed events to.

- Out: the outbox and the reply queue send through `ZaloOAChannel.send` to the fake's
  `/v3.0/oa/message/cs`; what the user sees is read back from the fake's records: one `Shown`
  per CS message (a button's payload, without `TAP_PREFIX`, is its choice's action), except a
  `request_user_info` form, which belongs to the text it follows (its title is the view's
  `ask_phone`, its subtitle the `ask_phone_note`).
- In: typing is `send_text`, a press the fake's `tap` (a `user_send_text` of the button's
  payload), a start or a command is typed (`/start <payload>`: Zalo has no deep links), a
  shared phone is `submit_info` (only after the OA sent its form), media a picture, blocking
  an unfollow; then the inbox is drained.
- The fake's clock is the conversation's `TestClock`, so the event timestamps the reply window
  counts from and the product's clock agree.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.base import Capabilities, Choice, MessageView
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
from bot.zalo_oa import CHANNEL, TAP_PREFIX
from bot.zalo_oa.channel import CAPABILITIES, ZaloOAChannel
from bot.zalo_oa.service import ZaloOAService
from bot.zalo_oa.webhook import WEBHOOK, WEBHOOK_PATH, install
from tests.channels.harness import Conversation
from tests.channels.platforms import Shown, Traits, typed
from tests.fakes.zalo_oa_api import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_OA_ID,
    DEFAULT_OA_SECRET_KEY,
    FakeZaloOA,
    OaSentMessage,
    WebhookAnswer,
)

TRAITS = Traits(
    app_language=False,
    hands_over_codes=False,
    shares_others_phone=False,
    asks_unlinked_for_phone=True,
)


class ZaloOAPlatform:
    """The fake OA's users for one test; `connect` puts the product's OA in front of it."""

    name = CHANNEL
    traits = TRAITS

    def __init__(self, fake: FakeZaloOA) -> None:
        self.fake = fake
        self._chats: dict[str, list[Shown]] = {}
        self._read = 0  # records of `fake.sent` already turned into `Shown`

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def settings(self) -> dict[str, object]:
        fake = self.fake
        return {
            "zalo_oa_id": DEFAULT_OA_ID,
            "zalo_oa_secret_key": DEFAULT_OA_SECRET_KEY,
            "zalo_app_id": DEFAULT_APP_ID,
            "zalo_app_secret": DEFAULT_APP_SECRET,
            "zalo_oa_access_token": fake.access_token,
            "zalo_oa_refresh_token": fake.refresh_token,
            "zalo_oa_api_base_url": fake.url,
            "zalo_oauth_base_url": fake.url,
        }

    @contextlib.asynccontextmanager
    async def connect(self, talk: Conversation) -> AsyncIterator[ZaloOALink]:
        service = ZaloOAService(
            talk.settings, talk.services.engine, router=talk.router, services=talk.services
        )
        app = web.Application()
        install(app)
        app[WEBHOOK] = service.webhook
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        self.fake.webhook_url = str(server.make_url(WEBHOOK_PATH))
        self.fake.clock = lambda: talk.clock.now().timestamp()
        try:
            yield ZaloOALink(self.fake, service)
        finally:
            await self.fake.drain()
            await service.stop()
            self.fake.webhook_url, self.fake.clock = None, None
            await server.close()

    # -- what the users see ----------------------------------------------------------------

    def messages(self, external_id: str) -> list[Shown]:
        sent = self.fake.sent
        for record in sent[self._read :]:
            self._show(record)
        self._read = len(sent)
        return list(self._chats.get(external_id, []))

    def _show(self, record: OaSentMessage) -> None:
        chat = self._chats.setdefault(record.user_id, [])
        if record.kind == "request_user_info":
            element = record.element or {}
            title, note = str(element.get("title", "")), str(element.get("subtitle", ""))
            before = chat[-1].view if chat else None
            if before is not None and not before.choices and not before.ask_phone:
                before.ask_phone, before.ask_phone_note = title, note  # the text it follows
            else:
                chat.append(Shown(record.message_id, MessageView("", ask_phone=title)))
            return
        choices = [[Choice(button.title, action(button.payload))] for button in record.buttons]
        picture = self.fake.uploads.get(record.attachment_id or "")
        view = MessageView(record.text or "", choices, picture=picture)
        chat.append(Shown(record.message_id, view))


def action(payload: object) -> str:
    """A button's choice action: its payload without the product's tap prefix."""
    text = str(payload)
    return text[len(TAP_PREFIX) :] if text.startswith(TAP_PREFIX) else text


class ZaloOALink:
    """The fake OA's users talking to one product process."""

    def __init__(self, fake: FakeZaloOA, service: ZaloOAService) -> None:
        self._fake = fake
        self.service = service

    @property
    def channel(self) -> ZaloOAChannel:
        return self.service.channel

    async def act(self, event: Inbound) -> str | None:
        user, fake = event.chat.external_id, self._fake
        match event:
            case Start() | Command():
                answer = await fake.send_text(user, typed(event))
            case Text(text=text):
                answer = await fake.send_text(user, text)
            case Press(action=wanted, message_id=message_id):
                record, title = self._button(user, wanted, message_id)
                answer = await fake.tap(user, record, title)
            case SharedPhone(phone=phone, own=own):
                assert own, "a Zalo user can share only their own phone (the OA's form)"
                answer = await fake.submit_info(user, phone)
            case Media():
                answer = await fake.send_image(user)
            case Unsubscribed():
                answer = await fake.unfollow(user)
            case LinkCode():
                raise AssertionError("the OA adapter never hands over a LinkCode: type the code")
        accepted(answer)
        await self.drain()
        return None  # a tap's notice comes as a message

    async def type_quickly(self, chat: ChatRef, texts: tuple[str, ...]) -> None:
        for text in texts:
            accepted(await self._fake.send_text(chat.external_id, text))
        await self.drain()

    async def block(self, user: str) -> None:
        accepted(await self._fake.unfollow(user))
        await self.drain()

    async def drain(self) -> None:
        await self._fake.drain()
        assert await self.service.inbox.drain(10), "the OA's inbox did not empty"

    def _button(self, user: str, wanted: str, message_id: str | None) -> tuple[OaSentMessage, str]:
        """The message to `user` (the one named, else the latest) with a button for `wanted`;
        that button's title."""
        sent = self._fake.messages_to(user)
        named = [record for record in sent if record.message_id == message_id]
        for record in [*named, *reversed(sent)]:
            for button in record.buttons:
                if action(button.payload) == wanted:
                    return record, button.title
        raise AssertionError(f"no button for {wanted!r} was ever shown to {user}")


def accepted(answer: WebhookAnswer) -> None:
    """The product's webhook took the event."""
    assert answer.status == 200, f"the OA webhook answered {answer.status}: {answer.body}"


@contextlib.asynccontextmanager
async def zalo_oa() -> AsyncIterator[ZaloOAPlatform]:
    """The platform for one test (its fake server running). Without the echo and the receipt
    the fake posts after each message: the product only records those (as
    tests/integration/test_zalo_oa_webhook.py shows), and they would double the suite's time."""
    async with FakeZaloOA(echo=False, receipts=False) as fake:
        yield ZaloOAPlatform(fake)
