"""intake hardening: the raw body's hash identifies a delivery whatever its key

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:50:00.000000

`case_events.body_sha256` (hex SHA-256 of the raw body), unique: a captured delivery replayed
under a new `Idempotency-Key` is a repeat. Rows stored without a vendor key were keyed
`sha256:<hex of the body>`, so their hash is known and filled in; rows stored under a vendor's
key keep NULL (their body was never kept), which a unique index allows any number of times.
A unique index rather than a constraint: SQLite adds it without rebuilding the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PREFIX = "sha256:"


def upgrade() -> None:
    op.add_column(
        "case_events",
        sa.Column("body_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    events = sa.table(
        "case_events",
        sa.column("idempotency_key", sa.String()),
        sa.column("body_sha256", sa.String()),
    )
    op.execute(
        events.update()
        .where(events.c.idempotency_key.like(_PREFIX + "%"))
        .values(body_sha256=sa.func.substr(events.c.idempotency_key, len(_PREFIX) + 1))
    )
    op.create_index(op.f("ix_case_events_body_sha256"), "case_events", ["body_sha256"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_events_body_sha256"), table_name="case_events")
    with op.batch_alter_table("case_events") as batch_op:
        batch_op.drop_column("body_sha256")
