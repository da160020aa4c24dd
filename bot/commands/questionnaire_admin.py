"""Questionnaire administration by chat (role admin): list, edit, preview, publish, discard.

Every edit changes the one draft (created on the first edit as a copy of the active version)
and is checked as a whole before it is stored; `/publish` makes the draft the active version at
once for new invitations, while surveys in flight keep the version they started with. Commands
said without arguments start a guided conversation (`bot.commands.questionnaire_dialogs`).
Every change is written to the audit log with its before and after values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.commands import questionnaire_preview as preview
from bot.commands.base import (
    AuditLog,
    Callback,
    Caller,
    Command,
    Dialog,
    DialogStarter,
    Reply,
    UsageError,
)
from bot.commands.questionnaire_dialogs import GuidedEdits
from bot.commands.questionnaire_edits import DraftEditor, error_text
from bot.commands.questionnaire_input import EditError, find_field, parse_base
from bot.commands.questionnaire_rules import (
    codes,
    differences,
    move,
    rebase,
)
from bot.commands.questionnaire_texts import (
    base_name,
    help_line,
    kind_name,
    qtext,
)
from bot.survey.questionnaire import Questionnaire
from bot.survey.service import SurveyService
from storage.drafts import DraftStore, StoredForm

# Rough room for one Telegram message (4096 characters) with margin for the channel.
MESSAGE_ROOM = 3500
LINE_TEXT = 70


class QuestionnaireAdmin:
    """Admin commands that shape the questionnaire."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        surveys: SurveyService,
        audit: AuditLog,
        dialogs: DialogStarter,
        clock: Clock,
    ) -> None:
        self.store = DraftStore(engine)
        self._surveys = surveys
        self._audit = audit
        self._clock = clock
        self.editor = DraftEditor(self.store, audit=audit, clock=clock)
        self.guided = GuidedEdits(self.editor, dialogs)
        self.previews = preview.DraftPreview(self.store, dialogs)

    def commands(self) -> Sequence[Command]:
        def make(name: str, run: Any, key: str, *aliases: str) -> Command:
            return Command(name, "admin", run, help_line("vi", key), help_line("en", key), aliases)

        return [
            make("cauhoi", self.show, "list", "questions", "q_list"),
            make("q_edit", self.edit_text, "q_edit"),
            make("q_sua", self.set_field, "q_set", "q_set"),
            make("q_them", self.add_question, "q_add", "q_add"),
            make("q_xoa", self.remove_question, "q_remove", "q_remove"),
            make("q_thutu", self.move_question, "q_move", "q_move"),
            make("q_mau", self.use_base, "q_base", "q_base"),
            make("preview", self.preview, "preview", "xemthu"),
            make("publish", self.publish, "publish", "banhanh"),
            make("discard", self.discard, "discard", "huynhap"),
        ]

    def callbacks(self) -> Sequence[Callback]:
        return [Callback(preview.PREFIX, "admin", self.previews.press)]

    def dialogs(self) -> Sequence[Dialog]:
        return [
            *self.guided.dialogs(),
            Dialog(preview.DIALOG, "admin", self.previews.step),
        ]

    def _usage(self, error: EditError, caller: Caller) -> UsageError:
        return UsageError(error_text(caller.language, error))

    # -- listing -----------------------------------------------------------------------------

    async def show(self, caller: Caller, args: list[str]) -> list[Reply]:
        """List the active version and the draft (codes, kinds, factor, required, text)."""
        lang = caller.language
        active, draft = await self.store.active(), await self.store.draft()
        lines = [
            qtext(
                lang,
                "active_header",
                version=active.version,
                base=base_name(lang, active.base),
                count=len(active.definition["questions"]),
            )
            if active
            else qtext(lang, "no_active")
        ]
        wants_active = bool(args) and args[0].lower() in ("dangdung", "active", "hientai")
        if draft is None or wants_active:
            if draft is None:
                lines.append(qtext(lang, "no_draft"))
            if active is not None:
                lines += ["", qtext(lang, "active_list"), *self._lines(lang, active.definition)]
            return self._chunks(lines)
        count = len(draft.definition["questions"])
        lines += ["", qtext(lang, "draft_header", base=base_name(lang, draft.base), count=count)]
        lines += self._lines(lang, draft.definition)
        lines.append("")
        lines += self._diff_lines(lang, active, draft)
        lines.append(qtext(lang, "list_hint"))
        return self._chunks(lines)

    def _lines(self, lang: str, definition: dict[str, Any]) -> list[str]:
        form = Questionnaire.from_dict(definition)
        lines = []
        for position, q in enumerate(form.questions, start=1):
            if q.is_branch:
                need = qtext(lang, "branch", factor=q.after_low_in_factor)
            else:
                need = qtext(lang, "required" if q.required else "optional")
            text = q.text_vi if len(q.text_vi) <= LINE_TEXT else q.text_vi[: LINE_TEXT - 1] + "…"
            lines.append(
                qtext(
                    lang,
                    "question_line",
                    position=position,
                    code=q.code,
                    kind=kind_name(lang, q.kind),
                    factor=qtext(lang, "factor", factor=q.factor) if q.factor else "",
                    required=need,
                    text=text,
                )
            )
        return lines

    def _diff_lines(self, lang: str, active: StoredForm | None, draft: StoredForm) -> list[str]:
        if active is None:
            return []
        diff = differences(active.definition, draft.definition)
        lines = [
            qtext(lang, f"diff_{kind}", codes=", ".join(found))
            for kind, found in diff.items()
            if found
        ]
        return lines or [qtext(lang, "diff_none")]

    def _chunks(self, lines: list[str]) -> list[Reply]:
        replies: list[Reply] = []
        current: list[str] = []
        for line in lines:
            if current and len("\n".join([*current, line])) > MESSAGE_ROOM:
                replies.append(Reply("\n".join(current)))
                current = []
            current.append(line)
        replies.append(Reply("\n".join(current)))
        return replies

    # -- one-line edits ----------------------------------------------------------------------

    async def edit_text(self, caller: Caller, args: list[str]) -> Reply | list[Reply]:
        """`/q_edit <code> <new Vietnamese text>`; alone, a guided conversation."""
        if len(args) < 2:
            return await self.guided.start(caller, "q_edit", args)
        try:
            return await self.editor.edit_fields(caller, args[0], {"text_vi": " ".join(args[1:])})
        except EditError as exc:
            raise self._usage(exc, caller) from None

    async def set_field(self, caller: Caller, args: list[str]) -> Reply | list[Reply]:
        """`/q_sua <code> <field> <value>`; alone, a guided conversation."""
        # A field may be typed as two words ("chủ đề", "tối đa").
        split = 3 if len(args) >= 3 and find_field(args[1] + args[2]) else 2
        if len(args) <= split:
            given = args if split == 2 else [args[0], " ".join(args[1:3])]
            return await self.guided.start(caller, "q_set", given)
        code, field, values = args[0], " ".join(args[1:split]), args[split:]
        changes = {field: " ".join(values)}
        if find_field(field) == "kind" and len(values) > 1:
            # `/q_sua X loai yes_no on_time` or `/q_sua X loai choice <options>`
            rest = " ".join(values[1:])
            changes = {field: values[0], "options" if "=" in rest else "topic": rest}
        try:
            return await self.editor.edit_fields(caller, code, changes)
        except EditError as exc:
            raise self._usage(exc, caller) from None

    async def add_question(self, caller: Caller, args: list[str]) -> Reply | list[Reply]:
        """Adding a question is always a guided conversation (a code may be given at once)."""
        return await self.guided.start(caller, "q_add", [" ".join(args)] if args else [])

    async def remove_question(self, caller: Caller, args: list[str]) -> Reply | list[Reply]:
        if not args:
            return await self.guided.start(caller, "q_remove", args)
        try:
            return await self.editor.remove_from_draft(caller, args[0])
        except EditError as exc:
            raise self._usage(exc, caller) from None

    async def move_question(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        if len(args) != 2:
            raise UsageError(qtext(lang, "q_move_usage"))
        code, position = args

        def apply(base: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
            new, old_at, new_at = move(base, definition, code, position)
            return base, new, (old_at, new_at)

        try:
            code = await self.editor.known(code)
            _b, _a, (old_at, new_at) = await self.editor.change(
                caller, apply, action="questionnaire.move", target=f"draft:{code}"
            )
        except EditError as exc:
            raise self._usage(exc, caller) from None
        return Reply(qtext(lang, "moved", code=code, before=old_at, after=new_at))

    async def use_base(self, caller: Caller, args: list[str]) -> Reply:
        """`/q_mau rutgon|daydu`: the draft becomes a copy of a built-in SIPAS form."""
        lang = caller.language
        if not args:
            raise UsageError(qtext(lang, "q_base_usage"))
        try:
            base = parse_base(" ".join(args))  # "đầy đủ" reads as "daydu"

            def apply(old_base: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
                fresh = rebase(base)
                summary = (
                    {"base": old_base, "questions": codes(definition)},
                    {"base": base, "questions": codes(fresh)},
                )
                return base, fresh, summary

            _b, after, _ = await self.editor.change(
                caller, apply, action="questionnaire.base", target="draft"
            )
        except EditError as exc:
            raise self._usage(exc, caller) from None
        count = len(after.definition["questions"])
        return Reply(qtext(lang, "rebased", base=base_name(lang, base), count=count))

    # -- publish and discard -----------------------------------------------------------------

    async def publish(self, caller: Caller, args: list[str]) -> Reply:
        """Make the draft the active version for new invitations, at once."""
        lang = caller.language
        published = await self.store.publish(now=self._clock.utcnow())
        if published is None:
            return Reply(qtext(lang, "nothing_to_publish"))
        # New invitations on this replica use the new version from now on; other replicas
        # look the active version up again within a few seconds.
        self._surveys.forms.forget_active()
        await self._audit.record(
            actor=caller,
            action="questionnaire.publish",
            target=f"version:{published.version}",
            before={"version": published.retired},
            after={
                "version": published.version,
                "questions": codes(published.definition),
            },
        )
        return Reply(qtext(lang, "published", version=published.version))

    async def discard(self, caller: Caller, args: list[str]) -> Reply:
        lang = caller.language
        dropped = await self.store.discard()
        if dropped is None:
            return Reply(qtext(lang, "nothing_to_discard"))
        await self._audit.record(
            actor=caller,
            action="questionnaire.discard",
            target="draft",
            before={"base": dropped.base, "questions": codes(dropped.definition)},
            after=None,
        )
        return Reply(qtext(lang, "discarded"))

    # -- preview -----------------------------------------------------------------------------

    async def preview(self, caller: Caller, args: list[str]) -> Reply:
        """Walk through the draft as a citizen would; nothing is recorded."""
        return await self.previews.start(caller)
