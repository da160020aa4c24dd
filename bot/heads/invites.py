"""One-time role invites: an admin creates one, a chat redeems it from its `/start` payload."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from bot.clock import Clock
from bot.heads.messages import head_message
from bot.onestop.links import token_hash
from storage.invites import InviteStore
from storage.outbox import OutboxStore

INVITE_PREFIX = "i"
INVITE_TTL = timedelta(hours=72)
ROLES = ("head", "inspector", "admin")


def is_invite_payload(payload: str) -> bool:
    return payload.startswith(INVITE_PREFIX) and len(payload) == 1 + 22


class RoleInvites:
    """Creates invites and redeems them; the chat is told the outcome through the outbox."""

    def __init__(
        self,
        *,
        store: InviteStore,
        outbox: OutboxStore,
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.wake = wake

    async def invite(self, role: str, agency_code: str | None) -> str:
        """Create a one-time invite and return its /start payload."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        token = secrets.token_urlsafe(17)[:22]
        now = self.clock.utcnow()
        await self.store.create_invite(
            role=role,
            agency_code=agency_code,
            token_hash=token_hash(token),
            now=now,
            expires_at=now + INVITE_TTL,
        )
        return INVITE_PREFIX + token

    async def redeem(self, chat_id: int, payload: str) -> None:
        """Grant the invite's role to the chat (once), or tell it why not."""
        found = await self.store.redeem(
            token_hash(payload[len(INVITE_PREFIX) :]), chat_id, now=self.clock.utcnow()
        )
        if found.refusal:
            intent = head_message(chat_id, found.refusal)
        else:
            agency = found.agency_name or found.agency_code or ""
            intent = head_message(chat_id, f"role_{found.role}", agency=agency)
        await self.outbox.enqueue([intent], now=self.clock.utcnow())
        self.wake()


__all__ = ["INVITE_PREFIX", "INVITE_TTL", "ROLES", "RoleInvites", "is_invite_payload"]
