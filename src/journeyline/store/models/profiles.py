"""Profiles, the identities they own, attribute lineage, the merge journal and conflicts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.statuses import ProfileStatus
from journeyline.store.base import Base, JsonType, UtcDateTime


class Profile(Base):
    __tablename__ = "profiles"
    __table_args__ = (
        Index("ix_profiles_tenant_merged_into", "tenant_id", "merged_into"),
        Index("ix_profiles_tenant_last_seen", "tenant_id", "last_seen_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    status: Mapped[ProfileStatus] = mapped_column(String(10))
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # Top-level attribute key -> ISO time of the event that last changed it (late-event rule).
    attribute_times: Mapped[dict[str, str]] = mapped_column(JsonType)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Identity(Base):
    """One identifier value and its owner; the primary key is the uniqueness rule."""

    __tablename__ = "identities"
    __table_args__ = (Index("ix_identities_tenant_profile", "tenant_id", "profile_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AttributeChange(Base):
    __tablename__ = "attribute_changes"
    __table_args__ = (
        Index("ix_attribute_changes_tenant_profile", "tenant_id", "profile_id", "changed_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    path: Mapped[str] = mapped_column(String(500))
    old_value: Mapped[Any] = mapped_column(JsonType, nullable=True)
    new_value: Mapped[Any] = mapped_column(JsonType, nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    source: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProfileMerge(Base):
    """The merge journal: enough to explain a merge and to undo it."""

    __tablename__ = "profile_merges"
    __table_args__ = (
        Index("ix_profile_merges_tenant_into", "tenant_id", "into_profile_id"),
        Index("ix_profile_merges_tenant_from", "tenant_id", "from_profile_id"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    from_profile_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    into_profile_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(String(50))
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # {"identities": [[kind, value], ...], "repointed": [profile ids], "from_status": "shadow"}
    journal: Mapped[dict[str, Any]] = mapped_column(JsonType)
    unmerged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class IdentityConflict(Base):
    """A refusal that was not silent: blocked value, identifier of another anchor, limit."""

    __tablename__ = "identity_conflicts"
    __table_args__ = (Index("ix_identity_conflicts_tenant_created", "tenant_id", "created_at"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(40))
    owner_profile_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    attempted_profile_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
