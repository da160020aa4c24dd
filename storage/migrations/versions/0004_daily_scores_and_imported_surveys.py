"""daily scores and imported surveys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 18:52:31.486644
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "daily_scores",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("procedure_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("officer_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("question_code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=True),
        sa.Column("n1", sa.Integer(), nullable=False),
        sa.Column("n2", sa.Integer(), nullable=False),
        sa.Column("n3", sa.Integer(), nullable=False),
        sa.Column("n4", sa.Integer(), nullable=False),
        sa.Column("n5", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "day",
            "agency_code",
            "procedure_code",
            "officer_name",
            "question_code",
            name="uq_daily_scores_key",
        ),
    )
    with op.batch_alter_table("daily_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_daily_scores_agency_code"), ["agency_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_daily_scores_day"), ["day"], unique=False)

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="telegram",
            )
        )
        batch_op.alter_column(
            "chat_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        )


def downgrade() -> None:

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.alter_column(
            "chat_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
        batch_op.drop_column("source")

    with op.batch_alter_table("daily_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_scores_day"))
        batch_op.drop_index(batch_op.f("ix_daily_scores_agency_code"))

    op.drop_table("daily_scores")
