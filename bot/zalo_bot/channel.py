"""The Zalo Bot channel: the `Channel` the outbox and the router send through, its lifecycle,
and the webhook handler.

Start: `getMe` checks the token (refused: the channel is off, with an error in the log;
unreachable: the service runs anyway and keeps trying with backoff). Then webhook mode calls
`setWebhook` with `{SIPAS_PUBLIC_URL}/zalo/bot/webhook` and the secret; polling mode deletes
any webhook and long-polls `getUpdates`, which hands out one update per call (408: nothing
arrived, poll again at once; any other error: back off).

Store first: every update, pushed or polled, is accepted into the channel's inbox
(`bot.channels.inbox`) under its message id, so a redelivery is acted on once; the inbox's
worker reads it into a neutral event and hands it to the router. Sending: plain text cut at
the platform's 2000 characters; a picture only where it can be given as a URL (the platform
takes no upload), else its text alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from bot.channels.base import (
    Blocked,
    Capabilities,
    Failed,
    Limits,
    MessageView,
    RetryLater,
    SendOutcome,
    Sent,
)
from bot.channels.inbox import EventInbox
from bot.channels.pieces import split_text
from bot.conversation.router import Router
from bot.conversation.wording import say
from bot.onestop.dossier import SchemaError
from bot.onestop.json_body import parse_json
from bot.web.responses import error, json_response
from bot.zalo_bot import CHANNEL
from bot.zalo_bot.client import ZaloBotApiError, ZaloBotClient, ZaloBotError, ZaloBotUnreachable
from bot.zalo_bot.events import ZaloBotUpdate, read_update
from storage.channel_events import MAX_ATTEMPTS, ChannelEventStore, StoredEvent
from storage.errors import StorageError

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/zalo/bot/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TEXT = 2000
MAX_BODY = 64 * 1024  # bytes of one pushed update (a text update is well under 4 KiB)
CAPABILITIES = Capabilities(
    max_buttons=0, edits_in_place=False, command_menus=False, text_limit=MAX_TEXT
)
# Puts a picture somewhere the platform can fetch it; its URL, or None when it cannot.
HostPicture = Callable[[bytes], Awaitable[str | None]]
State = Literal["starting", "running", "off"]


def outcome_of(exc: ZaloBotError) -> SendOutcome:
    """What a failed send means for the outbox: 429, 5xx and timeouts retry later, 403 is a
    chat that cannot be written to (the user never wrote, or left), other 4xx never go."""
    if not isinstance(exc, ZaloBotApiError):
        return RetryLater(f"network: {exc}")
    reason = f"{exc.code}: {exc.description}"
    if exc.code == 429:
        return RetryLater(reason, after=exc.retry_after)
    if exc.code == 403:
        return Blocked(reason)
    # 401 is our token's trouble, not the message's: it may be fixed while the row waits.
    if exc.code >= 500 or exc.code in (401, 408):
        return RetryLater(reason)
    return Failed(reason)


class ZaloBotChannel:
    """One Zalo bot: sends views, receives updates (webhook or polling) into its inbox."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        mode: str,
        webhook_url: str,
        webhook_secret: str,
        router: Router,
        store: ChannelEventStore,
        limits: Limits,
        now: Callable[[], datetime],
        host_picture: HostPicture | None = None,
        poll_timeout: float = 30.0,
        ack_deadline: float = 1.5,
        sweep_interval: float = 5.0,
        first_backoff: float = 1.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.limits = limits
        self.client = ZaloBotClient(base_url=base_url, token=token)
        self.inbox = EventInbox(
            store,
            CHANNEL,
            self._act,
            now=now,
            ack_deadline=ack_deadline,
            sweep_interval=sweep_interval,
        )
        self.state: State = "starting"
        self.account_name = ""
        # Set once the platform answered about the token (the channel runs, or is off).
        self.checked = asyncio.Event()
        # Set once updates can come in (the webhook is set, or the first poll is under way).
        self.receiving = asyncio.Event()
        self._mode = mode
        self._webhook_url = webhook_url
        self._secret = webhook_secret
        self._router = router
        self._host_picture = host_picture
        self._poll_timeout = poll_timeout
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None

    # -- sending ---------------------------------------------------------------------------

    async def send(self, external_id: str, view: MessageView) -> SendOutcome:
        """Send one view: its picture first where it can be hosted (the text as its caption),
        then the text in pieces of at most 2000 characters; a picture the platform refuses for
        good leaves the text to go alone."""
        if self.state == "off":
            return RetryLater("the Zalo Bot channel is off (its token was refused)", after=300.0)
        text = view.text
        sent: Sent | None = None
        if view.picture is not None:
            photo = await self._hosted(view.picture)
            if photo is None:
                log.info("zalo bot: no place to host a picture; its text goes alone")
            else:
                outcome = await self._deliver(
                    self.client.send_photo(external_id, photo, text[:MAX_TEXT] or None)
                )
                if isinstance(outcome, Sent):
                    sent, text = outcome, text[MAX_TEXT:]
                elif isinstance(outcome, Failed):
                    # The platform would not take the picture (it could not fetch the link,
                    # e.g. SIPAS_PUBLIC_URL is not reachable from Zalo): the text goes alone.
                    log.warning(
                        "zalo bot: the picture was refused; its text goes alone",
                        extra={"error": outcome.error},
                    )
                else:
                    return outcome
        if not text.strip():
            return sent or Failed("nothing to send: the message is empty")
        for piece in split_text(text, MAX_TEXT):
            outcome = await self._deliver(self.client.send_message(external_id, piece))
            if not isinstance(outcome, Sent):
                return outcome
            sent = outcome
        assert sent is not None
        return sent

    async def edit(
        self, external_id: str, message_id: str, view: MessageView, *, choices_only: bool = False
    ) -> bool:
        """Sent messages cannot be changed on this platform."""
        return False

    async def _deliver(self, call: Awaitable[Any]) -> SendOutcome:
        try:
            result = await call
        except ZaloBotError as exc:
            return outcome_of(exc)
        found = result.get("message_id") if isinstance(result, dict) else None
        return Sent(str(found) if found is not None else None)

    async def _hosted(self, picture: bytes) -> str | None:
        if self._host_picture is None:
            return None
        try:
            return await self._host_picture(picture)
        except Exception:
            log.exception("zalo bot: hosting a picture failed")
            return None

    # -- acting on stored updates ----------------------------------------------------------

    async def _act(self, stored: StoredEvent) -> None:
        """Route one stored update; queue the replies."""
        update = read_update(stored.body)
        event = update.event if update is not None else None
        if event is None:
            return
        try:
            reaction = await self._router.handle(event, self)
        except Exception:
            # The inbox tries again later; after the last try, the user is not left silent.
            if stored.attempts >= MAX_ATTEMPTS and event.chat.private:
                busy = MessageView(say(event.chat.language, "busy", buttons=False))
                await self.send(event.chat.external_id, busy)
            raise
        self._router.deliver(self, reaction)

    async def _take(self, update: ZaloBotUpdate) -> None:
        """Store a polled update, however long the database takes: the platform hands an
        update out once, so it is held here until it is stored."""
        delay = self._first_backoff
        while True:
            try:
                await self.inbox.accept(
                    dedupe_key=update.dedupe_key,
                    kind=update.kind,
                    user=update.user,
                    body=update.body,
                )
                return
            except StorageError as exc:
                log.warning("zalo bot: cannot store an update; retrying", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.inbox.start()
        self._task = asyncio.create_task(self._run(), name="zalo-bot")

    async def _run(self) -> None:
        if not await self._check_token():
            return
        if self._mode == "webhook":
            await self._set_webhook()
            return
        await self._until_done("deleteWebhook", self.client.delete_webhook)
        await self._poll()

    async def _backoff(self, delay: float) -> float:
        await asyncio.sleep(delay)
        return min(delay * 2, self._max_backoff)

    async def _check_token(self) -> bool:
        """Whether the platform knows the token; waits while it cannot be reached."""
        delay = self._first_backoff
        while True:
            try:
                me = await self.client.get_me()
                break
            except ZaloBotApiError as exc:
                if exc.code == 401:
                    self._turn_off()
                    return False
                log.warning("zalo bot: getMe failed, retrying", extra={"error": str(exc)})
            except ZaloBotUnreachable as exc:
                log.warning("zalo bot: unreachable, retrying", extra={"error": str(exc)})
            delay = await self._backoff(delay)
        self.state = "running"
        self.account_name = str(me.get("account_name") or "")
        self.checked.set()
        return True

    def _turn_off(self) -> None:
        self.state = "off"
        self.checked.set()
        log.error("ZALO_BOT_TOKEN was refused by the Zalo Bot Platform; the channel is off")

    async def _until_done(self, what: str, call: Callable[[], Awaitable[Any]]) -> bool:
        """Call until it succeeds (True) or is refused for good (False); retries network
        trouble, 429 and 5xx with backoff."""
        delay = self._first_backoff
        while True:
            try:
                await call()
                return True
            except ZaloBotApiError as exc:
                if exc.code == 401:
                    self._turn_off()
                    return False
                if exc.code < 500 and exc.code not in (408, 429):
                    log.error(
                        "zalo bot: a call was refused", extra={"method": what, "error": str(exc)}
                    )
                    return False
                log.warning(
                    "zalo bot: a call failed, retrying", extra={"method": what, "error": str(exc)}
                )
            except ZaloBotUnreachable as exc:
                log.warning(
                    "zalo bot: a call failed, retrying", extra={"method": what, "error": str(exc)}
                )
            delay = await self._backoff(delay)

    async def _set_webhook(self) -> None:
        if not 8 <= len(self._secret) <= 256:
            log.error(
                "ZALO_BOT_MODE=webhook needs ZALO_BOT_WEBHOOK_SECRET (8 to 256 characters); "
                "the Zalo Bot receives nothing"
            )
            return

        async def set_it() -> None:
            await self.client.set_webhook(url=self._webhook_url, secret_token=self._secret)

        if await self._until_done("setWebhook", set_it):
            self.receiving.set()
            log.info("zalo bot channel running", extra={"mode": "webhook"})

    async def _poll(self) -> None:
        """Long-poll `getUpdates` until stopped; one update per answer."""
        self.receiving.set()
        log.info("zalo bot channel running", extra={"mode": "polling"})
        delay = self._first_backoff
        while True:
            began = time.monotonic()
            try:
                found = await self.client.get_updates(timeout=self._poll_timeout)
            except ZaloBotApiError as exc:
                if exc.code == 408:  # nothing arrived within the long poll
                    if time.monotonic() - began < self._poll_timeout / 2:
                        await asyncio.sleep(min(delay, 1.0))  # a 408 at once: do not spin
                    continue
                if exc.code == 401:
                    self._turn_off()
                    return
                if exc.code == 409:  # a webhook was set meanwhile: polling needs it gone
                    with contextlib.suppress(ZaloBotError):
                        await self.client.delete_webhook()
                log.warning("zalo bot: getUpdates failed", extra={"error": str(exc)})
                delay = await self._backoff(delay)
                continue
            except ZaloBotUnreachable as exc:
                log.warning("zalo bot: getUpdates failed", extra={"error": str(exc)})
                delay = await self._backoff(delay)
                continue
            delay = self._first_backoff
            for body in found if isinstance(found, list) else [found]:
                update = read_update(body) if isinstance(body, dict) else None
                if update is None:
                    log.warning("zalo bot: getUpdates gave something that is no update")
                    continue
                await self._take(update)

    async def stop(self) -> None:
        """Stop receiving, finish the updates being acted on (the others stay stored for the
        next start), let the replies go, close the client."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.receiving.clear()
        await self.inbox.stop()
        await self._router.drain()
        await self.client.close()

    # -- the webhook -----------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        """One update pushed by the platform: secret first, then size and shape; stored
        before the answer (503 when the database refuses, so the platform delivers again)."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self._secret or not hmac.compare_digest(given.encode(), self._secret.encode()):
            return error(401, "wrong secret token")
        raw = await _read_capped(request, MAX_BODY)
        if raw is None:
            return error(413, f"the body is over {MAX_BODY} bytes")
        try:
            body = parse_json(raw)
        except SchemaError as exc:
            return error(400, exc.message, exc.fields)
        update = read_update(body)
        if update is None:
            return error(400, "not a Zalo Bot update: event_name and message are required")
        try:
            await self.inbox.accept(
                dedupe_key=update.dedupe_key, kind=update.kind, user=update.user, body=update.body
            )
        except StorageError:
            log.warning("zalo bot: cannot store a pushed update; refused for redelivery")
            return error(503, "the update cannot be stored now; deliver it again later")
        return json_response({"ok": True})


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The request body, or None when it is over `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
