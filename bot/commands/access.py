"""Who is calling, what they may do, how often: the one place roles are checked.

- `AccessControl.caller` resolves a `Caller` for a chat on every message, from the live
  (non-revoked) grants plus the admins and inspectors named in the environment, so a revocation
  applies to the very next message. A head's scope is every agency headed plus all descendants.
- `allowed` is the single role check the dispatcher uses for commands, buttons and dialogs.
- `Auditor` is the `AuditLog` the command modules write to (append-only).
- `CommandRateLimit` keeps a chat from flooding the bot: every inbound update (commands, text,
  media, stickers, contacts, button presses) spends the chat's budget; past it a chat gets one
  polite warning, then silence for a minute. An answer the survey actually records is given
  back (`refund`): it is bounded by the questionnaire, and a quick citizen must never be cut off
  mid-survey.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.clock import Clock
from bot.commands.base import Caller, Role
from storage.audit import AuditStore
from storage.chats import ChatStore
from storage.roles import RoleStore

LANGUAGES = ("vi", "en")


def allowed(caller: Caller, role: Role) -> bool:
    """Whether the caller holds the role a command, button or dialog declares.

    Admins may also run head commands (they see every agency: `Caller.sees`); "reader"
    commands (read-only views) are open to heads, inspectors and admins.
    """
    if role == "reader":
        return caller.admin or caller.inspector or bool(caller.head_of)
    return role in caller.roles or (role == "head" and caller.admin)


class AccessControl:
    """Resolves callers from storage and the bootstrap lists of the environment."""

    def __init__(
        self,
        *,
        roles: RoleStore,
        chats: ChatStore,
        clock: Clock,
        admins: Iterable[tuple[str, str]] = (),
        inspectors: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.roles = roles
        self.chats = chats
        self.clock = clock
        self.admins = _people(admins)
        self.inspectors = _people(inspectors)

    def bootstrap_admin(self, channel: str, external_id: str) -> bool:
        """Admins named in the environment (SIPAS_ADMINS, SIPAS_ADMIN_TELEGRAM_IDS), on any
        channel; they cannot be revoked by chat."""
        return (channel, external_id) in self.admins

    def bootstrap_inspector(self, channel: str, external_id: str) -> bool:
        """Inspectors named in the environment (SIPAS_INSPECTORS, …_TELEGRAM_IDS)."""
        return (channel, external_id) in self.inspectors

    def env_role(self, role: str, channel: str, external_id: str) -> bool:
        """Whether the environment gives this person the role (it cannot be revoked by chat)."""
        if role == "admin":
            return self.bootstrap_admin(channel, external_id)
        return role == "inspector" and self.bootstrap_inspector(channel, external_id)

    def bootstrap_people(self) -> frozenset[tuple[str, str]]:
        """Everyone the environment names, as (channel, id on the channel)."""
        return self.admins | self.inspectors

    async def caller(
        self, *, channel: str, external_id: str, language: str, name: str = ""
    ) -> Caller:
        """The caller as of this message: chat row (created on first contact) and roles."""
        row = await self.chats.chat(
            channel=channel,
            external_id=external_id,
            language=language if language in LANGUAGES else "vi",
            now=self.clock.utcnow(),
        )
        found = await self.for_chat(
            chat_id=row.id,
            channel=channel,
            external_id=external_id,
            language=row.language,
            name=name,
        )
        if name.strip() and found.roles != {"everyone"}:
            await self.roles.remember_name(row.id, name.strip())
        return found

    async def for_chat(
        self, *, chat_id: int, channel: str, external_id: str, language: str, name: str = ""
    ) -> Caller:
        grants = await self.roles.grants_of(chat_id)
        head_of = frozenset(code for role, code in grants if role == "head" and code)
        scope = frozenset(await self.roles.descendants(sorted(head_of)))
        admin = self.bootstrap_admin(channel, external_id) or any(r == "admin" for r, _ in grants)
        inspector = self.bootstrap_inspector(channel, external_id) or any(
            r == "inspector" for r, _ in grants
        )
        # Only staff are named in the audit log; a citizen stays an id.
        short = "tg" if channel == "telegram" else channel
        label = f"{short}:{external_id}"
        if (admin or inspector or head_of) and name.strip():
            label = f"{name.strip()} ({label})"
        return Caller(
            chat_id=chat_id,
            channel=channel,
            external_id=external_id,
            language=language if language in LANGUAGES else "vi",
            label=label,
            admin=admin,
            inspector=inspector,
            head_of=head_of,
            scope=scope | head_of,
        )


def _people(given: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    return frozenset(
        (channel.strip(), external.strip()) for channel, external in given if external.strip()
    )


class Auditor:
    """The `AuditLog` of the command modules: one append-only row per change or refusal."""

    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def record(
        self,
        *,
        actor: Caller,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
    ) -> None:
        await self.store.append(
            at=self.clock.utcnow(),
            actor_chat_id=actor.chat_id,
            actor_label=actor.label,
            action=action,
            target=target,
            before=before,
            after=after,
        )


Verdict = Literal["ok", "warn", "silent"]


@dataclass(slots=True)
class _Window:
    times: deque[float] = field(default_factory=deque)
    silent_until: float = 0.0


class CommandRateLimit:
    """At most `limit` inbound updates per `window` seconds per chat (any hashable key, e.g.
    (channel, chat id on the channel): checked before the database is touched).

    The first update over the limit is answered with a warning ("warn"); the chat's updates
    are then ignored ("silent") for `silence` seconds, after which it starts afresh.
    """

    def __init__(
        self,
        *,
        limit: int = 20,
        window: float = 60.0,
        silence: float = 60.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.silence = silence
        self.now = now
        self._chats: dict[Hashable, _Window] = {}

    def refund(self, chat_id: Hashable) -> None:
        """Give back the chat's latest unit (an update that turned out to be progress)."""
        state = self._chats.get(chat_id)
        if state is not None and state.times:
            state.times.pop()

    def check(self, chat_id: Hashable) -> Verdict:
        now = self.now()
        state = self._chats.setdefault(chat_id, _Window())
        if now < state.silent_until:
            return "silent"
        while state.times and state.times[0] <= now - self.window:
            state.times.popleft()
        if len(state.times) >= self.limit:
            state.times.clear()
            state.silent_until = now + self.silence
            return "warn"
        state.times.append(now)
        if len(self._chats) > 10_000:
            self._forget(now)
        return "ok"

    def _forget(self, now: float) -> None:
        """Drop chats with nothing recent, so the table stays small."""
        for chat_id in [
            c
            for c, s in self._chats.items()
            if now >= s.silent_until and (not s.times or s.times[-1] <= now - self.window)
        ]:
            del self._chats[chat_id]
