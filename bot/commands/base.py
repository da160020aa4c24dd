"""The shapes every admin and head chat command shares.

A command module exposes a class whose `commands()`, `callbacks()` and `dialogs()` describe what
it handles. Handlers are channel-neutral: they get the resolved `Caller` and the arguments and
return `Reply` values; the dispatcher (`bot.commands.dispatch`) checks the role in one place,
renders replies on the channel, turns `Refused` into a polite refusal written to the audit log
and `UsageError` into a short usage hint.

Exceptions:

    CommandError          root of this package's errors
    ├── Refused           the caller may not do this (role or agency scope); reveals nothing
    └── UsageError        the arguments are wrong; `text` says what is expected
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.channels.base import Choice, MessageView

# "reader": read-only views of agencies (heads in their scope, inspectors and admins anywhere).
Role = Literal["everyone", "admin", "head", "inspector", "reader"]


class CommandError(Exception):
    """Root of the command errors."""


class Refused(CommandError):
    """The caller lacks the role or the agency is outside their scope."""

    def __init__(self, reason: str = "role") -> None:
        super().__init__(reason)
        self.reason = reason


class UsageError(CommandError):
    """Wrong or missing arguments; `text` is shown to the caller as it is."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class TypedPick(CommandError):
    """A dialog's step cannot read a typed number itself: it picks one of the options the
    dialog's last message showed, where the channel numbered them (the router's typed pick);
    where nothing was numbered, `replies` are the answer."""

    def __init__(self, replies: Sequence[Reply]) -> None:
        super().__init__("typed pick")
        self.replies = list(replies)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a command, with their roles as of this message (revocation applies at once)."""

    chat_id: int  # chats.id, the internal identity
    channel: str  # "telegram"
    external_id: str  # the chat id on its channel
    language: str  # "vi" or "en"
    label: str  # how the audit log names the person, e.g. "Nguyễn Văn A (tg:12345)"
    admin: bool = False
    inspector: bool = False
    head_of: frozenset[str] = frozenset()  # agencies granted directly
    scope: frozenset[str] = frozenset()  # head_of plus all their descendant agencies

    @property
    def roles(self) -> frozenset[str]:
        held = {"everyone"}
        if self.admin:
            held.add("admin")
        if self.inspector:
            held.add("inspector")
        if self.head_of:
            held.add("head")
        return frozenset(held)

    def sees(self, agency_code: str) -> bool:
        """Whether this caller may act on an agency's data (admins see every agency)."""
        return self.admin or agency_code in self.scope

    def reads(self, agency_code: str) -> bool:
        """Whether this caller may read an agency's figures: inspectors read every agency."""
        return self.inspector or self.sees(agency_code)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str  # callback data, at most 64 bytes


@dataclass(slots=True)
class Reply:
    """One message to the caller: text, optional inline buttons, optional PNG photo (the text
    is then its caption, at most 1024 characters)."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    photo: bytes | None = None

    def view(self) -> MessageView:
        """The reply as a channel-neutral view (each button's data is its action)."""
        return MessageView(
            self.text,
            [[Choice(b.label, b.data) for b in row] for row in self.buttons],
            picture=self.photo,
        )


@dataclass(slots=True)
class PressResult:
    """What a button press does: a short notice on the button (callback answer), an optional
    replacement of the pressed message, and further messages."""

    notice: str | None = None
    edit: Reply | None = None
    replies: list[Reply] = field(default_factory=list)


CommandFn = Callable[[Caller, list[str]], Awaitable[Reply | Sequence[Reply]]]
CallbackFn = Callable[[Caller, str], Awaitable[PressResult]]
# A guided conversation step: (caller, stored state, the text sent) → replies and the new
# state, or None when the conversation is over. `/cancel` is handled by the dispatcher.
DialogFn = Callable[
    [Caller, dict[str, Any], str], Awaitable[tuple[Sequence[Reply], dict[str, Any] | None]]
]


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # without the slash, lowercase ASCII, as typed and as listed in the menu
    role: Role  # who may run it; agency scope is checked by the handler via `Caller.sees`
    run: CommandFn
    help_vi: str  # one line for the menu (setMyCommands) and /help
    help_en: str
    aliases: tuple[str, ...] = ()  # English aliases, accepted but not listed in the menu


@dataclass(frozen=True, slots=True)
class Callback:
    prefix: str  # callback data starts with f"{prefix}:"; prefixes are unique across modules
    role: Role
    run: CallbackFn


@dataclass(frozen=True, slots=True)
class Dialog:
    kind: str  # stored with the chat's open conversation; unique across modules
    role: Role
    step: DialogFn


class DialogStarter(Protocol):
    """Opens a guided conversation for a chat (the dispatcher stores the state)."""

    async def begin(self, caller: Caller, kind: str, state: dict[str, Any]) -> None: ...


class AuditLog(Protocol):
    """Append-only record of every change and every refusal (who, what, when, before → after)."""

    async def record(
        self,
        *,
        actor: Caller,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
    ) -> None: ...


class CommandModule(Protocol):
    def commands(self) -> Sequence[Command]: ...

    def callbacks(self) -> Sequence[Callback]: ...

    def dialogs(self) -> Sequence[Dialog]: ...
