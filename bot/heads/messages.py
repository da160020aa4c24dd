"""Outbox intents of the heads' side that are a catalog text: a key and its parameters."""

from __future__ import annotations

from storage.outbox import OutboxIntent


def head_message(chat_id: int, key: str, **params: object) -> OutboxIntent:
    """A `head.*` text for one chat, rendered at send time in the chat's language."""
    return OutboxIntent(chat_id=chat_id, kind="head_text", payload={"key": key, "params": params})
