"""Tables of the chat channels' own state: inbound platform events (stored before they are
acted on), each user's last interaction (reply windows), platform tokens (sealed), billable
replies per agency and month.

Registered on the metadata by whoever imports it (`storage.migrations.env` does).
"""

from __future__ import annotations

from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import BigId, utcnow


class ChannelEvent(SQLModel, table=True):
    """One event a platform delivered (a Zalo OA webhook, a Zalo Bot update), stored once
    before anything acts on it; a redelivery has the same `dedupe_key` and is not stored again.

    `body` is the event as received minus what the product must not keep (phone numbers).
    `processed_at` is set once it was acted on; `claimed_until` keeps two workers apart.
    """

    __tablename__ = "channel_events"
    __table_args__ = (
        UniqueConstraint("channel", "dedupe_key", name="uq_channel_events_key"),
        Index("ix_channel_events_pending", "channel", "processed_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    channel: str = Field(max_length=16)
    dedupe_key: str = Field(max_length=128)
    kind: str = Field(max_length=64)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: NaiveDatetime = Field(default_factory=utcnow)
    claimed_until: NaiveDatetime | None = Field(default=None)
    processed_at: NaiveDatetime | None = Field(default=None)
    attempts: int = Field(default=0)
    error: str | None = Field(default=None, max_length=500)


class ChatActivity(SQLModel, table=True):
    """When a user last interacted with us on a channel (Zalo OA reply windows) and whether
    they follow the account."""

    __tablename__ = "chat_activity"

    channel: str = Field(sa_column=Column(String(16), primary_key=True))
    external_id: str = Field(sa_column=Column(String(64), primary_key=True))
    last_inbound_at: NaiveDatetime
    followed: bool = Field(default=True)
    # When the user was asked to share their phone (the Zalo OA asks an unlinked user once).
    asked_phone_at: NaiveDatetime | None = Field(default=None)


class ChannelToken(SQLModel, table=True):
    """A platform's current token pair (the Zalo OA's access and refresh token), sealed with
    a key that is never in the database; `version` grows with every refresh."""

    __tablename__ = "channel_tokens"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    key_id: str = Field(max_length=16)
    sealed: str = Field(max_length=4000)
    access_expires_at: NaiveDatetime
    version: int = Field(default=1)
    refreshed_at: NaiveDatetime = Field(default_factory=utcnow)
    dead_at: NaiveDatetime | None = Field(default=None)
    # While a process refreshes the pair: until when it holds the row (storage.channel_state).
    refreshing_until: NaiveDatetime | None = Field(default=None)


class BillableReply(SQLModel, table=True):
    """Replies sent inside a paid reply window (Zalo OA, 48 h–7 d after the user's last
    interaction), counted per channel, agency and month (`YYYY-MM`, local)."""

    __tablename__ = "billable_replies"

    channel: str = Field(sa_column=Column(String(16), primary_key=True))
    agency_code: str = Field(sa_column=Column(String(64), primary_key=True))
    month: str = Field(sa_column=Column(String(7), primary_key=True))
    count: int = Field(default=0)


class HostedPicture(SQLModel, table=True):
    """A picture a platform fetches by URL (the Zalo Bot's `sendPhoto`): served at
    `/media/<token>.png` until `expires_at`; only the token's SHA-256 is stored."""

    __tablename__ = "hosted_pictures"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    png: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime = Field(index=True)
