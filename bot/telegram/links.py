"""Telegram's deep links (`https://t.me/<bot>?start=<payload>`), offered as a `LinkBuilder`.

The payload is what `/start` receives: a case's link token or an invitation code (at most 64
characters of `A-Za-z0-9_-`). Until Telegram tells the bot its username, `<bot>` stands in.
"""

from __future__ import annotations

from bot.channels.links import Link

PLACEHOLDER = "<bot>"


def deep_link(username: str | None, payload: str) -> str:
    """The link that opens the bot and sends `/start <payload>`; `<bot>` for an unknown name."""
    return f"https://t.me/{username or PLACEHOLDER}?start={payload}"


class TelegramLinks:
    """The bot's deep links: a draft with `<bot>` until the username is known."""

    def __init__(self, username: str | None = None) -> None:
        self.username = username

    def know(self, username: str) -> None:
        """Telegram told the bot its username (`getMe`, on start)."""
        self.username = username

    def __call__(self, payload: str) -> Link:
        return Link(deep_link(self.username, payload), ready=self.username is not None)
