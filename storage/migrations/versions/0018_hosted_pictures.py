"""hosted pictures: charts a platform fetches by URL (the Zalo Bot's sendPhoto)

`hosted_pictures` keeps a PNG under the SHA-256 of a random token until `expires_at`; the
token is only in the URL handed to the platform (`/media/<token>.png`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hosted_pictures",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_hosted_pictures_expires_at", "hosted_pictures", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_hosted_pictures_expires_at", table_name="hosted_pictures")
    op.drop_table("hosted_pictures")
