"""An in-process chat bench: the real service (intake over HTTP, storage, survey and command
services) with the real python-telegram-bot handlers, fed updates from the fake Bot API.

No outbox dispatcher runs (no bot token is configured), so what the bot *queues* for a chat is
read back from the outbox and rendered exactly as the sender would render it; replies sent
directly (command replies, callback answers) reach the fake Bot API.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from telegram import Update
from telegram.ext import Application

from bot.app import TELEGRAM_LINKS, create_app
from bot.channels.base import Limits
from bot.services import Services
from bot.survey.engine import DONE, NO, SKIP
from bot.survey.notices import SurveyLoop
from bot.telegram import handlers
from bot.telegram.render import TelegramRenderer, press_data
from bot.telegram.sender import TelegramMessenger
from bot.web.keys import LINKS, METRICS, ROUTER, SERVICES
from storage.event_feed import EventFeed
from storage.models import Chat, OutboxMessage
from tests.conftest import make_settings
from tests.fakes import FakeTelegram
from tests.support import dossier, signed

outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Queued:
    """A message the bot queued for a chat, rendered as the citizen would read it."""

    kind: str
    status: str
    text: str
    payload: dict[str, Any]


@dataclass
class Bench:
    fake: FakeTelegram
    http: TestClient
    application: Application
    services: Services
    app: web.Application
    _anchors: dict[int, int] = field(default_factory=dict)
    _moments: int = 0

    # -- the one-stop system -------------------------------------------------------------------

    async def event(self, code: str, status: int, **fields: Any) -> dict[str, Any]:
        """Deliver a signed one-stop event (a newer one each call); return the JSON answer."""
        self._moments += 1
        moment = f"20261002{8 + self._moments // 60:02d}{self._moments % 60:02d}00"
        body, headers = signed(dossier(code, TrangThaiHoSo=status, ThoiDiemXuLy=moment, **fields))
        response = await self.http.post("/api/v1/onestop/events", data=body, headers=headers)
        assert response.status in (200, 202), await response.text()
        return dict(await response.json())

    async def settle(self) -> None:
        """Run the survey loop's pass now: notices for every event so far are queued and due
        surveys are open when it returns (the service's own loop may have done it first)."""
        await SurveyLoop(self.services.surveys, EventFeed(self.services.engine)).step()

    async def case(self, code: str, status: int = 4, **fields: Any) -> str:
        """A new case; returns its /start payload."""
        answer = await self.event(code, status, **fields)
        return str(answer["links"]["telegram"].split("start=", 1)[1])

    # -- the citizen ---------------------------------------------------------------------------

    async def feed(self, update: dict[str, Any]) -> None:
        await self.application.process_update(Update.de_json(update, self.application.bot))

    async def text(self, chat: int, text: str) -> None:
        await self.feed(self.fake.user_sends_text(chat, text))

    async def start(self, chat: int, payload: str) -> None:
        await self.feed(self.fake.user_sends_command(chat, "/start", payload))

    async def contact(self, chat: int, phone: str) -> None:
        await self.feed(self.fake.user_shares_contact(chat, phone))

    async def press(self, chat: int, data: str) -> str | None:
        """Press a button with this callback data; return the callback answer's text."""
        if chat not in self._anchors:
            self.fake.add_user(chat)
            message = await self.application.bot.send_message(chat, "·")
            self._anchors[chat] = message.message_id
        update = self.fake.user_presses(chat, self._anchors[chat], data, strict=False)
        await self.feed(update)
        answer = self.fake.callback_answer(str(update["callback_query"]["id"]))
        assert answer is not None, f"callback {data!r} was not answered"
        return answer.get("text")

    async def answer_survey(self, chat: int, *, limit: int = 60) -> int:
        """Answer the chat's open survey to the end by buttons (satisfied, no complaint);
        return the number of presses."""
        forms = self.services.surveys.forms
        presses = 0
        for _ in range(limit):
            question = await self.latest_question(chat)
            if question is None:
                return presses
            found = await self.services.surveys.surveys.survey(int(question["survey_id"]))
            assert found is not None
            survey, _answers = found
            if survey.status not in ("invited", "in_progress"):
                return presses
            form = await forms.get(survey.version)
            current = form.question(survey.current_code or "")
            assert current is not None
            if current.kind == "likert5":
                values = ["4"]
            elif current.kind == "yes_no":
                values = [NO]
            elif current.kind == "choice":
                first = current.options[0].code
                values = [first, DONE] if current.max_choices > 1 else [first]
            else:
                values = [SKIP]
            for value in values:
                await self.press(chat, press_data(survey.id, current.code, value))
                presses += 1
        raise AssertionError("the survey never ended")

    # -- what the bot queued -------------------------------------------------------------------

    async def queued(self, chat: int, *, status: str | None = "pending") -> list[Queued]:
        """The chat's outbox rows (oldest first), rendered in the chat's language."""
        stmt = (
            select(outbox_t.c.kind, outbox_t.c.status, outbox_t.c.payload, chats_t.c.language)
            .join(chats_t, chats_t.c.id == outbox_t.c.chat_id)
            .where(chats_t.c.channel == "telegram", chats_t.c.external_id == str(chat))
            .order_by(outbox_t.c.id)
        )
        if status is not None:
            stmt = stmt.where(outbox_t.c.status == status)
        async with self.services.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        surveys = self.services.surveys
        renderer = TelegramRenderer(surveys.forms, today=lambda: surveys.clock.local_now().date())
        found = []
        for row in rows:
            text, _markup = await renderer.render(row.kind, dict(row.payload), row.language)
            found.append(Queued(row.kind, row.status, text, dict(row.payload)))
        return found

    async def texts(self, chat: int, *, status: str | None = "pending") -> list[str]:
        return [q.text for q in await self.queued(chat, status=status)]

    async def latest_question(self, chat: int) -> dict[str, Any] | None:
        questions = [q for q in await self.queued(chat) if q.kind == "question"]
        return questions[-1].payload if questions else None

    def metric(self, name: str, **labels: str) -> float:
        value = self.app[METRICS].registry.get_sample_value(name, labels)
        return 0.0 if value is None else float(value)


@contextlib.asynccontextmanager
async def chat_bench(database_url: str, **settings: Any) -> AsyncIterator[Bench]:
    """The bench on a migrated database; `settings` override the test settings."""
    fake = FakeTelegram()
    await fake.start()
    values: dict[str, Any] = {"quiet_hours": "", "scheduler_enabled": False, **settings}
    app = create_app(make_settings(database_url, **values))
    try:
        async with TestClient(TestServer(app)) as http:
            services = app[SERVICES]
            # The bench drives Telegram itself (no token in the settings): it offers its links.
            app[LINKS].add("telegram", app[TELEGRAM_LINKS])
            app[TELEGRAM_LINKS].know(fake.bot_username)
            application = (
                Application.builder().token(fake.token).base_url(fake.base_url).updater(None)
            ).build()
            messenger = TelegramMessenger(lambda: application.bot, limits=Limits(30, 3))
            handlers.register(application, app[ROUTER], messenger)
            await application.initialize()
            await application.start()
            try:
                yield Bench(fake, http, application, services, app)
            finally:
                await application.stop()
                await application.shutdown()
    finally:
        await fake.stop()
