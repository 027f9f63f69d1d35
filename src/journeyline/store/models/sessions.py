"""Dashboard sign-ins, kept server-side so that signing out ends them (decision 48)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.store.base import Base, UtcDateTime


class DashboardSession(Base):
    __tablename__ = "dashboard_sessions"

    # SHA-256 of the random sign-in id the cookie carries (the table alone opens nothing).
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    # The secret key signed in with, by its hash: revoking the key ends the session.
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
