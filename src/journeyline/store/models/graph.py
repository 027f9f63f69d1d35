"""The intelligence graph's stored part (DESIGN §5): the graph is a view over the log, and only
what the log cannot say is kept here: campaign and channel counters, each profile's stage rows
and the re-sync counters of redelivered events. Nothing is written per event on a first
delivery."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, Index, Integer, SmallInteger, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.store.base import Base, UtcDateTime


class SharedNode(Base):
    """A Campaign or Channel node: one upsert per distinct key per chunk."""

    __tablename__ = "graph_shared_nodes"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    type: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The campaign id or channel, as written on the events (their column widths bound it).
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    touchpoints: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProfileStage(Base):
    """A funnel stage reached: one row per (profile that reached it, stage), naming the event.
    `profile_id` is the customer it counts for now (a merge moves the rows to the survivor; an
    unmerge gives them back by `origin_profile_id`)."""

    __tablename__ = "graph_profile_stages"
    __table_args__ = (Index("ix_graph_profile_stages_tenant_profile", "tenant_id", "profile_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    origin_profile_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # STAGE_RANK of the stage: a customer's current stage is its rows' greatest rank.
    rank: Mapped[int] = mapped_column(SmallInteger)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revenue: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(8), nullable=True)


class TouchpointSync(Base):
    """A touchpoint delivered more than once: "the existing touchpoint is updated rather than
    duplicated". Duplicates are not in the log, so `rebuild` keeps these rows."""

    __tablename__ = "graph_touchpoint_syncs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    redeliveries: Mapped[int] = mapped_column(Integer)
    last_synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
