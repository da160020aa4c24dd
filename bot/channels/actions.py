"""The one action codec: what a button (or a typed option) carries, on every channel.

An action is encoded as a short ASCII string that fits Telegram's 64-byte `callback_data` and a
Zalo button payload (which gets a prefix of ours, such as `#sv `, so a tap can be told from
typing). Decoding is strict: ids are at most 18 ASCII digits (they fit the databases' 64-bit
integers) and anything the bot did not make decodes to None, so it is never looked up.

    a:<survey id>:<question code>:<value>   a survey answer
    k:<alert id>:a | k:<alert id>:d         an alert acknowledged / handled
    f:<alert id>:y | f:<alert id>:n         the citizen is satisfied with the handling or not
    <prefix>:<data>                         a command module's button (prefix owned by it)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

ANSWER_PREFIX = "a"
ALERT_PREFIX = "k"
FOLLOW_UP_PREFIX = "f"
# Prefixes command modules may not take ("s" was the survey's before "a").
RESERVED = (ANSWER_PREFIX, ALERT_PREFIX, FOLLOW_UP_PREFIX, "s")
_ID = r"[0-9]{1,18}"
_ALERT = re.compile(rf"{ALERT_PREFIX}:({_ID}):([ad])")
_FOLLOW_UP = re.compile(rf"{FOLLOW_UP_PREFIX}:({_ID}):([yn])")
_SURVEY_ID = re.compile(_ID)


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    survey_id: int
    code: str
    value: str


@dataclass(frozen=True, slots=True)
class AlertPress:
    alert_id: int
    action: Literal["ack", "done"]


@dataclass(frozen=True, slots=True)
class FollowUp:
    alert_id: int
    satisfied: bool


@dataclass(frozen=True, slots=True)
class ModuleAction:
    data: str  # "<prefix>:<data>" as the module made it

    @property
    def prefix(self) -> str:
        return self.data.split(":", 1)[0]


Action: TypeAlias = SurveyAnswer | AlertPress | FollowUp | ModuleAction


def encode(action: Action, *, prefix: str = "") -> str:
    """The string a button carries (`prefix` for channels whose taps arrive as text)."""
    match action:
        case SurveyAnswer(survey_id=survey_id, code=code, value=value):
            body = f"{ANSWER_PREFIX}:{survey_id}:{code}:{value}"
        case AlertPress(alert_id=alert_id, action=what):
            body = f"{ALERT_PREFIX}:{alert_id}:{'a' if what == 'ack' else 'd'}"
        case FollowUp(alert_id=alert_id, satisfied=satisfied):
            body = f"{FOLLOW_UP_PREFIX}:{alert_id}:{'y' if satisfied else 'n'}"
        case ModuleAction(data=data):
            body = data
    return prefix + body


def answer_action(survey_id: int, code: str, value: str) -> str:
    """Encoded survey answer (the most common action)."""
    return encode(SurveyAnswer(survey_id, code, value))


def decode_answer(data: str) -> SurveyAnswer | None:
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != ANSWER_PREFIX or not _SURVEY_ID.fullmatch(parts[1]):
        return None
    return SurveyAnswer(int(parts[1]), parts[2], parts[3])


def decode_alert(data: str) -> AlertPress | None:
    found = _ALERT.fullmatch(data)
    if found is None:
        return None
    return AlertPress(int(found.group(1)), "ack" if found.group(2) == "a" else "done")


def decode_follow_up(data: str) -> FollowUp | None:
    found = _FOLLOW_UP.fullmatch(data)
    return None if found is None else FollowUp(int(found.group(1)), found.group(2) == "y")


def decode(
    data: str,
    *,
    prefix: str = "",
    owns_module: Callable[[str], bool] = lambda _data: False,
) -> Action | None:
    """The action a button carried; None for anything the bot does not make."""
    if prefix:
        if not data.startswith(prefix):
            return None
        data = data[len(prefix) :]
    head = data.split(":", 1)[0]
    if head == ALERT_PREFIX:
        return decode_alert(data)
    if head == FOLLOW_UP_PREFIX:
        return decode_follow_up(data)
    if owns_module(data):
        return ModuleAction(data)
    return decode_answer(data)
