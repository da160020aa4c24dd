"""Cut a view into messages a channel accepts: text within its limit, a caption within its own.

The choices go with the last piece (or with the picture), so they stay under what they answer.
"""

from __future__ import annotations

from dataclasses import replace

from bot.channels.base import Capabilities, MessageView


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text at line breaks into pieces of at most `limit` characters."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current or "…")
    return pieces


def pieces(view: MessageView, capabilities: Capabilities) -> list[MessageView]:
    """The messages one view becomes on a channel."""
    if view.picture is not None:
        limit = capabilities.caption_limit or capabilities.text_limit
        rest = view.text[limit:]
        tail = [MessageView(p) for p in split_text(rest, capabilities.text_limit)] if rest else []
        return [replace(view, text=view.text[:limit]), *tail]
    texts = split_text(view.text, capabilities.text_limit)
    return [*(MessageView(text) for text in texts[:-1]), replace(view, text=texts[-1])]
