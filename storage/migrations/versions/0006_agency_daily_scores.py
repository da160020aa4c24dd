"""agency daily scores

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 19:39:12.564832
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "agency_daily_scores",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("question_code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=True),
        sa.Column("n1", sa.Integer(), nullable=False),
        sa.Column("n2", sa.Integer(), nullable=False),
        sa.Column("n3", sa.Integer(), nullable=False),
        sa.Column("n4", sa.Integer(), nullable=False),
        sa.Column("n5", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "agency_code", "question_code", name="uq_agency_daily_key"),
    )
    with op.batch_alter_table("agency_daily_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_daily_scores_day"), ["day"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("agency_daily_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_daily_scores_day"))

    op.drop_table("agency_daily_scores")
