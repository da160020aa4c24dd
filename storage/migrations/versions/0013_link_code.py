"""link codes: the hash of the code a citizen types in a chat without deep links

`cases.link_code_hash` is the SHA-256 of the receipt's link code (bot/onestop/links.py),
indexed but not unique: two cases may share a code, and a lookup then refuses it. Existing
cases get theirs on their next delivery (the key is not in the database).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("link_code_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_cases_link_code_hash", "cases", ["link_code_hash"])


def downgrade() -> None:
    op.drop_index("ix_cases_link_code_hash", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("link_code_hash")
