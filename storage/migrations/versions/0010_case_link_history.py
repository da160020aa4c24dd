"""case link history: every link and takeover of a case by a chat (who, how, when)

`case_links.via` moves to the vocabulary of the history: "token" (was "start") and "phone"
(was "contact"); every existing link becomes its case's first history row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_link_history",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("chat_id", BIG_ID, nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("how", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("previous_chat_id", BIG_ID, nullable=True),
        sa.Column("discarded", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_code"], ["cases.code"]),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"]),
        sa.ForeignKeyConstraint(["previous_chat_id"], ["chats.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_link_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_link_history_case_code"), ["case_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_link_history_at"), ["at"], unique=False)

    op.execute("UPDATE case_links SET via = 'token' WHERE via = 'start'")
    op.execute("UPDATE case_links SET via = 'phone' WHERE via = 'contact'")
    op.execute(
        "INSERT INTO case_link_history (case_code, chat_id, kind, how, at) "
        "SELECT case_code, chat_id, 'link', via, linked_at FROM case_links ORDER BY linked_at"
    )


def downgrade() -> None:
    op.execute("UPDATE case_links SET via = 'start' WHERE via = 'token'")
    op.execute("UPDATE case_links SET via = 'contact' WHERE via = 'phone'")
    with op.batch_alter_table("case_link_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_link_history_at"))
        batch_op.drop_index(batch_op.f("ix_case_link_history_case_code"))
    op.drop_table("case_link_history")
