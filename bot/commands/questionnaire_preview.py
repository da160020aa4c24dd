"""`/preview`: walk through the draft exactly as a citizen would, recording nothing.

The same question texts, five-level labels, buttons and branching as a real survey (the
citizen's renderer and engine are reused as they are); no survey or answer row is written. The
position travels in each button's callback data and in the preview conversation's state (so a
typed answer works as it does for a citizen): how many questions were answered, which
five-level questions got the first low score of their factor (that is all branching needs),
and a fingerprint of the draft, so a press after the draft changed is refused politely.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.actions import decode_answer
from bot.commands.base import Button, Caller, DialogStarter, PressResult, Reply, TypedPick
from bot.commands.questionnaire_texts import qtext
from bot.conversation.questions import answered_text, prompt, question_choices
from bot.conversation.typed import might_pick
from bot.survey.engine import (
    LIKERT_LEVELS,
    AnswerError,
    Given,
    Toggle,
    next_question,
    parse_button,
    parse_text,
)
from bot.survey.engine import progress as survey_progress
from bot.survey.questionnaire import LOW_SCORE, Question, Questionnaire
from bot.texts import chat_text
from storage.drafts import DraftStore

PREFIX = "pv"
DIALOG = "q_preview"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a preview stands: `answered` questions done, `lows` = indices (in the form) of the
    five-level questions that drew the first low score of a factor with a branch question."""

    fingerprint: str
    answered: int = 0
    lows: tuple[int, ...] = ()

    def state(self) -> dict[str, Any]:
        return {"fp": self.fingerprint, "n": self.answered, "lows": list(self.lows)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Position | None:
        try:
            return cls(str(state["fp"]), int(state["n"]), tuple(int(i) for i in state["lows"]))
        except (KeyError, TypeError, ValueError):
            return None


def fingerprint(definition: dict[str, Any]) -> str:
    """A short digest of a draft definition: any edit changes it."""
    blob = json.dumps(definition, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:6]


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def press_data(position: Position, picks: tuple[int, ...], value: str) -> str:
    """`pv:<fingerprint>:<answered>:<lows>:<picks>:<value>`, well under Telegram's 64 bytes."""
    lows = ".".join(_b36(i) for i in position.lows)
    chosen = ".".join(_b36(i) for i in picks)
    return f"{PREFIX}:{position.fingerprint}:{_b36(position.answered)}:{lows}:{chosen}:{value}"


def parse_data(data: str) -> tuple[Position, tuple[int, ...], str] | None:
    parts = data.split(":")
    if len(parts) != 6 or parts[0] != PREFIX:
        return None
    try:
        answered = int(parts[2], 36)
        lows = tuple(int(p, 36) for p in parts[3].split(".") if p)
        picks = tuple(int(p, 36) for p in parts[4].split(".") if p)
    except ValueError:
        return None
    return Position(parts[1], answered, lows), picks, parts[5]


def replay(form: Questionnaire, position: Position) -> dict[str, Given]:
    """Stand-in answers that lead to the same point with the same branches as the real ones."""
    answers: dict[str, Given] = {}
    for _ in range(position.answered):
        question = next_question(form, answers)
        if question is None:
            break
        if question.kind == "likert5":
            low = form.index(question.code) in position.lows
            answers[question.code] = Given(value_int=1 if low else LIKERT_LEVELS[-1])
        else:
            answers[question.code] = Given(skipped=True)
    return answers


def advanced(form: Questionnaire, position: Position, question: Question, given: Given) -> Position:
    """The position after `given` answered `question`."""
    lows = position.lows
    branch_factors = {q.after_low_in_factor for q in form.questions if q.is_branch}
    low_factors = {form.questions[i].factor for i in lows}
    if (
        question.kind == "likert5"
        and given.value_int is not None
        and given.value_int <= LOW_SCORE
        and question.factor in branch_factors
        and question.factor not in low_factors
    ):
        lows = (*lows, form.index(question.code))
    return Position(position.fingerprint, position.answered + 1, lows)


def _option_indices(question: Question, codes: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, o in enumerate(question.options) if o.code in codes)


def picked_codes(question: Question, picks: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(question.options[i].code for i in picks if 0 <= i < len(question.options))


def question_reply(
    form: Questionnaire,
    position: Position,
    language: str,
    *,
    picks: tuple[str, ...] = (),
    intro: bool = False,
) -> Reply:
    """The next question of the preview as the citizen's chat shows it, or the end."""
    answers = replay(form, position)
    question = next_question(form, answers)
    if question is None:
        return Reply(chat_text(language, "thanks") + "\n\n" + qtext(language, "preview_done"))
    number, total = survey_progress(form, answers)
    text = prompt(question, language, number=number, total=total)
    if intro:
        text = qtext(language, "preview_header") + "\n\n" + text
    return Reply(text, buttons=_buttons(question, position, language, picks))


def _buttons(
    question: Question, position: Position, language: str, picks: tuple[str, ...]
) -> list[list[Button]]:
    """The citizen's keyboard, button for button, with preview callback data."""
    indices = _option_indices(question, picks)
    rows: list[list[Button]] = []
    for row in question_choices(0, question, language, draft=picks):
        buttons: list[Button] = []
        for choice in row:
            parsed = decode_answer(choice.action)
            if parsed is not None:
                buttons.append(Button(choice.label, press_data(position, indices, parsed.value)))
        rows.append(buttons)
    return rows


def answered_reply(
    form: Questionnaire, position: Position, question: Question, given: Given, language: str
) -> Reply:
    """The pressed question as the citizen sees it once answered: the choice, no buttons."""
    number, total = survey_progress(form, replay(form, position))
    return Reply(answered_text(question, given, language, number=number, total=total))


class DraftPreview:
    """`/preview`, its buttons (prefix "pv") and its conversation (typed answers)."""

    def __init__(self, store: DraftStore, dialogs: DialogStarter) -> None:
        self._store = store
        self._dialogs = dialogs

    async def start(self, caller: Caller) -> Reply:
        """Send the draft's first question as a citizen would get it."""
        lang = caller.language
        draft = await self._store.draft()
        if draft is None:
            return Reply(qtext(lang, "preview_no_draft"))
        form = Questionnaire.from_dict(draft.definition)
        start = Position(fingerprint(draft.definition))
        await self._dialogs.begin(caller, DIALOG, start.state())
        return question_reply(form, start, lang, intro=True)

    async def _form(self, print_: str) -> Questionnaire | None:
        """The draft, if it is still the one the preview started on."""
        draft = await self._store.draft()
        if draft is None or fingerprint(draft.definition) != print_:
            return None
        return Questionnaire.from_dict(draft.definition)

    async def press(self, caller: Caller, data: str) -> PressResult:
        """A button under a preview question: show the answer in place, then the next one."""
        lang = caller.language
        parsed = parse_data(data)
        if parsed is None:
            return PressResult(notice=chat_text(lang, "stale_button"))
        position, picks, value = parsed
        form = await self._form(position.fingerprint)
        if form is None:
            return PressResult(notice=qtext(lang, "preview_stale"))
        question = next_question(form, replay(form, position))
        if question is None:
            return PressResult(notice=qtext(lang, "preview_over"))
        try:
            outcome = parse_button(question, value, draft=picked_codes(question, picks))
        except AnswerError as exc:
            return PressResult(notice=chat_text(lang, exc.reason))
        if isinstance(outcome, Toggle):
            return PressResult(edit=question_reply(form, position, lang, picks=outcome.choices))
        following = advanced(form, position, question, outcome)
        await self._dialogs.begin(caller, DIALOG, following.state())
        return PressResult(
            edit=answered_reply(form, position, question, outcome, lang),
            replies=[question_reply(form, following, lang)],
        )

    async def step(
        self, caller: Caller, state: dict[str, Any], text: str
    ) -> tuple[Sequence[Reply], dict[str, Any] | None]:
        """A typed answer during the preview, taken as a citizen's typed answer would be."""
        lang = caller.language
        position = Position.from_state(state)
        form = None if position is None else await self._form(position.fingerprint)
        if position is None or form is None:
            return [Reply(qtext(lang, "preview_stale"))], None
        question = next_question(form, replay(form, position))
        if question is None:
            return [Reply(qtext(lang, "preview_over"))], None
        try:
            given = parse_text(question, text)
        except AnswerError as exc:
            refusal = [Reply(chat_text(lang, exc.reason))]
            if might_pick(text):
                # The number of an option as the channel listed them (skip and done included).
                raise TypedPick(refusal) from exc
            return refusal, state
        following = advanced(form, position, question, given)
        done = next_question(form, replay(form, following)) is None
        return [question_reply(form, following, lang)], None if done else following.state()
