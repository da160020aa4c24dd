"""What admins (and anyone refused) read from the dispatcher and the admin commands.

The texts live in the catalog under `admin.*` (`bot/texts/vi.py`, `bot/texts/en.py`);
`admin_text` reads them through the one lookup and its one fallback rule.
"""

from __future__ import annotations

from bot.texts import text


def admin_text(language: str, key: str, /, *, buttons: object = True, **params: object) -> str:
    """An admin-facing text in `language` (Vietnamese when unknown), filled with `params`."""
    return text(language, f"admin.{key}", buttons=buttons, **params)


__all__ = ["admin_text"]
