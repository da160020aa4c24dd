"""ZNS survey preference per agency, and the cost class of every message sent

`agencies.zns_survey` is how a case of the agency is asked by ZNS when no chat can take its
survey: `rating` (the service-rating template: one tap on a star), `invite` (a button to the
full web survey), or NULL (the parent agency's choice, else the rating template when one is
configured). `outbox.cost_class` records what each sent message cost: `free` (a chat message
within its free window), `oa_billable` (a Zalo OA reply 48 h–7 d after the user's last
interaction), `zns` (a ZNS template message, billed per message); NULL until sent.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agencies", sa.Column("zns_survey", sa.String(length=16), nullable=True))
    op.add_column("outbox", sa.Column("cost_class", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("cost_class")
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("zns_survey")
