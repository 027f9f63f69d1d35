"""erasure: tombstone keys, tombstones and the erasure audit

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import journeyline.store.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "erasure_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", journeyline.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_erasure_keys")),
    )
    op.create_table(
        "erasure_tombstones",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", journeyline.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_erasure_tombstones")),
    )
    with op.batch_alter_table("erasure_tombstones", schema=None) as batch_op:
        batch_op.create_index(
            "uq_erasure_tombstones_tenant_hash", ["tenant_id", "value_hash"], unique=True
        )
    op.create_table(
        "erasure_records",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.String(length=20), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("profile_ids", _JSON, nullable=False),
        sa.Column("counts", _JSON, nullable=False),
        sa.Column("created_at", journeyline.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_erasure_records")),
    )
    with op.batch_alter_table("erasure_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_erasure_records_tenant_created", ["tenant_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("erasure_records", schema=None) as batch_op:
        batch_op.drop_index("ix_erasure_records_tenant_created")
    op.drop_table("erasure_records")
    with op.batch_alter_table("erasure_tombstones", schema=None) as batch_op:
        batch_op.drop_index("uq_erasure_tombstones_tenant_hash")
    op.drop_table("erasure_tombstones")
    op.drop_table("erasure_keys")
