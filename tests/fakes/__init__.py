"""Fakes of external services for end-to-end tests and benchmarks.

`FakeTelegram` (tests/fakes/telegram_api.py) is a Telegram Bot API server speaking the real
wire format; run it standalone with `python -m tests.fakes.run_telegram --port N`.
"""

from __future__ import annotations

from ._media import tiny_png
from .telegram_api import (
    DEFAULT_TOKEN,
    SECRET_HEADER,
    ApiError,
    Call,
    CallbackQueryRecord,
    FakeTelegram,
    SentMessage,
    UserProfile,
    Violation,
    WebhookDelivery,
)

__all__ = [
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "ApiError",
    "Call",
    "CallbackQueryRecord",
    "FakeTelegram",
    "SentMessage",
    "UserProfile",
    "Violation",
    "WebhookDelivery",
    "tiny_png",
]
