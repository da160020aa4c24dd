"""contact phone: the applicant's number, sealed, kept while ZNS may need it

`case_contacts.phone_sealed` holds the phone in `84…` form sealed with SIPAS_CONTACT_KEY
(AES-GCM, `<kid>.<base64>`, bot/contacts.py); the key is never in the database. It is set to
NULL SIPAS_CONTACT_RETENTION_DAYS after the case ends or its survey closes (`sipas
purge-contacts`), computed from `cases` and `surveys`. The older `phone` column (String 32,
always NULL) stays for rows written before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case_contacts", sa.Column("phone_sealed", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_contacts") as batch:
        batch.drop_column("phone_sealed")
