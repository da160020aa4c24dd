"""Choices as numbered lines, for channels without buttons (Zalo Bot, ZNS, plain text).

`numbered(view)` folds a view's choices into its text ("1. Rất không hài lòng" …) and drops the
buttons; `pick(view, typed)` maps a typed number back to the action it stands for.
"""

from __future__ import annotations

from bot.channels.base import Choice, MessageView


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
