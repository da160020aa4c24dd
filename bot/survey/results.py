"""What the survey service hands back to the router: the outcome of a press, of a typed
answer, and the question a chat's typed message would answer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.survey.engine import Given
from bot.survey.questionnaire import Question


@dataclass(frozen=True, slots=True)
class PressResult:
    """What a button press did, for the adapter to show in place.

    `notice` is a short callback answer; `answered` is the question now answered (with the
    answer) whose message should lose its buttons, asked as number `position[0]` of
    `position[1]`; `toggled` is a multi-choice question whose keyboard should show the picks.
    """

    notice: str | None = None
    answered: tuple[Question, Given] | None = None
    position: tuple[int, int] = (0, 0)
    toggled: tuple[Question, tuple[str, ...], int, int] | None = None
    language: str = "vi"


@dataclass(frozen=True, slots=True)
class Awaiting:
    """The open question a chat's typed message would answer."""

    survey_id: int
    question: Question
    draft: tuple[str, ...]
    language: str


@dataclass(frozen=True, slots=True)
class TextResult:
    """A typed answer was recorded: the earlier prompt (if known) should lose its buttons."""

    prompt_message_id: str | None
    answered: tuple[Question, Given]
    language: str
