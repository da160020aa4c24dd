"""Settings an admin changes by chat: reminder delay, expiry, quiet hours, survey status,
escalation delay.

`RuntimeConfig` holds the effective values (the environment's, overridden by what is stored in
`runtime_settings`), validates changes, stores them and applies them to the running services
at once (and again at every start). `SettingsCommands` is the `/caidat` (`/settings`) command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.commands.admin_texts import admin_text
from bot.commands.base import AuditLog, Callback, Caller, Command, Dialog, Reply, UsageError
from bot.config import RUNTIME_FIELDS, Settings, parse_quiet_hours
from storage.runtime_settings import RuntimeSettingsStore


def _number(text: str, low: float, high: float) -> float:
    value = float(text.strip().replace(",", "."))
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}–{high}")
    return int(value) if value == int(value) else value


def _quiet(text: str) -> str:
    value = "" if text.strip() in ("-", "off", "tat", "tắt") else text.strip()
    parse_quiet_hours(value)
    return value


def _status(text: str) -> int:
    if text.strip() not in ("9", "10"):
        raise ValueError("9 or 10")
    return int(text)


@dataclass(frozen=True, slots=True)
class Tunable:
    field: str  # the Settings field and the runtime_settings key
    key: str  # the Vietnamese chat key
    alias: str  # the English chat key
    label: str  # admin_texts key describing it
    parse: Callable[[str], Any]


TUNABLES = (
    Tunable("reminder_hours", "nhac", "reminder", "s_reminder", lambda t: _number(t, 1, 720)),
    Tunable("survey_expiry_days", "hethan", "expiry", "s_expiry", lambda t: _number(t, 1, 90)),
    Tunable("quiet_hours", "yenlang", "quiet", "s_quiet", _quiet),
    Tunable("survey_status", "trangthai", "status", "s_status", _status),
    Tunable(
        "escalation_hours", "leothang", "escalation", "s_escalation", lambda t: _number(t, 1, 168)
    ),
)
assert tuple(t.field for t in TUNABLES) == RUNTIME_FIELDS


class RuntimeConfig:
    """The effective runtime settings and how they reach the running services."""

    def __init__(
        self,
        settings: Settings,
        store: RuntimeSettingsStore,
        clock: Clock,
        apply: Callable[[dict[str, Any]], None] = lambda _values: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.apply = apply
        self.defaults = {f: getattr(settings, f) for f in RUNTIME_FIELDS}
        self.values = dict(self.defaults)
        self.overridden: set[str] = set()

    async def load(self) -> dict[str, Any]:
        """Read the stored overrides (invalid ones are ignored) and apply them."""
        stored = await self.store.all()
        for tunable in TUNABLES:
            if tunable.field in stored:
                try:
                    self.values[tunable.field] = tunable.parse(str(stored[tunable.field] or "-"))
                    self.overridden.add(tunable.field)
                except ValueError:
                    continue
        self.apply(dict(self.values))
        return dict(self.values)

    async def change(self, tunable: Tunable, text: str, *, by: str) -> tuple[Any, Any]:
        """Validate, store and apply one value; returns (before, after). ValueError if invalid."""
        value = tunable.parse(text)
        before = self.values[tunable.field]
        await self.store.put(tunable.field, value, now=self.clock.utcnow(), by=by)
        self.values[tunable.field] = value
        self.overridden.add(tunable.field)
        self.apply(dict(self.values))
        return before, value


class SettingsCommands:
    """`/caidat` (alias `/settings`): show, or change one setting (role admin)."""

    def __init__(self, *, config: RuntimeConfig, audit: AuditLog) -> None:
        self.config = config
        self.audit = audit

    def commands(self) -> Sequence[Command]:
        return [
            Command(
                "caidat",
                "admin",
                self.settings,
                admin_text("vi", "h_settings"),
                admin_text("en", "h_settings"),
                ("settings",),
            )
        ]

    def callbacks(self) -> Sequence[Callback]:
        return []

    def dialogs(self) -> Sequence[Dialog]:
        return []

    def _show(self, lang: str, value: Any) -> str:
        if value in ("", None):
            return admin_text(lang, "settings_off")
        return f"{value:g}" if isinstance(value, float) else str(value)

    async def settings(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        if not args:
            lines = [admin_text(lang, "settings_title")]
            for t in TUNABLES:
                changed = (
                    admin_text(lang, "settings_changed")
                    if t.field in self.config.overridden
                    else ""
                )
                key = t.key if lang != "en" else t.alias
                value = self._show(lang, self.config.values[t.field])
                label = admin_text(lang, t.label)
                lines.append(
                    admin_text(
                        lang, "settings_line", key=key, value=value, label=label, changed=changed
                    )
                )
            return Reply("\n".join(lines))
        name = args[0].lower()
        tunable = next((t for t in TUNABLES if name in (t.key, t.alias, t.field)), None)
        keys = ", ".join(t.key if lang != "en" else t.alias for t in TUNABLES)
        if tunable is None:
            raise UsageError(admin_text(lang, "settings_usage", keys=keys))
        label = admin_text(lang, tunable.label)
        name = tunable.key if lang != "en" else tunable.alias
        if len(args) != 2:
            raise UsageError(admin_text(lang, "settings_bad_value", key=name, label=label))
        try:
            before, after = await self.config.change(tunable, args[1], by=caller.label)
        except ValueError:
            raise UsageError(
                admin_text(lang, "settings_bad_value", key=name, label=label)
            ) from None
        await self.audit.record(
            actor=caller, action="setting", target=tunable.field, before=before, after=after
        )
        return Reply(
            admin_text(
                lang,
                "settings_set",
                key=name,
                before=self._show(lang, before),
                after=self._show(lang, after),
            )
        )
