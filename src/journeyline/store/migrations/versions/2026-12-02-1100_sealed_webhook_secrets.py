"""sealed webhook secrets

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 11:00:00

Webhook signing secrets encrypted at rest (decision 49): the columns widen to hold a sealed
secret and every stored secret is sealed with the key configured now (JOURNEYLINE_SECRET_KEY,
else the public development key), so run it with the settings the server will run with. Rows
already sealed are left alone (the revision can be re-run after a partial failure). The
downgrade opens them again (with the same key) and narrows the columns back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from journeyline.config import get_settings
from journeyline.store.encryption import is_sealed, secret_box

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("secret", "secondary_secret")
_CONNECTIONS = sa.table(
    "webhook_connections",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    *(sa.column(name, sa.String()) for name in _COLUMNS),
)


def _rewrite(change: Callable[[str], str | None]) -> None:
    """Each connection's secrets through `change` (None: leave that value as it is)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _CONNECTIONS.c.tenant_id, _CONNECTIONS.c.id, *(_CONNECTIONS.c[n] for n in _COLUMNS)
        )
    ).all()
    for tenant_id, connection_id, *values in rows:
        changed = {
            name: new
            for name, value in zip(_COLUMNS, values, strict=True)
            if value is not None and (new := change(value)) is not None
        }
        if changed:
            connection.execute(
                sa.update(_CONNECTIONS)
                .where(_CONNECTIONS.c.tenant_id == tenant_id, _CONNECTIONS.c.id == connection_id)
                .values(**changed)
            )


def _resize(length: int, before: int) -> None:
    with op.batch_alter_table("webhook_connections", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(
                name,
                existing_type=sa.String(length=before),
                type_=sa.String(length=length),
                existing_nullable=name == "secondary_secret",
            )


def upgrade() -> None:
    _resize(1024, before=512)
    box = secret_box(get_settings())
    _rewrite(lambda value: None if is_sealed(value) else box.seal(value))


def downgrade() -> None:
    box = secret_box(get_settings())
    _rewrite(lambda value: box.open(value) if is_sealed(value) else None)
    _resize(512, before=1024)
