"""the graph as a view over the log

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:40:00

Touchpoints become the events themselves (DESIGN §5). What the stored graph knew that the log
cannot say moves to the new tables before the old ones go:

- each touchpoint's campaign and channel (as the graph derived them) onto its event's columns;
- each customer's stage history (its CONTRIBUTES_TO edges) into graph_profile_stages, owned by
  the customer that held the touchpoint, originating from the profile the event names;
- re-sync counts (touchpoints delivered more than once) into graph_touchpoint_syncs;
- Campaign and Channel nodes, with their touchpoint counts and first/last seen, into
  graph_shared_nodes.

Downgrading recreates the old tables empty: `journeyline rebuild` of that version fills them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_STAGES = ("awareness", "interest", "consideration", "conversion", "retention")

_nodes = sa.table(
    "graph_nodes",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("type", sa.String()),
    sa.column("key", sa.Text()),
    sa.column("label", sa.Text()),
    sa.column("properties", _JSON),
)
_edges = sa.table(
    "graph_edges",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("type", sa.String()),
    sa.column("source", sa.Uuid()),
    sa.column("target", sa.Uuid()),
    sa.column("properties", _JSON),
)
_events = sa.table(
    "events",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("profile_id", sa.Uuid()),
    sa.column("campaign_id", sa.String()),
    sa.column("channel", sa.String()),
)


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _chunks(rows: list[dict[str, Any]], size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _create_tables() -> None:
    op.create_table(
        "graph_shared_nodes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("touchpoints", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "type", "key", name=op.f("pk_graph_shared_nodes")),
    )
    op.create_table(
        "graph_profile_stages",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("origin_profile_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "origin_profile_id", "stage", name=op.f("pk_graph_profile_stages")
        ),
    )
    with op.batch_alter_table("graph_profile_stages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_graph_profile_stages_tenant_profile", ["tenant_id", "profile_id"], unique=False
        )
    op.create_table(
        "graph_touchpoint_syncs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("redeliveries", sa.Integer(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_graph_touchpoint_syncs")),
    )


def _move_data() -> None:
    bind = op.get_bind()
    shared_table = sa.table(
        "graph_shared_nodes",
        *(
            sa.column(name, kind)
            for name, kind in (
                ("tenant_id", sa.Uuid()),
                ("type", sa.String()),
                ("key", sa.String()),
                ("name", sa.Text()),
                ("touchpoints", sa.Integer()),
                ("first_seen_at", sa.DateTime(timezone=True)),
                ("last_seen_at", sa.DateTime(timezone=True)),
            )
        ),
    )
    stages_table = sa.table(
        "graph_profile_stages",
        *(
            sa.column(name, kind)
            for name, kind in (
                ("tenant_id", sa.Uuid()),
                ("origin_profile_id", sa.Uuid()),
                ("stage", sa.String()),
                ("profile_id", sa.Uuid()),
                ("rank", sa.SmallInteger()),
                ("event_id", sa.Uuid()),
                ("event_type", sa.String()),
                ("occurred_at", sa.DateTime(timezone=True)),
                ("revenue", sa.Float()),
                ("currency", sa.String()),
            )
        ),
    )
    syncs_table = sa.table(
        "graph_touchpoint_syncs",
        sa.column("tenant_id", sa.Uuid()),
        sa.column("event_id", sa.Uuid()),
        sa.column("redeliveries", sa.Integer()),
        sa.column("last_synced_at", sa.DateTime(timezone=True)),
    )

    nodes: dict[tuple[uuid.UUID, uuid.UUID], tuple[str, str, dict[str, Any]]] = {}
    for tenant_id, node_id, node_type, key, properties in bind.execute(
        sa.select(_nodes.c.tenant_id, _nodes.c.id, _nodes.c.type, _nodes.c.key, _nodes.c.properties)
    ):
        nodes[tenant_id, node_id] = (node_type, key, dict(properties or {}))

    columns: list[dict[str, Any]] = []
    syncs: list[dict[str, Any]] = []
    shared: dict[tuple[uuid.UUID, str, str], dict[str, Any]] = {}
    for (tenant_id, _node_id), (node_type, key, properties) in nodes.items():
        if node_type == "Campaign":
            name = properties.get("campaign_name")
            shared[tenant_id, "Campaign", key[:255]] = {
                "name": name if isinstance(name, str) else None,
                "touchpoints": 0,
                "first_seen_at": None,
                "last_seen_at": None,
            }
    for (tenant_id, _node_id), (node_type, key, properties) in nodes.items():
        event_id = _uuid(key) if node_type == "Touchpoint" else None
        if event_id is None:
            continue
        channel = properties.get("channel")
        campaign = properties.get("campaign_id")
        channel = channel[:100] if isinstance(channel, str) else None
        campaign = campaign[:255] if isinstance(campaign, str) else None
        columns.append(
            {"b_tenant": tenant_id, "b_id": event_id, "b_channel": channel, "b_campaign": campaign}
        )
        count = properties.get("sync_count")
        last = _moment(properties.get("last_synced_at"))
        if isinstance(count, int) and count > 1 and last is not None:
            syncs.append(
                {
                    "tenant_id": tenant_id,
                    "event_id": event_id,
                    "redeliveries": count - 1,
                    "last_synced_at": last,
                }
            )
        seen = _moment(properties.get("occurred_at"))
        if seen is None:
            continue
        for kind, value in (("Channel", channel), ("Campaign", campaign)):
            if value is None:
                continue
            counter = shared.setdefault(
                (tenant_id, kind, value),
                {"name": None, "touchpoints": 0, "first_seen_at": None, "last_seen_at": None},
            )
            counter["touchpoints"] += 1
            first, latest = counter["first_seen_at"], counter["last_seen_at"]
            counter["first_seen_at"] = seen if first is None else min(first, seen)
            counter["last_seen_at"] = seen if latest is None else max(latest, seen)

    update_columns = (
        sa.update(_events)
        .where(
            _events.c.tenant_id == sa.bindparam("b_tenant"),
            _events.c.id == sa.bindparam("b_id"),
        )
        .values(channel=sa.bindparam("b_channel"), campaign_id=sa.bindparam("b_campaign"))
    )
    for part in _chunks(columns):
        bind.execute(update_columns, part)
    for part in _chunks(syncs):
        bind.execute(sa.insert(syncs_table), part)
    shared_rows = [
        {
            "tenant_id": tenant_id,
            "type": kind,
            "key": key,
            "name": counter["name"],
            "touchpoints": counter["touchpoints"],
            # A campaign node no touchpoint names any more: seen when the migration ran.
            "first_seen_at": counter["first_seen_at"] or datetime.now(UTC),
            "last_seen_at": counter["last_seen_at"] or datetime.now(UTC),
        }
        for (tenant_id, kind, key), counter in shared.items()
    ]
    for part in _chunks(shared_rows):
        bind.execute(sa.insert(shared_table), part)

    # Stage history: each CONTRIBUTES_TO edge, owned by the customer holding its touchpoint.
    owners: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = {}
    for tenant_id, source, target in bind.execute(
        sa.select(_edges.c.tenant_id, _edges.c.source, _edges.c.target).where(
            _edges.c.type == "HAS_TOUCHPOINT"
        )
    ):
        customer = nodes.get((tenant_id, source))
        profile_id = _uuid(customer[1]) if customer is not None else None
        if profile_id is not None:
            owners[tenant_id, target] = profile_id
    contributions: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str, dict[str, Any]]] = []
    for tenant_id, source, target, properties in bind.execute(
        sa.select(_edges.c.tenant_id, _edges.c.source, _edges.c.target, _edges.c.properties).where(
            _edges.c.type == "CONTRIBUTES_TO"
        )
    ):
        touchpoint, stage_node = nodes.get((tenant_id, source)), nodes.get((tenant_id, target))
        owner = owners.get((tenant_id, source))
        event_id = _uuid(touchpoint[1]) if touchpoint is not None else None
        if stage_node is None or stage_node[1] not in _STAGES or owner is None or event_id is None:
            continue
        assert touchpoint is not None
        contributions.append(
            (tenant_id, owner, event_id, stage_node[1], {**touchpoint[2], **dict(properties or {})})
        )
    origins: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID | None] = {}
    wanted = sorted({row[2] for row in contributions})
    for start in range(0, len(wanted), 1000):
        for tenant_id, event_id, profile_id in bind.execute(
            sa.select(_events.c.tenant_id, _events.c.id, _events.c.profile_id).where(
                _events.c.id.in_(wanted[start : start + 1000])
            )
        ):
            origins[tenant_id, event_id] = profile_id
    stage_rows: dict[tuple[uuid.UUID, uuid.UUID, str], dict[str, Any]] = {}
    for tenant_id, owner, event_id, stage, properties in contributions:
        at = _moment(properties.get("occurred_at"))
        event_type = properties.get("event_type")
        if at is None:
            continue
        origin = origins.get((tenant_id, event_id)) or owner
        revenue = properties.get("revenue")
        currency = properties.get("currency")
        row = {
            "tenant_id": tenant_id,
            "origin_profile_id": origin,
            "stage": stage,
            "profile_id": owner,
            "rank": _STAGES.index(stage),
            "event_id": event_id,
            "event_type": event_type if isinstance(event_type, str) else stage,
            "occurred_at": at,
            "revenue": float(revenue) if isinstance(revenue, int | float) else None,
            "currency": currency[:8] if isinstance(currency, str) else None,
        }
        known = stage_rows.get((tenant_id, origin, stage))
        if known is None or (at, event_id) < (known["occurred_at"], known["event_id"]):
            stage_rows[tenant_id, origin, stage] = row
    for part in _chunks(list(stage_rows.values())):
        bind.execute(sa.insert(stages_table), part)


def upgrade() -> None:
    _create_tables()
    _move_data()
    with op.batch_alter_table("graph_nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_graph_nodes_tenant_type")
    op.drop_table("graph_nodes")
    with op.batch_alter_table("graph_edges", schema=None) as batch_op:
        batch_op.drop_index("ix_graph_edges_tenant_target")
        batch_op.drop_index("ix_graph_edges_tenant_source_type")
    op.drop_table("graph_edges")


def downgrade() -> None:
    op.create_table(
        "graph_edges",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Uuid(), nullable=False),
        sa.Column("target", sa.Uuid(), nullable=False),
        sa.Column("properties", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_graph_edges")),
    )
    with op.batch_alter_table("graph_edges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_graph_edges_tenant_source_type", ["tenant_id", "source", "type"], unique=False
        )
        batch_op.create_index("ix_graph_edges_tenant_target", ["tenant_id", "target"], unique=False)
    op.create_table(
        "graph_nodes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("properties", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_graph_nodes")),
    )
    with op.batch_alter_table("graph_nodes", schema=None) as batch_op:
        batch_op.create_index("ix_graph_nodes_tenant_type", ["tenant_id", "type"], unique=False)
    op.drop_table("graph_touchpoint_syncs")
    with op.batch_alter_table("graph_profile_stages", schema=None) as batch_op:
        batch_op.drop_index("ix_graph_profile_stages_tenant_profile")
    op.drop_table("graph_profile_stages")
    op.drop_table("graph_shared_nodes")
