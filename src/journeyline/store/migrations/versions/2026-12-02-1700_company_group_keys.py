"""company group keys

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:00:00

A CRM company remembers the group key it was described with (`company.id` beside a name or a
domain: a PostHog `$groupidentify`, a Segment group), so a person whose events name only that
key (PostHog's `$groups`) joins it (decision 73). Existing companies get theirs as their
persons are next projected (or at a rebuild).
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
    with op.batch_alter_table("crm_companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_key", sa.String(length=255), nullable=True))
        batch_op.create_index(
            "ix_crm_companies_tenant_group_key", ["tenant_id", "group_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_companies", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_companies_tenant_group_key")
        batch_op.drop_column("group_key")
