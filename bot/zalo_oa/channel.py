"""The Zalo OA `Channel`: sends a neutral view as customer-service messages, inside the
user's reply window only.

Zalo refuses CS messages to a user who last interacted more than 7 days ago (`-230`) or does
not follow the OA (`-213`). The product knows each user's last interaction (`ActivityStore`),
so it does not call Zalo then: `Failed(fallback=True)` lets the outbox carry the message
another way (ZNS, else the web link). Replies 48 h–7 d after that interaction are billable:
each is counted per agency and month (`BillableStore`) and in `billable_sent` (/metrics), and
the message is recorded with cost class `oa_billable` (free ones with `free`).

A refused access token is renewed (`OATokens.renew`) and the call retried once. A view that
becomes several CS messages is sent in order; if a later one fails, the outcome is that
failure (a retry sends the view again from its start).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from bot.channels.base import (
    COST_OA_BILLABLE,
    OUTCOMES,
    Capabilities,
    Failed,
    Limits,
    MessageView,
    RetryLater,
    SendOutcome,
    Sent,
    Transmit,
)
from bot.zalo_oa import CHANNEL
from bot.zalo_oa.client import (
    ApiAnswer,
    OAClient,
    ZaloOAUnavailable,
    is_token_error,
    outcome,
)
from bot.zalo_oa.render import CSRenderer, RenderError
from bot.zalo_oa.tokens import OATokens, TokensDead
from storage.channel_state import ActivityStore, BillableStore
from storage.errors import StorageError

log = logging.getLogger(__name__)

WINDOW = timedelta(days=7)  # no CS message after this long without an interaction
FREE_WINDOW = timedelta(hours=48)  # replies within this are free; later ones are billable
CAPABILITIES = Capabilities(
    max_buttons=5,
    edits_in_place=False,
    command_menus=False,
    text_limit=2000,
    asks_phone=True,
    press_notices=False,
)
# While the token pair is dead nothing can go out; rows wait for a restart with a new pair.
TOKEN_DEAD = RetryLater("token dead", after=3600.0)


class ZaloOAChannel:
    """The Zalo OA adapter's outbound side."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(
        self,
        client: OAClient,
        tokens: OATokens,
        *,
        renderer: CSRenderer,
        activity: ActivityStore,
        billable: BillableStore,
        limits: Limits,
        now: Callable[[], datetime],
        local_now: Callable[[], datetime],
        window: timedelta = WINDOW,
        free_window: timedelta = FREE_WINDOW,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._renderer = renderer
        self._activity = activity
        self._billable = billable
        self.limits = limits
        self._now = now
        self._local_now = local_now
        self._window = window
        self._free_window = free_window
        self.billable_sent = 0  # billable CS messages this process sent

    async def send(self, external_id: str, view: MessageView) -> SendOutcome:
        ready = await self.prepare(external_id, view)
        return ready if isinstance(ready, OUTCOMES) else await ready()

    async def prepare(self, external_id: str, view: MessageView) -> SendOutcome | Transmit:
        """The reply window checked (a database read): the outcome when nothing may go, else
        the CS messages' calls left to make."""
        choices = len(view.flat_choices())
        if choices > CAPABILITIES.max_buttons:
            return Failed(f"{choices} choices: the OA carries at most {CAPABILITIES.max_buttons}")
        try:
            seen = await self._activity.activity(CHANNEL, external_id)
        except StorageError as exc:
            return RetryLater(f"database: {exc}"[:200])
        if seen is None:
            return Failed("reply window closed", fallback=True)
        if not seen.followed:
            return Failed("the user does not follow the OA", fallback=True)
        age = self._now() - seen.last_inbound_at
        if age > self._window:
            return Failed("reply window closed", fallback=True)

        async def transmit() -> SendOutcome:
            sent = 0
            try:
                result, sent = await self._deliver(external_id, view)
            except TokensDead:
                # Kept queued: the channel stops, and the message goes once a new pair is set.
                result = TOKEN_DEAD
            except ZaloOAUnavailable as exc:
                result = RetryLater(str(exc)[:200])
            except RenderError as exc:
                result = Failed(f"cannot render: {exc}")
            except StorageError as exc:
                result = RetryLater(f"database: {exc}"[:200])
            if sent and age > self._free_window:
                await self._count_billable(external_id, sent)
                if isinstance(result, Sent):
                    result = Sent(result.external_message_id, COST_OA_BILLABLE)
            return result

        return transmit

    async def edit(
        self, external_id: str, message_id: str, view: MessageView, *, choices_only: bool = False
    ) -> bool:
        """A CS message cannot be changed once sent."""
        return False

    async def close(self) -> None:
        await self._client.close()

    async def _deliver(self, external_id: str, view: MessageView) -> tuple[SendOutcome, int]:
        """Upload the picture if any, then send each CS message; (outcome, messages sent)."""
        attachment_id: str | None = None
        picture = view.picture
        if picture is not None:
            uploaded = await self._call(partial(self._client.upload_image, png=picture))
            if not uploaded.ok:
                return outcome(uploaded), 0
            attachment_id = uploaded.attachment_id
            if attachment_id is None:
                return RetryLater("the upload answer names no attachment"), 0
        messages = self._renderer.messages(view, attachment_id=attachment_id)
        if not messages:
            return Failed("an empty view"), 0
        last_id: str | None = None
        for sent, message in enumerate(messages):
            send = partial(self._client.send_cs, user_id=external_id, message=message)
            answer = await self._call(send)
            if not answer.ok:
                return outcome(answer), sent
            last_id = answer.message_id
        return Sent(last_id), len(messages)

    async def _call(self, call: Callable[[str], Awaitable[ApiAnswer]]) -> ApiAnswer:
        """One API call with the current access token; renewed and retried once if refused."""
        token = await self._tokens.access_token()
        answer = await call(token)
        if is_token_error(answer):
            answer = await call(await self._tokens.renew(token))
        return answer

    async def _count_billable(self, external_id: str, messages: int) -> None:
        self.billable_sent += messages
        month = self._local_now().strftime("%Y-%m")
        try:
            for _ in range(messages):
                await self._billable.add(CHANNEL, external_id, month=month)
        except StorageError as exc:
            # The messages went out: a lost count must not make the outbox send them again.
            log.warning("could not count a billable zalo oa reply", extra={"error": str(exc)})
