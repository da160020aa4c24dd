"""Choices as numbered lines, for channels without buttons (Zalo Bot, ZNS, plain text).

`numbered(view)` folds a view's choices into its text ("1. Rất không hài lòng" …) and drops the
buttons; `pick(view, typed)` maps a typed number back to the action it stands for.

On a channel without buttons (`typed_choices`), `as_shown` gives the view as the channel shows
it and the actions its numbers stand for, which the sender records as the chat's pending
choices (`storage.pending_choices`); `typed_numbers` reads "2" or "1, 3" back.
"""

from __future__ import annotations

import re

from bot.channels.base import Capabilities, Choice, MessageView

MAX_NUMBERS = 20  # numbers one typed message may pick at once
_SEPARATORS = re.compile(r"[\s,;]+")


def typed_choices(capabilities: Capabilities) -> bool:
    """Whether a chat on this channel answers every choice by typing its number."""
    return capabilities.max_buttons == 0


def as_shown(
    view: MessageView, capabilities: Capabilities
) -> tuple[MessageView, tuple[str, ...] | None]:
    """The view as the channel shows it (choices it cannot carry as buttons — all of them on
    a channel without buttons, more than five on the Zalo OA — become numbered lines) and the
    actions the typed numbers then stand for (option 1 first). None: the chat's typed
    numbers keep their meaning; `()`: they mean nothing any more (buttons came since, on a
    channel that numbers long lists)."""
    options = view.flat_choices()
    if len(options) <= capabilities.max_buttons:
        return view, (() if options and capabilities.max_buttons < MAX_NUMBERS else None)
    return numbered(view), tuple(c.action for c in options)


def typed_numbers(typed: str) -> tuple[int, ...] | None:
    """The numbers a message consists of ("2", "2.", "1, 3", "1 3"), or None if it is not
    just numbers (ASCII digits only: "²" and "①" are not typed numbers)."""
    parts = [part.rstrip(".") for part in _SEPARATORS.split(typed.strip()) if part]
    if not parts or len(parts) > MAX_NUMBERS:
        return None
    if not all(part.isascii() and part.isdigit() and len(part) <= 6 for part in parts):
        return None
    return tuple(int(part) for part in parts)


def numbered(view: MessageView) -> MessageView:
    """The view with its choices as numbered lines under the text, and no buttons."""
    options = view.flat_choices()
    if not options:
        return view
    lines = [view.text, ""] if view.text else []
    lines += [f"{index}. {_bare(choice.label, index)}" for index, choice in enumerate(options, 1)]
    return MessageView(
        text="\n".join(lines),
        picture=view.picture,
        ask_phone=view.ask_phone,
        ask_phone_note=view.ask_phone_note,
        clear_keyboard=view.clear_keyboard,
    )


def pick(choices: list[Choice], typed: str) -> str | None:
    """The action of the option whose number was typed, or None."""
    text = typed.strip().rstrip(".")
    if not text.isascii() or not text.isdigit():
        return None
    index = int(text)
    return choices[index - 1].action if 1 <= index <= len(choices) else None


def _bare(label: str, index: int) -> str:
    """A label without the number it may already carry ("3. Bình thường" → "Bình thường")."""
    for mark in (f"{index}. ", f"{index} "):
        if label.startswith(mark):
            return label[len(mark) :]
    return label
