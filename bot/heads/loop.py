"""The closed loop on an alert: a head acknowledges it or handles it with a note, and for a
complaint the citizen is asked whether the handling satisfied them."""

from __future__ import annotations

from collections.abc import Callable

from bot.channels.inbound import ChatRef
from bot.clock import Clock
from bot.heads.messages import head_message
from bot.heads.recipients import Recipients
from storage.alerts import AlertStore
from storage.chats import ChatStore
from storage.outbox import OutboxIntent, OutboxStore


class AlertLoop:
    """Presses under alerts, heads' notes and the citizen's follow-up answer."""

    def __init__(
        self,
        *,
        store: AlertStore,
        recipients: Recipients,
        chats: ChatStore,
        outbox: OutboxStore,
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.recipients = recipients
        self.chats = chats
        self.outbox = outbox
        self.clock = clock
        self.wake = wake

    async def _chat_id(self, chat: ChatRef) -> int:
        row = await self.chats.chat(
            channel=chat.channel,
            external_id=chat.external_id,
            language=chat.language,
            now=self.clock.utcnow(),
        )
        return row.id

    async def on_alert_press(self, chat: ChatRef, alert_id: int, action: str) -> str:
        """A head pressed Đã tiếp nhận (a) or Đã xử lý (d); returns the notice key."""
        chat_id = await self._chat_id(chat)
        alert = await self.store.alert(alert_id)
        if alert is None or not await self.recipients.may_act(
            chat_id, alert.agency_code, alert.complaint
        ):
            return "not_yours"
        if alert.handled_at is not None:
            return "already_handled"
        if action == "a":
            acked = await self.store.acknowledge(alert_id, chat_id, now=self.clock.utcnow())
            return "acked" if acked else "already_acked"
        await self.store.expect_note(chat_id, alert_id)
        await self.outbox.enqueue(
            [head_message(chat_id, "ask_note", id=alert_id)], now=self.clock.utcnow()
        )
        self.wake()
        return "ask_note_sent"

    async def take_note(self, chat_id: int, text: str) -> bool:
        """If this chat owes a "handled" note, record it; True when the text was the note."""
        alert_id = await self.store.pending_note(chat_id)
        if alert_id is None:
            return False
        alert = await self.store.alert(alert_id)
        if alert is None:
            await self.store.expect_note(chat_id, None)
            return False
        intents = [head_message(chat_id, "handled", id=alert_id)]
        if alert.complaint and alert.survey_id is not None:
            citizen = await self.store.survey_chat(alert.survey_id)
            if citizen is not None:
                intents.append(
                    OutboxIntent(
                        chat_id=citizen,
                        kind="follow_up",
                        payload={"alert_id": alert_id, "code": alert.payload.get("code", "")},
                        not_before=None,
                        dedupe_key=f"follow_up:{alert_id}",
                    )
                )
        await self.store.handle(
            alert_id, chat_id, text.strip()[:1000], now=self.clock.utcnow(), intents=intents
        )
        self.wake()
        return True

    async def on_follow_up(self, chat: ChatRef, alert_id: int, satisfied: bool) -> str:
        """The citizen's answer to "did the handling satisfy you?"; returns the notice key."""
        chat_id = await self._chat_id(chat)
        if await self.store.citizen_answer(alert_id, chat_id, satisfied):
            return "follow_up_thanks"
        return "already_answered"


__all__ = ["AlertLoop"]
