"""Route chat commands, button presses and dialog text to the command modules.

Channel-neutral: every entry point takes a resolved `Caller` and returns `Reply` values (or a
`PressResult`) that the channel renders (see `bot.conversation.router`). The role a command,
button or dialog declares is checked here, once, for all modules; a refusal is polite, says
nothing about why (never whether an agency exists) and is written to the audit log. Handlers
check agency scope themselves and raise `Refused("scope")`, which is treated the same way.

Refused button presses are counted (`ChatCounters`, exported at /metrics) and at most one per
chat every `PRESS_AUDIT_GAP` seconds is written to the audit log: nobody is ever shown a
button they may not press, so a stream of them is forged, and one line per press would bury
the real refusals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.commands.access import Auditor, CommandRateLimit, Verdict, allowed
from bot.commands.admin_texts import admin_text
from bot.commands.base import (
    Callback,
    Caller,
    Command,
    CommandModule,
    Dialog,
    PressResult,
    Refused,
    Reply,
    TypedPick,
    UsageError,
)
from bot.metrics import ChatCounters
from bot.texts import chat_text
from storage.dialogs import DialogStore

log = logging.getLogger(__name__)
CANCEL = "cancel"
CANCEL_ALIASES = ("huy",)
# The commands everyone has; the survey service answers them (listed for menus and help).
EVERYONE = ("start", "status", "language", "stop", "help")
PRESS_AUDIT_GAP = 600.0


class CommandDispatcher:
    """Every module's commands, buttons and dialogs behind one role check."""

    def __init__(
        self,
        *,
        modules: Sequence[CommandModule],
        audit: Auditor,
        dialogs: DialogStore,
        limiter: CommandRateLimit,
        now: Callable[[], datetime],
        counters: ChatCounters | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.audit = audit
        self.dialog_store = dialogs
        self.limiter = limiter
        self._now = now
        # The composition root puts the exported counters here (`Metrics.chat`).
        self.counters = counters if counters is not None else ChatCounters()
        self._monotonic = monotonic
        self._press_audited: dict[int, float] = {}
        self.commands: list[Command] = []
        self._by_name: dict[str, Command] = {}
        self._callbacks: dict[str, Callback] = {}
        self._dialogs: dict[str, Dialog] = {}
        for module in modules:
            self.add(module)

    def add(self, module: CommandModule) -> None:
        """Register a module; names, aliases, prefixes and dialog kinds must be unique."""
        for command in module.commands():
            for name in (command.name, *command.aliases):
                if name in self._by_name or name in (CANCEL, *CANCEL_ALIASES, *EVERYONE):
                    raise ValueError(f"command /{name} is registered twice")
                self._by_name[name] = command
            self.commands.append(command)
        for callback in module.callbacks():
            if callback.prefix in self._callbacks or callback.prefix in ("k", "f", "a", "s"):
                raise ValueError(f"callback prefix {callback.prefix!r} is taken")
            self._callbacks[callback.prefix] = callback
        for dialog in module.dialogs():
            if dialog.kind in self._dialogs:
                raise ValueError(f"dialog kind {dialog.kind!r} is registered twice")
            self._dialogs[dialog.kind] = dialog

    # -- what is known ---------------------------------------------------------------------

    def knows(self, name: str) -> bool:
        """Whether `/name` is a module command or /cancel (the survey service has the rest)."""
        name = name.lower()
        return name in self._by_name or name in (CANCEL, *CANCEL_ALIASES)

    def owns_callback(self, data: object) -> bool:
        if not isinstance(data, str) or ":" not in data:
            return False
        return data.split(":", 1)[0] in self._callbacks

    def commands_for(self, caller: Caller) -> list[Command]:
        """The module commands this caller may run, in registration order."""
        return [c for c in self.commands if c.role != "everyone" and allowed(caller, c.role)]

    def help(self, caller: Caller) -> list[Reply]:
        """The caller's own commands (none for a citizen: the survey service's help covers them)."""
        mine = self.commands_for(caller)
        if not mine:
            return []
        vi = caller.language != "en"
        lines = [admin_text(caller.language, "help_title")]
        lines += [f"/{c.name} — {c.help_vi if vi else c.help_en}" for c in mine]
        lines.append(f"/{CANCEL} — {admin_text(caller.language, 'help_cancel')}")
        return [Reply("\n".join(lines))]

    # -- the gate --------------------------------------------------------------------------

    def admit(self, channel: str, external_id: str) -> Verdict:
        """Spend one unit of a chat's inbound budget (before anything reads the database):
        "ok", "warn" (answer the warning, drop the update) or "silent" (drop it)."""
        verdict = self.limiter.check((channel, external_id))
        if verdict != "ok":
            self.counters.inbound_limited.labels(verdict).inc()
        return verdict

    def refund(self, channel: str, external_id: str) -> None:
        """Give the unit back: the update was a recorded survey answer."""
        self.limiter.refund((channel, external_id))

    def flood_reply(self, caller: Caller) -> Reply:
        return Reply(chat_text(caller.language, "flood"))

    async def _refuse_press(self, caller: Caller, target: str, reason: str) -> PressResult:
        """Count a refused press; audit it unless this chat's last one was audited lately."""
        self.counters.refused(reason)
        now = self._monotonic()
        last = self._press_audited.get(caller.chat_id)
        if last is None or now - last >= PRESS_AUDIT_GAP:
            if len(self._press_audited) > 10_000:
                self._press_audited = {
                    chat: at
                    for chat, at in self._press_audited.items()
                    if now - at < PRESS_AUDIT_GAP
                }
            self._press_audited[caller.chat_id] = now
            await self._refuse(caller, target, reason, None)
        return PressResult(notice=admin_text(caller.language, "refused_press"))

    async def _refuse(self, caller: Caller, target: str, reason: str, detail: Any) -> Reply:
        try:
            await self.audit.record(
                actor=caller,
                action="refused",
                target=target,
                after={"reason": reason, "detail": detail},
            )
        except Exception:
            log.exception("could not write a refusal to the audit log")
        return Reply(admin_text(caller.language, "refused"))

    def _failed(self, caller: Caller, what: str) -> Reply:
        log.exception("command failed", extra={"what": what, "chat_id": caller.chat_id})
        return Reply(admin_text(caller.language, "failed"))

    # -- entry points ----------------------------------------------------------------------

    async def command(self, caller: Caller, name: str, args: list[str]) -> list[Reply]:
        """Run `/name args`; the caller must hold the declared role."""
        name = name.lower()
        if name in (CANCEL, *CANCEL_ALIASES):
            return await self.cancel(caller)
        command = self._by_name.get(name)
        if command is None:
            return []
        if not allowed(caller, command.role):
            return [await self._refuse(caller, f"/{name}", "role", " ".join(args)[:200])]
        try:
            result = await command.run(caller, args)
        except Refused as exc:
            return [await self._refuse(caller, f"/{name}", exc.reason, " ".join(args)[:200])]
        except UsageError as exc:
            return [Reply(exc.text)]
        except Exception:
            return [self._failed(caller, f"/{name}")]
        return [result] if isinstance(result, Reply) else list(result)

    async def press(self, caller: Caller, data: str) -> PressResult:
        """A pressed inline button whose data starts with a module's prefix."""
        callback = self._callbacks.get(data.split(":", 1)[0])
        if callback is None:
            self.counters.refused("unknown")
            return PressResult(notice=admin_text(caller.language, "gone_button"))
        target = f"button {data[:64]}"
        if not allowed(caller, callback.role):
            return await self._refuse_press(caller, target, "role")
        try:
            return await callback.run(caller, data)
        except Refused as exc:
            return await self._refuse_press(caller, target, exc.reason)
        except UsageError as exc:
            return PressResult(notice=exc.text[:200])
        except Exception:
            return PressResult(notice=self._failed(caller, target).text)

    async def begin(self, caller: Caller, kind: str, state: dict[str, Any]) -> None:
        """`DialogStarter`: open (or replace) the chat's guided conversation."""
        if kind not in self._dialogs:
            raise ValueError(f"unknown dialog kind {kind!r}")
        await self.dialog_store.put(caller.chat_id, kind, state, now=self._utcnow())

    async def open_dialog(self, caller: Caller) -> str | None:
        found = await self.dialog_store.get(caller.chat_id)
        return None if found is None else found[0]

    async def text(self, caller: Caller, text: str) -> list[Reply] | None:
        """Text for the chat's open conversation, or None when none is open. A step that
        leaves a typed number to the options it showed raises `TypedPick` (its state kept)."""
        found = await self.dialog_store.get(caller.chat_id)
        if found is None:
            return None
        kind, state = found
        dialog = self._dialogs.get(kind)
        if dialog is None:
            await self.dialog_store.clear(caller.chat_id)
            return None
        if not allowed(caller, dialog.role):
            await self.dialog_store.clear(caller.chat_id)
            return [await self._refuse(caller, f"dialog {kind}", "role", None)]
        try:
            replies, new_state = await dialog.step(caller, state, text)
        except Refused as exc:
            await self.dialog_store.clear(caller.chat_id)
            return [await self._refuse(caller, f"dialog {kind}", exc.reason, None)]
        except UsageError as exc:
            return [Reply(exc.text)]
        except TypedPick:
            raise
        except Exception:
            return [self._failed(caller, f"dialog {kind}")]
        if new_state is None:
            await self.dialog_store.clear(caller.chat_id)
        else:
            await self.dialog_store.put(caller.chat_id, kind, new_state, now=self._utcnow())
        return list(replies)

    async def cancel(self, caller: Caller) -> list[Reply]:
        closed = await self.dialog_store.clear(caller.chat_id)
        return [Reply(admin_text(caller.language, "cancelled" if closed else "nothing_to_cancel"))]

    def _utcnow(self) -> datetime:
        return self._now()
