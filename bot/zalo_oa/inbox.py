"""Acting on stored Zalo OA events: the handler the channel's `EventInbox` calls, one event of
a user at a time, in the order they arrived.

For each event: an interaction (a message, a tap, a follow, a shared phone) records the user's
last interaction at the event's own time — the reply window counts from it — and an unfollow
records that they left; then an event that is the user's input becomes a neutral event, the
router decides what it means, and its replies are queued. Echoes, receipts and unknown kinds
were only recorded (a kind given in `others`, such as a ZNS rating, goes to its own handler).

The OA asks an unlinked user for their phone once: after typed text (not a command, not a tap)
from a user who holds no linked case and was never asked, the welcome with the phone request
(`request_user_info` on this channel) is queued in the outbox, behind the answer to the text.
A follow's or a `/start`'s welcome carries the same request, so it counts as the asking.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from bot.channels.base import Channel
from bot.channels.inbound import Inbound, Start, Text
from bot.commands.access import AccessControl
from bot.conversation.reaction import Reaction
from bot.conversation.router import Router
from bot.sealing import Sealer, SealError
from bot.survey.intents import text_intent
from bot.survey.linking import CaseLinking
from bot.zalo_oa import CHANNEL
from bot.zalo_oa.events import EventError, OAEvent, read_event, to_inbound
from storage.channel_events import StoredEvent
from storage.channel_state import ActivityStore

log = logging.getLogger(__name__)
OtherHandler = Callable[[StoredEvent], Awaitable[None]]


class OAEventHandler:
    """Acts on one stored OA event (`EventInbox`'s handler: `await handler(event)`)."""

    def __init__(
        self,
        *,
        router: Router,
        channel: Channel,
        activity: ActivityStore,
        sealer: Sealer,
        linking: CaseLinking,
        now: Callable[[], datetime],
        oa_id: str = "",
        others: Mapping[str, OtherHandler] | None = None,
        access: AccessControl | None = None,
    ) -> None:
        self._router = router
        self._channel = channel
        self._activity = activity
        self._sealer = sealer
        self._linking = linking
        self._now = now
        self._oa_id = oa_id
        self._others = dict(others or {})
        # Who holds a role: staff (heads, inspectors, admins) are never asked for a phone.
        self._access = access
        self.phone_requests = 0  # phone requests queued (for /metrics)

    def acts_on(self, event: OAEvent) -> bool:
        """Whether acting on the event would do anything (an echo of what the OA sent, a
        delivery receipt, a seen mark, an unknown kind: nothing; the webhook stores those
        already settled)."""
        touches = bool(event.user) and (event.interaction or event.followed is not None)
        return touches or event.acted or event.kind in self._others

    async def __call__(self, stored: StoredEvent) -> None:
        try:
            event = read_event(stored.body, oa_id=self._oa_id)
        except EventError:
            # The webhook stores only events it could read: nothing to act on.
            log.warning("zalo oa: a stored event cannot be read", extra={"kind": stored.kind})
            return
        if event.user and (event.interaction or event.followed is not None):
            followed = True if event.followed is None else event.followed
            await self._activity.touch(CHANNEL, event.user, at=event.at, followed=followed)
        if not event.acted:
            other = self._others.get(stored.kind)
            if other is not None:
                await other(stored)
            return
        try:
            inbound = to_inbound(stored.body, sealer=self._sealer, oa_id=self._oa_id)
        except SealError:
            log.warning("zalo oa: a shared phone cannot be opened", extra={"kind": stored.kind})
            return
        if inbound is None:
            return
        reaction = await self._router.handle(inbound, self._channel)
        self._router.deliver(self._channel, reaction)
        await self._after(inbound, reaction)

    async def _after(self, inbound: Inbound, reaction: Reaction) -> None:
        """Ask for the phone when this was the first text of an unlinked user."""
        user = inbound.chat.external_id
        if isinstance(inbound, Start) and inbound.payload is None:
            await self._activity.mark_asked_phone(CHANNEL, user, now=self._now())
            return
        # Text the router answered itself (a dialog step, a typed pick, the flood warning) or
        # dropped is no moment to ask.
        if not isinstance(inbound, Text) or not reaction.answer or reaction.replies:
            return
        activity = await self._activity.activity(CHANNEL, user)
        if activity is None or activity.asked_phone_at is not None:
            return
        survey = self._linking.survey
        row = await survey.chat_row(inbound.chat)
        if row.opted_out or row.blocked:
            return
        if await self._linking.links.cases_of_chat(row.id):
            return
        if self._access is not None:
            caller = await self._access.caller(
                channel=CHANNEL, external_id=user, language=inbound.chat.language
            )
            if caller.roles != {"everyone"}:
                return
        if not await self._activity.mark_asked_phone(CHANNEL, user, now=self._now()):
            return
        self.phone_requests += 1
        await survey.say(text_intent(row.id, "share_phone_ask", keyboard="contact"))
