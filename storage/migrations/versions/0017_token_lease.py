"""token lease: a refresh of a channel's token pair leases the row instead of locking it

`channel_tokens.refreshing_until` is set (in a short transaction) while one process asks the
platform for a new pair and cleared when the answer is stored: no transaction stays open while
the platform answers. Another process that wants to refresh waits for the lease to end.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("channel_tokens", sa.Column("refreshing_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_tokens") as batch:
        batch.drop_column("refreshing_until")
