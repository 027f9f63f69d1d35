"""partial event indexes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:55:00

The log's session, anonymous-id and object indexes skip rows without a value (decision 41).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_events_tenant_session", "session_id"),
    ("ix_events_tenant_anonymous", "anonymous_id"),
    ("ix_events_tenant_object", "object_id"),
)


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        for name, column in _INDEXES:
            batch_op.drop_index(name)
            batch_op.create_index(
                name,
                ["tenant_id", column],
                unique=False,
                postgresql_where=sa.text(f"{column} IS NOT NULL"),
                sqlite_where=sa.text(f"{column} IS NOT NULL"),
            )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        for name, column in _INDEXES:
            batch_op.drop_index(name)
            batch_op.create_index(name, ["tenant_id", column], unique=False)
