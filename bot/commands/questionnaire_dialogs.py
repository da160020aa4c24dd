"""Guided conversations for questionnaire edits: one question at a time, checked at each step.

`/q_edit`, `/q_sua`, `/q_them` and `/q_xoa` said without arguments open one of these. Each step
validates what was sent; bad input gets the reason and the same question again (the state is
kept), `/cancel` (handled by the dispatcher) ends it. The last step makes the change through
`QuestionnaireAdmin`, so it is checked as a whole and audited like a one-line edit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.commands.base import Caller, Dialog, DialogStarter, Reply
from bot.commands.questionnaire_edits import DraftEditor
from bot.commands.questionnaire_input import (
    FACTOR_TOPICS,
    KIND_ORDER,
    EditError,
    parse_code,
    parse_factor,
    parse_field,
    parse_kind,
    parse_max,
    parse_options,
    parse_required,
    parse_text,
    parse_topic,
    topics_for,
)
from bot.commands.questionnaire_rules import codes, known_code, new_question
from bot.commands.questionnaire_texts import FIELD_NAMES, field_list, kind_name, qtext, topic_name

Step = tuple[Sequence[Reply], dict[str, Any] | None]
KINDS = ("q_edit", "q_set", "q_add", "q_remove")


class GuidedEdits:
    """The guided conversations of the questionnaire commands; edits go through `editor`."""

    def __init__(self, editor: DraftEditor, dialogs: DialogStarter) -> None:
        self._editor = editor
        self._dialogs = dialogs
        self._steps: dict[str, Callable[[Caller, dict[str, Any], str], Awaitable[Step]]] = {
            "q_edit": self._edit_step,
            "q_set": self._set_step,
            "q_add": self._add_step,
            "q_remove": self._remove_step,
        }

    def dialogs(self) -> list[Dialog]:
        return [Dialog(kind, "admin", self._guarded(kind)) for kind in KINDS]

    def _guarded(self, kind: str) -> Callable[[Caller, dict[str, Any], str], Awaitable[Step]]:
        step = self._steps[kind]

        async def run(caller: Caller, state: dict[str, Any], text: str) -> Step:
            """One step; a refused edit asks again with the reason, keeping the state."""
            try:
                return await step(caller, dict(state), text)
            except EditError as exc:
                if exc.key == "no_form":
                    return [Reply(qtext(caller.language, "no_form"))], None
                error = qtext(
                    caller.language, exc.key, fields=field_list(caller.language), **exc.params
                )
                return [Reply(qtext(caller.language, "try_again", error=error))], state

        return run

    async def start(self, caller: Caller, kind: str, given: Sequence[str] = ()) -> list[Reply]:
        """Open a conversation; answers already `given` with the command are taken as its
        first steps (e.g. `/q_sua F1` goes straight to "which field?")."""
        lang = caller.language
        state: dict[str, Any] | None = (
            {"step": "code", "q": {}} if kind == "q_add" else {"step": "code"}
        )
        if kind == "q_add":
            replies: Sequence[Reply] = [Reply(qtext(lang, "ask_new_code"))]
        else:
            key = "ask_remove" if kind == "q_remove" else "ask_code"
            replies = [Reply(qtext(lang, key, codes=", ".join(await self._codes())))]
        step = self._guarded(kind)
        for text in given:
            if state is None:
                break
            before = state
            replies, state = await step(caller, state, text)
            if state is before:  # refused: stop at this step, with the reason
                break
        if state is not None:
            await self._dialogs.begin(caller, kind, state)
        return list(replies)

    async def _codes(self) -> list[str]:
        current = await self._editor.current()
        return [] if current is None else codes(current.definition)

    async def _question(self, code: str) -> dict[str, Any]:
        current = await self._editor.current()
        if current is None:
            raise EditError("no_form")
        known = known_code(current.definition, code)
        return dict(next(q for q in current.definition["questions"] if q["code"] == known))

    # -- /q_edit: code → new Vietnamese text ---------------------------------------------------

    async def _edit_step(self, caller: Caller, state: dict[str, Any], text: str) -> Step:
        lang = caller.language
        if state["step"] == "code":
            question = await self._question(text.strip())
            state.update(step="text", code=question["code"])
            return [
                Reply(qtext(lang, "ask_new_vi", code=question["code"], text=question["text_vi"]))
            ], state
        reply = await self._editor.edit_fields(caller, state["code"], {"text_vi": text})
        return [reply], None

    # -- /q_sua: code → field → value (→ the topic or options a new kind needs) --------------

    async def _set_step(self, caller: Caller, state: dict[str, Any], text: str) -> Step:
        lang = caller.language
        if state["step"] == "code":
            question = await self._question(text.strip())
            state.update(step="field", code=question["code"], changes={})
            return [
                Reply(qtext(lang, "ask_field", code=question["code"], fields=field_list(lang)))
            ], state
        if state["step"] == "field":
            field = parse_field(text)
            question = await self._question(state["code"])
            state.update(step="value", field=field)
            current = _current_value(question, field)
            name = FIELD_NAMES["en" if lang == "en" else "vi"][field]
            prompt = qtext(lang, "ask_value", code=state["code"], field=name, current=current)
            if field == "options":
                prompt += "\n" + qtext(lang, "ask_options")
            return [Reply(prompt)], state
        changes = {**state.get("changes", {}), state["field"]: text}
        try:
            reply = await self._editor.edit_fields(caller, state["code"], changes)
        except EditError as exc:
            if exc.key == "kind_needs_options":
                state.update(changes=changes, field="options")
                return [Reply(qtext(lang, "ask_options"))], state
            if exc.key == "kind_needs_topic":
                kind = parse_kind(changes["kind"])
                state.update(changes=changes, field="topic")
                return [Reply(qtext(lang, "ask_topic", topics=_topic_menu(lang, kind)))], state
            raise
        return [reply], None

    # -- /q_them: code → kind → topic → factor → texts → options → most picks → required ------

    async def _add_step(self, caller: Caller, state: dict[str, Any], text: str) -> Step:
        lang = caller.language
        q: dict[str, Any] = dict(state.get("q", {}))
        step = state["step"]
        if step == "code":
            code = parse_code(text)
            if code.casefold() in {c.casefold() for c in await self._codes()}:
                raise EditError("code_taken", code=code)
            q["code"] = code
        elif step == "kind":
            q["kind"] = parse_kind(text)
        elif step == "topic":
            q["topic"] = parse_topic(text, q["kind"])
        elif step == "factor":
            factor = parse_factor(text)
            if factor is None:
                raise EditError("factor_needed", code=q["code"])
            q["factor"] = factor
        elif step in ("text_vi", "text_en"):
            q[step] = parse_text(text)
        elif step == "options":
            q["options"] = parse_options(text)
        elif step == "max":
            q["max_choices"] = parse_max(text)
            if q["max_choices"] > len(q["options"]):
                raise EditError("bad_max", code=q["code"])
        elif step == "required":
            q["required"] = parse_required(text)
        following = _next_add_step(q)
        if following is None:
            reply = await self._editor.add_to_draft(caller, new_question(q))
            return [reply], None
        return [Reply(_ask(lang, following, q))], {"step": following, "q": q}

    # -- /q_xoa: code --------------------------------------------------------------------------

    async def _remove_step(self, caller: Caller, state: dict[str, Any], text: str) -> Step:
        return [await self._editor.remove_from_draft(caller, text.strip())], None


def _next_add_step(q: dict[str, Any]) -> str | None:
    """The next thing to ask while adding a question, given what is known so far."""
    if "kind" not in q:
        return "kind"
    if "topic" not in q:
        fitting = topics_for(q["kind"])
        if len(fitting) > 1:
            return "topic"
        q["topic"] = fitting[0]
    if q["topic"] in FACTOR_TOPICS and "factor" not in q:
        return "factor"
    for step in ("text_vi", "text_en"):
        if step not in q:
            return step
    if q["kind"] == "choice":
        if "options" not in q:
            return "options"
        if q["topic"] != "reason" and "max_choices" not in q:
            return "max"
    if q["topic"] != "reason" and "required" not in q:
        return "required"
    return None


def _ask(lang: str, step: str, q: dict[str, Any]) -> str:
    if step == "kind":
        kinds = "\n".join(f"{i} — {k} ({kind_name(lang, k)})" for i, k in enumerate(KIND_ORDER, 1))
        return qtext(lang, "ask_kind", kinds=kinds)
    if step == "topic":
        return qtext(lang, "ask_topic", topics=_topic_menu(lang, q["kind"]))
    if step == "max":
        return qtext(lang, "ask_max", count=len(q["options"]))
    return qtext(lang, f"ask_{step}")


def _topic_menu(lang: str, kind: str) -> str:
    return "\n".join(
        f"{i} — {t} ({topic_name(lang, t)})" for i, t in enumerate(topics_for(kind), start=1)
    )


def _current_value(question: dict[str, Any], field: str) -> str:
    value = question.get(field)
    if field == "options":
        return "; ".join(f"{o['code']} = {o['text_vi']} | {o['text_en']}" for o in value or [])
    if isinstance(value, bool):
        return "co" if value else "khong"
    return "—" if value is None else str(value)
