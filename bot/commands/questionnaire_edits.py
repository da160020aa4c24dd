"""Audited edits of the questionnaire draft, shared by the one-line commands and the guided
conversations.

Every edit changes the one draft (created on the first edit as a copy of the active version),
is checked as a whole before it is stored, and is written to the audit log with its before and
after values. A refused edit raises `EditError`, which `error_text` words for the admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.clock import Clock
from bot.commands.base import AuditLog, Caller, Reply
from bot.commands.questionnaire_input import EditError
from bot.commands.questionnaire_rules import add, edit, known_code, remove
from bot.commands.questionnaire_texts import changed_name, field_list, qtext
from storage.drafts import DraftStore, NoActiveForm, StoredForm


def error_text(language: str, error: EditError) -> str:
    """The polite Vietnamese (or English) message for a refused edit."""
    return qtext(language, error.key, fields=field_list(language), **error.params)


def shown(language: str, value: Any) -> str:
    """A before/after value as it reads in a chat confirmation."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return changed_name(language, "yes" if value else "no")
    if isinstance(value, list):
        return ", ".join(str(o.get("code", o)) if isinstance(o, dict) else str(o) for o in value)
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


class DraftEditor:
    """Changes the draft one audited edit at a time."""

    def __init__(self, store: DraftStore, *, audit: AuditLog, clock: Clock) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock

    async def current(self) -> StoredForm | None:
        """The draft if there is one, else the active version."""
        return await self._store.draft() or await self._store.active()

    async def change(
        self,
        caller: Caller,
        apply: Callable[[str, dict[str, Any]], tuple[str, dict[str, Any], Any]],
        *,
        action: str,
        target: str,
    ) -> tuple[StoredForm, StoredForm, Any]:
        """Run one edit on the draft and audit it; `apply` returns (base, definition, extra),
        where extra is (before, after) for the audit log. `EditError` passes through."""
        extra: dict[str, Any] = {}

        def run(base: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any]]:
            new_base, new_definition, extra["value"] = apply(base, definition)
            return new_base, new_definition

        try:
            before, after = await self._store.change(run, now=self._clock.utcnow())
        except NoActiveForm:
            raise EditError("no_form") from None
        old, new = extra["value"]
        await self._audit.record(actor=caller, action=action, target=target, before=old, after=new)
        return before, after, extra["value"]

    async def known(self, code: str) -> str:
        """The stored spelling of a typed question code (for messages and the audit log)."""
        current = await self.current()
        if current is None:
            raise EditError("no_form")
        return known_code(current.definition, code)

    async def edit_fields(self, caller: Caller, code: str, changes: dict[str, str]) -> Reply:
        """Apply field changes to one question; `EditError` passes through."""
        code = await self.known(code)

        def apply(base: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
            new, old_fields, new_fields = edit(base, definition, code, changes)
            return base, new, (old_fields, new_fields)

        _before, _after, (old, new) = await self.change(
            caller, apply, action="questionnaire.edit", target=f"draft:{code}"
        )
        lang = caller.language
        lines = [
            qtext(
                lang,
                "change_line",
                field=changed_name(lang, field),
                before=shown(lang, old[field]),
                after=shown(lang, value),
            )
            for field, value in new.items()
        ]
        return Reply(qtext(lang, "edited", code=code, changes="\n".join(lines) or "—"))

    async def add_to_draft(self, caller: Caller, question: dict[str, Any]) -> Reply:
        def apply(base: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
            return base, add(base, definition, question), (None, question)

        _before, after, _ = await self.change(
            caller, apply, action="questionnaire.add", target=f"draft:{question['code']}"
        )
        position = len(after.definition["questions"])
        return Reply(qtext(caller.language, "added", code=question["code"], position=position))

    async def remove_from_draft(self, caller: Caller, code: str) -> Reply:
        code = await self.known(code)

        def apply(base: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
            new, removed = remove(base, definition, code)
            return base, new, (removed, None)

        await self.change(caller, apply, action="questionnaire.remove", target=f"draft:{code}")
        return Reply(qtext(caller.language, "removed", code=code))


__all__ = ["DraftEditor", "error_text", "shown"]
