"""The outbox dispatcher: rate-limited, retrying delivery of outbox rows through channel senders."""

from __future__ import annotations

from bot.outbox.dispatcher import (
    Blocked,
    Dispatcher,
    Failed,
    Leader,
    Outbox,
    RetryLater,
    Sender,
    SendOutcome,
    Sent,
)
from bot.outbox.ratelimit import ArrivalWindowLimiter, ChatLimiter, TokenBucket

__all__ = [
    "ArrivalWindowLimiter",
    "Blocked",
    "ChatLimiter",
    "Dispatcher",
    "Failed",
    "Leader",
    "Outbox",
    "RetryLater",
    "SendOutcome",
    "Sender",
    "Sent",
    "TokenBucket",
]
