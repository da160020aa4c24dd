"""What a typed message means against a chat's pending choices (channels without buttons).

On a channel without buttons a message's choices are numbered lines, and the chat's pending
choices (`storage.pending_choices`) say which action each number stands for. `read_typed`
turns "2" — or "1, 3" under a multi-choice question, or the word "Xong" / "Done" where a
Done option is pending — into the presses they mean, or an out-of-range verdict; anything
else is not a pick and goes on as text. The router then handles each press exactly as a
button press.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from bot.channels.actions import decode_answer
from bot.channels.numbered import typed_numbers
from bot.conversation.questions import option_label
from bot.conversation.wording import say
from bot.survey.engine import DONE
from bot.survey.questionnaire import Question
from bot.vietnamese import fold

DONE_WORDS = frozenset({"xong", "done"})


@dataclass(frozen=True, slots=True)
class Picks:
    """The encoded actions the typed message presses, in order (one unless multi-choice)."""

    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """Numbers that are not among the options: ask for one from 1 to `count`."""

    count: int


Typed: TypeAlias = Picks | OutOfRange


@dataclass(frozen=True, slots=True)
class SurveyOptions:
    """Pending choices that are one survey question's options."""

    survey_id: int
    code: str
    multi: bool  # a multi-choice question: several numbers at once, and a Done option


def survey_options(actions: tuple[str, ...]) -> SurveyOptions | None:
    """The survey question the pending choices answer, when they all answer one."""
    answers = [answer for action in actions if (answer := decode_answer(action)) is not None]
    if not answers or len(answers) != len(actions):
        return None
    questions = {(answer.survey_id, answer.code) for answer in answers}
    if len(questions) != 1:
        return None
    ((survey_id, code),) = questions
    return SurveyOptions(survey_id, code, any(answer.value == DONE for answer in answers))


def might_pick(text: str) -> bool:
    """Whether the text could be a pick at all (so the pending choices are worth reading)."""
    return typed_numbers(text) is not None or fold(text) in DONE_WORDS


def read_typed(text: str, actions: tuple[str, ...], *, multi: bool) -> Typed | None:
    """The presses `text` means against the pending `actions`; None when it is no pick."""
    numbers = typed_numbers(text)
    if numbers is None:
        if fold(text) not in DONE_WORDS:
            return None
        done = [a for a in actions if (answer := decode_answer(a)) and answer.value == DONE]
        return Picks((done[0],)) if done else None
    if (len(numbers) > 1 and not multi) or any(not 1 <= n <= len(actions) for n in numbers):
        return OutOfRange(len(actions))
    return Picks(tuple(actions[n - 1] for n in dict.fromkeys(numbers)))


def out_of_range_text(language: str, count: int) -> str:
    return say(language, "pick_range", count=count)


def picks_text(question: Question, picks: tuple[str, ...], language: str, *, buttons: bool) -> str:
    """The short confirmation of a multi-choice pick where the message cannot change in
    place: the items picked so far and how to finish."""
    if not picks:
        return say(language, "picks_none", buttons=buttons)
    listed = "; ".join(option_label(question, code, language) for code in picks)
    return say(language, "picks", buttons=buttons, picks=listed)
