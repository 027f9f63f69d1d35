"""Migration 0012 seals the webhook secrets already stored, with the configured
JOURNEYLINE_SECRET_KEY, and its downgrade opens them again (issue 15, row 13)."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from journeyline.config import get_settings
from journeyline.store import migrate
from journeyline.store.encryption import SecretBox, is_sealed
from tests.conftest import _create_pg_database, _drop_pg_database, _requested_url

KEY = "the-operators-secret-key"
TENANT = uuid.UUID(int=1)
LONGEST = "x" * 512  # the longest secret POST /v1/connections accepts
CONNECTIONS = sa.table(
    "webhook_connections",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("provider", sa.String()),
    sa.column("secret", sa.String()),
    sa.column("secondary_secret", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
ROWS = {
    uuid.UUID(int=10): ("stripe", "whsec_stored_in_clear", None),
    uuid.UUID(int=11): ("shopify", "shpss_app", "shpss_admin"),
    uuid.UUID(int=12): ("typeform", LONGEST, None),
}


@pytest.fixture
def old_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own at 0012 (secrets in clear), the operator's key configured."""
    monkeypatch.setenv("JOURNEYLINE_SECRET_KEY", KEY)
    get_settings.cache_clear()
    requested = _requested_url()
    try:
        if requested is None or requested.startswith("sqlite"):
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite+aiosqlite:///{Path(directory) / 'old.db'}"
                migrate.upgrade(url, "0012")
                yield url
            return
        url = asyncio.run(_create_pg_database(requested))
        try:
            migrate.upgrade(url, "0012")
            yield url
        finally:
            asyncio.run(_drop_pg_database(requested, url))
    finally:
        get_settings.cache_clear()


async def _execute(url: str, statement: Any) -> list[Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(statement)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


def stored(url: str) -> dict[uuid.UUID, tuple[str, str | None]]:
    query = sa.select(CONNECTIONS.c.id, CONNECTIONS.c.secret, CONNECTIONS.c.secondary_secret)
    return {row[0]: (row[1], row[2]) for row in asyncio.run(_execute(url, query))}


def test_stored_secrets_are_sealed_and_opened_again(old_url: str) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "tenant_id": TENANT,
            "id": connection_id,
            "provider": provider,
            "secret": secret,
            "secondary_secret": secondary,
            "created_at": now,
        }
        for connection_id, (provider, secret, secondary) in ROWS.items()
    ]
    asyncio.run(_execute(old_url, sa.insert(CONNECTIONS).values(rows)))

    migrate.upgrade(old_url, "0013")
    sealed = stored(old_url)
    box = SecretBox([KEY])
    # Opened by the configured key (not the development one).
    for connection_id, (_, secret, secondary) in ROWS.items():
        sealed_secret, sealed_secondary = sealed[connection_id]
        assert is_sealed(sealed_secret)
        assert secret not in sealed_secret
        assert box.open(sealed_secret) == secret
        if secondary is None:
            assert sealed_secondary is None
        else:
            assert sealed_secondary is not None
            assert box.open(sealed_secondary) == secondary
    assert len(sealed[uuid.UUID(int=12)][0]) <= 1024

    command.downgrade(migrate.alembic_config(old_url), "0012")
    assert stored(old_url) == {cid: (secret, sec) for cid, (_, secret, sec) in ROWS.items()}
