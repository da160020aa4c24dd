"""The whole conversation, for the channel-contract suite.

Real services on a real (migrated) database — intake, survey service, alerts, commands — with
the neutral router, the reply queue and the outbox dispatcher delivering through one platform
(`tests.channels.platforms`: a recording reference channel, or a real Zalo adapter in front of
a fake Zalo server), on a clock the test moves. A scenario talks like a user (`start`, `say`,
`choose`) and reads what the user's chat shows; `choose` presses the button of a message with
buttons and types the option's number where there are none, so one scenario runs on all.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.channels.inbound import ChatRef, Command, Inbound, Press, Start, Text
from bot.clock import Clock
from bot.config import Settings
from bot.conversation.replies import ReplyQueue
from bot.conversation.router import Router
from bot.conversation.views import ViewRenderer
from bot.onestop.dossier import validate
from bot.onestop.intake import body_digest
from bot.outbox.channel_sender import ChannelSender
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.signals import Wake
from bot.services import Services, build_services
from bot.survey.notices import SurveyLoop
from bot.texts import LIKERT, chat_text
from storage.db import create_engine
from storage.event_feed import EventFeed
from storage.outbox import OutboxStore
from storage.pending_choices import PendingChoiceStore
from tests.channels.platforms import Link, Platform, Shown
from tests.conftest import make_settings
from tests.support import dossier

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 10, 5, 10, 0, tzinfo=TZ)  # a Monday morning, outside quiet hours
_NUMBERED = re.compile(r"^(\d+)\. (.*)$")


class TestClock(Clock):
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        super().__init__(TZ)
        self.moment = start.astimezone(UTC)
        self.seconds = 0.0

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        step = timedelta(**delta)
        self.moment += step
        self.seconds += step.total_seconds()

    def monotonic(self) -> float:
        """Seconds for the send limiters (kept apart: a datetime rounds to microseconds)."""
        return self.seconds

    async def sleep(self, seconds: float) -> None:
        """A limiter's wait: time moves on at once (by at least a millisecond, as a real
        clock would between two looks)."""
        step = max(seconds, 0.001)
        self.seconds += step
        self.moment += timedelta(seconds=step)
        await asyncio.sleep(0)


class Conversation:
    """One platform's users wired to the real services (`connect` gives it the link)."""

    def __init__(
        self,
        services: Services,
        channel: Platform,
        clock: TestClock,
        *,
        wake: Wake,
        settings: Settings,
    ) -> None:
        self.services = services
        self.channel = channel
        self.clock = clock
        self.settings = settings
        self.notices: list[str | None] = []
        self.languages: dict[str, str] = {}
        self.choices = PendingChoiceStore(services.engine)
        self.replies = ReplyQueue(choices=self.choices, now=clock.utcnow)
        self.router = Router(
            surveys=services.surveys,
            linking=services.linking,
            alerts=services.loop,
            commands=services.commands,
            replies=self.replies,
            choices=self.choices,
        )
        self._wake = wake
        self.loop = SurveyLoop(services.surveys, EventFeed(services.engine))
        self._link: Link | None = None
        self._dispatcher: Dispatcher | None = None

    def connect(self, link: Link) -> None:
        """Send through `link`'s channel from now on."""
        outlet = link.channel
        views = ViewRenderer(
            self.services.surveys.forms, today=lambda: self.clock.local_now().date()
        )
        sender = ChannelSender(outlet, views, choices=self.choices, now=self.clock.utcnow)
        self._link = link
        self._dispatcher = Dispatcher(
            OutboxStore(self.services.engine),
            {outlet.name: sender},
            now=self.clock.utcnow,
            clock=self.clock.monotonic,
            sleep=self.clock.sleep,
        )
        self._wake.listen(self._dispatcher.wake)

    @property
    def link(self) -> Link:
        assert self._link is not None, "the conversation is not connected to its platform"
        return self._link

    @property
    def dispatcher(self) -> Dispatcher:
        assert self._dispatcher is not None, "the conversation is not connected"
        return self._dispatcher

    # -- the outside world -----------------------------------------------------------------

    async def case(self, code: str, **fields: Any) -> str:
        """Deliver a case from the one-stop system; return its start token."""
        payload = dossier(code, **fields)
        reply = await self.services.intake.accept(
            validate(payload),
            key=f"{code}:{body_digest(repr(sorted(fields.items())).encode())[:40]}",
            body_sha256=body_digest(repr(sorted(payload.items())).encode()),
            payload=payload,
        )
        web = reply.body["links"]["web"]
        assert isinstance(web, str)
        return web.rsplit("/", 1)[-1]

    async def case_link_code(self, code: str, **fields: Any) -> str:
        """Deliver a case from the one-stop system (again, if `case` did: the same answer);
        return the link code its receipt prints, from the intake answer."""
        payload = dossier(code, **fields)
        reply = await self.services.intake.accept(
            validate(payload),
            key=f"{code}:{body_digest(repr(sorted(fields.items())).encode())[:40]}",
            body_sha256=body_digest(repr(sorted(payload.items())).encode()),
            payload=payload,
        )
        found = reply.body["link_code"]
        assert isinstance(found, str)
        return found

    # -- the user --------------------------------------------------------------------------

    def chat(self, user: str, *, language: str | None = None) -> ChatRef:
        """The user as their platform names them (their app's language stays what it was)."""
        if language is not None:
            self.languages[user] = language
        found = self.languages.get(user, "vi")
        return ChatRef(channel=self.channel.name, external_id=user, language=found)

    async def send(self, event: Inbound) -> None:
        """What a user does on their platform; once the product has acted, let everything
        queued go out."""
        notice = await self.link.act(event)
        if isinstance(event, Press):
            self.notices.append(notice)
        await self.settle()

    async def start(self, user: str, payload: str | None = None) -> None:
        await self.send(Start(self.chat(user), payload))

    async def send_start(self, user: str, payload: str, *, language: str) -> None:
        """A start from a user whose app is set to `language` (where the app does not tell
        the bot its language, the user then sets it with `/language`)."""
        await self.send(Start(self.chat(user, language=language), payload))
        if not self.channel.traits.app_language and language != "vi":
            await self.send(Command(self.chat(user), "language", (language,)))

    async def block(self, user: str) -> None:
        """`user` blocks the bot (or unfollows it), as their platform lets them."""
        await self.link.block(user)
        await self.settle()

    async def say(self, user: str, text: str) -> None:
        await self.send(Text(self.chat(user), text))

    async def answer(self, user: str, shown: Shown, label: str) -> list[str]:
        """Answer `shown`'s option `label` (a press, or its number typed); what the user reads
        in return: the press's notice, then the messages that came (a typed pick's notice, or
        a press's where the platform cannot show it on the button, is one of them)."""
        if shown.labels():
            action = next(c.action for c in shown.view.flat_choices() if label in c.label)
            return await self.tap(user, action, shown.message_id)
        before = len(self.inbox(user))
        await self.choose(user, label, shown=shown)
        return self.texts(user)[before:]

    async def tap(self, user: str, action: str, message_id: str | None) -> list[str]:
        """Press a button by its action; what the user reads in return (as `answer`)."""
        before = len(self.inbox(user))
        notice = await self.press_action(user, action, message_id)
        return ([notice] if notice else []) + self.texts(user)[before:]

    async def type_quickly(self, user: str, *texts: str) -> None:
        """Several messages typed before anything the bot sends arrives."""
        await self.link.type_quickly(self.chat(user), texts)
        await self.settle()

    async def press(self, user: str, shown: Shown, label: str) -> str | None:
        """Press the button whose label contains `label`; return the notice it got (None
        where the platform shows no notice on a button: it comes as a message)."""
        action = next(c.action for c in shown.view.flat_choices() if label in c.label)
        return await self.press_action(user, action, shown.message_id)

    async def press_action(self, user: str, action: str, message_id: str | None) -> str | None:
        """Press a button by its action (one the chat may still show after an edit)."""
        await self.send(Press(self.chat(user), action, message_id))
        return self.notices[-1]

    async def choose(self, user: str, label: str, *, shown: Shown | None = None) -> None:
        """Answer the latest message's (or `shown`'s) option `label`: a press, or its number
        typed."""
        shown = shown or self.asking(user)
        if shown.labels():
            await self.press(user, shown, label)
            return
        number = next(n for n, text in numbered(shown.text) if label in text)
        await self.say(user, str(number))

    async def complete_survey(self, user: str, *, level: int = 4, money: bool = False) -> None:
        """Answer the open survey to its end: every five-level question at `level`, the first
        option of each choice, "no" to money and harassment unless `money`, a comment."""
        label = LIKERT["vi"][level - 1]
        for _ in range(60):
            shown = self.latest(user)
            if chat_text("vi", "thanks") in shown.text:
                return
            options = self.options(shown)
            if not options:
                await self.say(user, "Cán bộ nhiệt tình")
            elif any(label in option for option in options):
                await self.choose(user, label)
            elif "Có" in options:
                asks_wrong = "tiền" in shown.text or "nhũng" in shown.text
                await self.choose(user, "Có" if money or not asks_wrong else "Không")
            elif any("Góp ý" in o or "Bỏ qua" == o for o in options) and len(options) == 1:
                await self.say(user, "Cán bộ nhiệt tình")
            else:
                await self.choose(user, options[0])
                if self.still_asking(user, shown) and any("Xong" in o for o in options):
                    # A multi-choice question stays until "Xong" (done) is chosen.
                    done = next(o for o in options if "Xong" in o)
                    await self.choose(user, done, shown=shown)
        raise AssertionError("the survey never ended")

    def is_pick_confirmation(self, shown: Shown) -> bool:
        """A multi-choice pick confirmed by a message (where the question cannot change)."""
        picked = (chat_text("vi", "picks", picks="")[:9], chat_text("vi", "picks_none")[:9])
        return not self.channel.capabilities.edits_in_place and shown.text.startswith(picked)

    def asking(self, user: str) -> Shown:
        """The message the user answers now: the latest, or the multi-choice question whose
        picks the latest confirms."""
        for shown in reversed(self.inbox(user)):
            if not self.is_pick_confirmation(shown):
                return shown
        return self.latest(user)

    def still_asking(self, user: str, shown: Shown) -> bool:
        """Whether `shown` still awaits an answer: nothing came after it but, where the
        channel cannot edit, the confirmation of a multi-choice pick."""
        return self.asking(user) is shown

    async def tick(self) -> None:
        """One pass of the survey loop (notices, survey starts), then deliver."""
        await self.loop.step()
        await self.settle()

    async def sweep(self) -> tuple[int, int]:
        """The periodic sweep: expire and remind; returns (expired, reminded)."""
        found = await self.services.surveys.remind_and_expire()
        await self.settle()
        return found

    async def settle(self) -> None:
        """Let everything received be acted on and everything queued go out."""
        await self.link.drain()
        await self.replies.drain()
        await self.dispatcher.run_until_idle()
        await self.link.drain()  # what the platform reports of the sends (echoes, receipts)

    # -- what the user sees ----------------------------------------------------------------

    def inbox(self, user: str) -> list[Shown]:
        return self.channel.messages(user)

    def texts(self, user: str) -> list[str]:
        return [shown.text for shown in self.inbox(user)]

    def latest(self, user: str) -> Shown:
        shown = self.inbox(user)
        assert shown, f"nothing was sent to {user}"
        return shown[-1]

    def options(self, shown: Shown) -> list[str]:
        """The options a message offers: its buttons, or its numbered lines (a channel without
        buttons, or more choices than a message's buttons can carry)."""
        return shown.labels() or [text for _number, text in numbered(shown.text)]


def numbered(text: str) -> list[tuple[int, str]]:
    return [
        (int(found.group(1)), found.group(2))
        for line in text.split("\n")
        if (found := _NUMBERED.match(line))
    ]


@contextlib.asynccontextmanager
async def conversation(
    database_url: str, channel: Platform, **settings: Any
) -> AsyncIterator[Conversation]:
    """A conversation on a migrated database through `channel`'s platform."""
    values: dict[str, Any] = {
        "quiet_hours": "",
        "scheduler_enabled": False,
        **channel.settings(),
        **settings,
    }
    engine = create_engine(database_url)
    clock = TestClock(START)
    wake = Wake()
    settings_ = make_settings(database_url, **values)
    services = await build_services(settings_, engine, clock=clock, wake=wake)
    try:
        await services.surveys.ensure_form()
        talk = Conversation(services, channel, clock, wake=wake, settings=settings_)
        async with channel.connect(talk) as link:
            talk.connect(link)
            yield talk
            await talk.settle()
    finally:
        await services.close()
        await engine.dispose()
