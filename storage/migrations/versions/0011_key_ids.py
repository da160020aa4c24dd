"""key ids: which secret key made a case's link token and a phone hash

Every token and hash made before this revision came from the one key there was (the bare
`SIPAS_SECRET_KEY`, or the key an older version kept in `service_secrets`): kid `k0`.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_KEY_ID = "k0"
COLUMNS = (
    ("cases", "link_key_id", "link_token_hash"),
    ("case_contacts", "phone_key_id", "phone_hash"),
    ("chats", "phone_key_id", "phone_hash"),
)


def upgrade() -> None:
    for table, column, keyed in COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(length=16), nullable=True))
        op.execute(
            sa.text(f"UPDATE {table} SET {column} = :kid WHERE {keyed} IS NOT NULL").bindparams(
                kid=LEGACY_KEY_ID
            )
        )


def downgrade() -> None:
    for table, column, _keyed in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
