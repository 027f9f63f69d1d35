"""The CRM (Waypath "Pipeline"): persons, companies and deals, projected from the log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.statuses import DealKind, DealStage, LifecycleStage
from journeyline.store.base import Base, UtcDateTime


class CrmCompany(Base):
    __tablename__ = "crm_companies"
    __table_args__ = (Index("ix_crm_companies_tenant_group_key", "tenant_id", "group_key"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # UUIDv5 of (tenant, "company", key): the same company from any event is one row.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    name_given: Mapped[bool] = mapped_column(Boolean)
    # The group key (a person's `company.id`: a Segment groupId, a PostHog group key) the first
    # person who described this company gave with it: a person who names only that key belongs
    # here (decision 73).
    group_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CrmPerson(Base):
    __tablename__ = "crm_persons"
    __table_args__ = (Index("ix_crm_persons_tenant_company", "tenant_id", "company_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # One person per anchor profile: the person's id is the profile's.
    profile_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str | None] = mapped_column(String(255), nullable=True)
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    lifecycle_stage: Mapped[LifecycleStage] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CrmDeal(Base):
    __tablename__ = "crm_deals"
    __table_args__ = (
        Index("ix_crm_deals_tenant_profile", "tenant_id", "profile_id"),
        Index("ix_crm_deals_tenant_stage", "tenant_id", "stage", "last_activity_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # UUIDv5 of (tenant, "deal", key).
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[DealKind] = mapped_column(String(16))
    stage: Mapped[DealStage] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    amount: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(8), nullable=True)
    profile_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    subscription_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime)
    basis_stage: Mapped[DealStage | None] = mapped_column(String(16), nullable=True)
    basis_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    basis_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
