"""Migration 0009 moves a stored graph (nodes and edges per event) to the view-over-the-log shape
without losing what the log cannot say: stage history, re-sync counts, campaign names."""

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
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from journeyline.store import migrate
from tests.conftest import _create_pg_database, _drop_pg_database, _requested_url

T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
T1 = datetime(2026, 11, 22, 11, tzinfo=UTC)
TENANT = uuid.UUID(int=1)
SURVIVOR, SHADOW = uuid.UUID(int=10), uuid.UUID(int=11)
VIEW, PURCHASE = uuid.UUID(int=100), uuid.UUID(int=101)


@pytest.fixture
def fresh_url() -> Iterator[str]:
    """A database of its own, migrated up to the old graph (0008)."""
    requested = _requested_url()
    if requested is None or requested.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'old.db'}"
            migrate.upgrade(url, "0008")
            yield url
        return
    url = asyncio.run(_create_pg_database(requested))
    try:
        migrate.upgrade(url, "0008")
        yield url
    finally:
        asyncio.run(_drop_pg_database(requested, url))


JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
UUIDS = {"tenant_id", "id", "profile_id", "source", "target"}
TIMES = {"occurred_at", "received_at"}


def column(name: str, uuids: frozenset[str] = frozenset(UUIDS)) -> sa.ColumnClause[Any]:
    if name in uuids:
        return sa.column(name, sa.Uuid())
    if name in TIMES:
        return sa.column(name, sa.DateTime(timezone=True))
    return sa.column(name, sa.String())


NODES = sa.table(
    "graph_nodes",
    *(column(n) for n in ("tenant_id", "id", "type", "key", "label")),
    sa.column("properties", JSON),
)
EDGES = sa.table(
    "graph_edges",
    *(column(n) for n in ("tenant_id", "id", "type", "source", "target")),
    sa.column("properties", JSON),
)
EVENTS = sa.table(
    "events",
    *(
        column(n, frozenset({"tenant_id", "id", "profile_id"}))
        for n in (
            "tenant_id",
            "id",
            "profile_id",
            "source_type",
            "source",
            "event_type",
            "event_name",
            "payload_hash",
            "occurred_at",
            "received_at",
            "campaign_id",
            "channel",
        )
    ),
    sa.column("payload", JSON),
)


def _event(event_id: uuid.UUID, profile_id: uuid.UUID, event_type: str, at: datetime) -> Any:
    return {
        "tenant_id": TENANT,
        "id": event_id,
        "profile_id": profile_id,
        "source_type": "direct",
        "source": "web",
        "event_type": event_type,
        "event_name": event_type,
        "payload_hash": "h",
        "occurred_at": at,
        "received_at": at,
        "campaign_id": None,
        "channel": None,
        "payload": {},
    }


def _node(node_id: int, node_type: str, key: str, properties: dict[str, Any]) -> Any:
    return {
        "tenant_id": TENANT,
        "id": uuid.UUID(int=node_id),
        "type": node_type,
        "key": key,
        "label": key,
        "properties": properties,
    }


def _edge(edge_id: int, edge_type: str, source: int, target: int, **properties: Any) -> Any:
    return {
        "tenant_id": TENANT,
        "id": uuid.UUID(int=edge_id),
        "type": edge_type,
        "source": uuid.UUID(int=source),
        "target": uuid.UUID(int=target),
        "properties": properties,
    }


