"""Text lookup for views: the catalog's texts, told whether the channel shows buttons.

A channel without buttons must not be told "press the button below"; the catalog
(`bot.texts`) picks the wording when its lookup takes `buttons`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from bot.texts import LIKERT, VI, chat_text, head_text


def _takes_buttons(lookup: Callable[..., str]) -> bool:
    return "buttons" in inspect.signature(lookup).parameters


_CHAT_BUTTONS = _takes_buttons(chat_text)
_HEAD_BUTTONS = _takes_buttons(head_text)


def lang(language: str) -> str:
    """A language the catalog has (Vietnamese when unknown)."""
    return language if language in LIKERT else VI


def say(language: str, key: str, *, buttons: bool = True, **params: object) -> str:
    """A citizen-facing text."""
    if not buttons and _CHAT_BUTTONS:
        return chat_text(language, key, buttons=False, **params)
    return chat_text(language, key, **params)


def say_head(language: str, key: str, *, buttons: bool = True, **params: object) -> str:
    """A text for heads, inspectors and admins."""
    if not buttons and _HEAD_BUTTONS:
        return head_text(language, key, buttons=False, **params)
    return head_text(language, key, **params)
