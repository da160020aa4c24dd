"""The channel-neutral survey engine: which question comes next, and what an answer means.

Pure functions over a questionnaire and the answers given so far; channels only render a
`Question` and turn a button press or a message into `parse_button` / `parse_text` calls.

Asking order: the questionnaire's order, except that branch questions ("why?") are asked right
after the first five-level answer of 1–2 in their factor, and not at all otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.survey.answers import Level, Picked, Skipped, YesNo, is_skip, read_answer
from bot.survey.questionnaire import LOW_SCORE, Question, Questionnaire

MAX_TEXT = 1000
SKIP = "skip"
DONE = "done"
LIKERT_LEVELS = (1, 2, 3, 4, 5)
YES, NO = "y", "n"


@dataclass(frozen=True, slots=True)
class Given:
    """An answer as recorded: a level or yes/no (1/0), free text, picked options, or a skip."""

    value_int: int | None = None
    value_text: str | None = None
    choices: tuple[str, ...] | None = None
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class Toggle:
    """A pick on a multi-choice question that is not final yet."""

    choices: tuple[str, ...]


class AnswerError(Exception):
    """An input that does not answer the question; `reason` selects the polite reply."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def ask_order(form: Questionnaire, answers: Mapping[str, Given]) -> list[Question]:
    """The questions this respondent is asked, in order, given the answers so far."""
    branches = {q.after_low_in_factor: q for q in form.questions if q.is_branch}
    placed: set[int] = set()
    order: list[Question] = []
    for question in form.questions:
        if question.is_branch:
            continue
        order.append(question)
        given = answers.get(question.code)
        factor = question.factor
        if (
            question.kind == "likert5"
            and factor is not None
            and factor in branches
            and factor not in placed
            and given is not None
            and given.value_int is not None
            and given.value_int <= LOW_SCORE
        ):
            placed.add(factor)
            order.append(branches[factor])
    return order


def next_question(form: Questionnaire, answers: Mapping[str, Given]) -> Question | None:
    """The first question not yet answered or skipped; None when the survey is complete."""
    return next((q for q in ask_order(form, answers) if q.code not in answers), None)


def progress(form: Questionnaire, answers: Mapping[str, Given]) -> tuple[int, int]:
    """(position of the next question, questions in this respondent's survey), 1-based."""
    order = ask_order(form, answers)
    done = sum(1 for q in order if q.code in answers)
    return min(done + 1, len(order)), len(order)


def parse_button(question: Question, value: str, *, draft: tuple[str, ...] = ()) -> Given | Toggle:
    """Interpret a pressed button's value for `question`."""
    if value == SKIP:
        if question.required:
            raise AnswerError("required")
        return Given(skipped=True)
    if question.kind == "likert5":
        if _number(value) in LIKERT_LEVELS:
            return Given(value_int=int(value))
    elif question.kind == "yes_no":
        if value in (YES, NO):
            return Given(value_int=1 if value == YES else 0)
    elif question.kind == "choice":
        if value == DONE and question.max_choices > 1:
            if not draft:
                raise AnswerError("pick_one")
            return Given(choices=draft)
        if question.option(value) is not None:
            if question.max_choices == 1:
                return Given(choices=(value,))
            picked = tuple(c for c in draft if c != value) if value in draft else (*draft, value)
            if len(picked) >= question.max_choices:
                return Given(choices=picked[: question.max_choices])
            return Toggle(choices=picked)
    raise AnswerError("stale_button")


def _number(text: str) -> int | None:
    """An ASCII decimal number, or None ("²" and "①" pass str.isdigit but are not numbers)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def parse_text(question: Question, text: str) -> Given:
    """Interpret a typed message as an answer (so chats without buttons work too); what the
    words mean is `bot.survey.answers`, and every reply it cannot read safely is asked again."""
    if question.kind == "text":
        if is_skip(text) and not question.required:
            return Given(skipped=True)
        cleaned = text.strip()
        if not cleaned:
            raise AnswerError("empty")
        if len(cleaned) > MAX_TEXT:
            raise AnswerError("too_long")
        return Given(value_text=cleaned)
    reading = read_answer(question, text)
    if isinstance(reading, Skipped):
        return Given(skipped=True)
    if isinstance(reading, Level):
        return Given(value_int=reading.value)
    if isinstance(reading, YesNo):
        return Given(value_int=1 if reading.yes else 0)
    if isinstance(reading, Picked):
        return Given(choices=reading.codes)
    raise AnswerError("use_buttons")