async def _fill_old_graph(url: str) -> None:
    """A shadow's page view (redelivered twice, campaign `spring`) reached awareness; it was
    merged into the survivor, whose own purchase reached conversion."""
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(EVENTS),
            [
                _event(VIEW, SHADOW, "page_viewed", T0),
                _event(PURCHASE, SURVIVOR, "purchase_completed", T1),
            ],
        )
        await connection.execute(
            sa.insert(NODES),
            [
                _node(1, "Customer", str(SURVIVOR), {}),
                _node(
                    2,
                    "Touchpoint",
                    str(VIEW),
                    {
                        "occurred_at": T0.isoformat(),
                        "channel": "paid_search",
                        "campaign_id": "spring",
                        "sync_count": 3,
                        "last_synced_at": T1.isoformat(),
                    },
                ),
                _node(
                    3,
                    "Touchpoint",
                    str(PURCHASE),
                    {
                        "occurred_at": T1.isoformat(),
                        "channel": "direct",
                        "sync_count": 1,
                        "revenue": 20.0,
                        "currency": "EUR",
                    },
                ),
                _node(4, "Campaign", "spring", {"campaign_name": "Spring Sale"}),
                _node(5, "Channel", "paid_search", {}),
                _node(6, "Channel", "direct", {}),
                _node(7, "Stage", "awareness", {"rank": 0}),
                _node(8, "Stage", "conversion", {"rank": 3}),
            ],
        )
        await connection.execute(
            sa.insert(EDGES),
            [
                _edge(20, "HAS_TOUCHPOINT", 1, 2),
                _edge(21, "HAS_TOUCHPOINT", 1, 3),
                _edge(22, "AT_STAGE", 1, 8),
                _edge(
                    23,
                    "CONTRIBUTES_TO",
                    2,
                    7,
                    occurred_at=T0.isoformat(),
                    event_type="page_viewed",
                ),
                _edge(
                    24,
                    "CONTRIBUTES_TO",
                    3,
                    8,
                    occurred_at=T1.isoformat(),
                    event_type="purchase_completed",
                ),
            ],
        )
    await engine.dispose()


async def _read(url: str, statement: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        rows = [tuple(row) for row in await connection.execute(sa.text(statement))]
    await engine.dispose()
    return rows


def _ids(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """UUIDs as SQLite hands them back (hex text) or PostgreSQL does (UUID objects)."""
    return [
        tuple(uuid.UUID(str(v)) if isinstance(v, str) and len(v) in (32, 36) else v for v in row)
        for row in rows
    ]


def test_the_stored_graph_moves_to_the_view_shape(fresh_url: str) -> None:
    asyncio.run(_fill_old_graph(fresh_url))
    migrate.upgrade(fresh_url)

    stages = _ids(
        asyncio.run(
            _read(
                fresh_url,
                "SELECT origin_profile_id, stage, profile_id, rank, event_id, revenue, currency "
                "FROM graph_profile_stages ORDER BY rank",
            )
        )
    )
    assert stages == [
        (SHADOW, "awareness", SURVIVOR, 0, VIEW, None, None),
        (SURVIVOR, "conversion", SURVIVOR, 3, PURCHASE, 20.0, "EUR"),
    ]
    syncs = _ids(
        asyncio.run(_read(fresh_url, "SELECT event_id, redeliveries FROM graph_touchpoint_syncs"))
    )
    assert syncs == [(VIEW, 2)]
    shared = asyncio.run(
        _read(
            fresh_url,
            "SELECT type, key, name, touchpoints FROM graph_shared_nodes ORDER BY type, key",
        )
    )
    assert shared == [
        ("Campaign", "spring", "Spring Sale", 1),
        ("Channel", "direct", None, 1),
        ("Channel", "paid_search", None, 1),
    ]
    columns = _ids(
        asyncio.run(_read(fresh_url, "SELECT id, campaign_id, channel FROM events ORDER BY id"))
    )
    assert columns == [(VIEW, "spring", "paid_search"), (PURCHASE, None, "direct")]
    tables = asyncio.run(
        _read(
            fresh_url,
            "SELECT name FROM sqlite_master WHERE name LIKE 'graph_%' AND type = 'table'"
            if fresh_url.startswith("sqlite")
            else "SELECT tablename FROM pg_tables WHERE tablename LIKE 'graph_%'",
        )
    )
    assert sorted(name for (name,) in tables) == [
        "graph_profile_stages",
        "graph_shared_nodes",
        "graph_touchpoint_syncs",
    ]
