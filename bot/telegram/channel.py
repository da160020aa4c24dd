"""The Telegram channel's lifecycle: initialise the bot, receive updates, expose the sender.

Polling (`getUpdates`) or webhook (`POST /telegram/webhook`, secret header checked). If
Telegram cannot be reached at start, the service runs anyway and keeps trying.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable

from aiohttp import web
from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.channels.base import Limits
from bot.commands.menus import MenuPublisher
from bot.conversation.router import Router
from bot.telegram import handlers
from bot.telegram.menus import TelegramMenus
from bot.telegram.sender import TelegramMessenger

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


class TelegramChannel:
    """Owns the python-telegram-bot Application inside the aiohttp service."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        mode: str,
        webhook_url: str,
        webhook_secret: str,
        router: Router,
        limits: Limits,
        on_username: Callable[[str], None],
        menus: MenuPublisher | None = None,
    ) -> None:
        self._token = token
        self._base_url = base_url
        self._mode = mode
        self._webhook_url = webhook_url
        self._secret = webhook_secret
        self._router = router
        self._menus = menus
        self.messenger = TelegramMessenger(self.bot, limits=limits)
        self._on_username = on_username
        self.application: Application | None = None
        self._ready = False
        self._task: asyncio.Task[None] | None = None

    def bot(self) -> Bot | None:
        return self.application.bot if self._ready and self.application else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        builder: ApplicationBuilder = (
            Application.builder().token(self._token).base_url(self._base_url)
        )
        if self._mode == "webhook":
            builder = builder.updater(None)
        application = builder.build()
        handlers.register(application, self._router, self.messenger)
        self.application = application
        delay = 1.0
        while True:
            try:
                await application.initialize()
                break
            except InvalidToken:
                log.error("TELEGRAM_BOT_TOKEN was refused by Telegram; the channel is off")
                return
            except (TelegramError, OSError) as exc:
                log.warning("telegram unreachable, retrying", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
        await application.start()
        self._on_username(application.bot.username)
        self._ready = True
        await self._set_commands()
        if self._mode == "webhook":
            await application.bot.set_webhook(
                self._webhook_url,
                secret_token=self._secret or None,
                allowed_updates=["message", "callback_query"],
            )
        else:
            assert application.updater is not None
            await application.bot.delete_webhook()
            await application.updater.start_polling(
                poll_interval=0.0, timeout=10, allowed_updates=["message", "callback_query"]
            )
        log.info(
            "telegram channel running",
            extra={"mode": self._mode, "username": application.bot.username},
        )

    async def _set_commands(self) -> None:
        """Per-scope menus: everyone's by default, admins' and heads' in their own chats."""
        if self._menus is None:
            return
        self._menus.attach(TelegramMenus(self.bot))
        try:
            await self._menus.publish_all()
        except Exception:
            log.exception("could not publish the command menus")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        application = self.application
        if application is None or not self._ready:
            return
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        # Replies already queued go out before the bot's HTTP client closes.
        await self._router.drain()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    async def webhook(self, request: web.Request) -> web.Response:
        """Receive one update pushed by Telegram (webhook mode)."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not self._secret or not hmac.compare_digest(given.encode(), self._secret.encode()):
            return web.json_response({"error": "wrong secret token"}, status=401)
        if self.application is None or not self._ready:
            return web.json_response({"error": "not ready"}, status=503)
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an object with an update_id")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.json_response({"error": "not a Telegram update"}, status=400)
        await self.application.update_queue.put(update)
        return web.json_response({"ok": True})
