"""channel state: stored platform events, last interactions, sealed tokens, billable replies

`channel_events` keeps every Zalo OA webhook event and Zalo Bot update once (unique per
channel and dedupe key) before it is acted on; `chat_activity` each user's last interaction
(reply windows); `channel_tokens` the OA's token pair, sealed; `billable_replies` replies sent
in a paid window, per agency and month.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "dedupe_key", name="uq_channel_events_key"),
    )
    op.create_index("ix_channel_events_pending", "channel_events", ["channel", "processed_at"])
    op.create_table(
        "chat_activity",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(), nullable=False),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.Column("asked_phone_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "external_id"),
    )
    op.create_table(
        "channel_tokens",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.String(length=4000), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=False),
        sa.Column("dead_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "billable_replies",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "agency_code", "month"),
    )


def downgrade() -> None:
    op.drop_table("billable_replies")
    op.drop_table("channel_tokens")
    op.drop_table("chat_activity")
    op.drop_index("ix_channel_events_pending", table_name="channel_events")
    op.drop_table("channel_events")
