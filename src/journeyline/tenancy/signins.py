"""Dashboard sign-ins kept server-side: one record per sign-in, deleted at sign-out, so a
session ends when its user says so, not only when its cookie expires (decision 48)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from journeyline.store.db import Session
from journeyline.store.repositories import sessions as session_repo
from journeyline.tenancy.sessions import new_sign_in_id, stored_id


async def start(
    session: Session, tenant_id: uuid.UUID, key_hash: str, now: datetime, max_age_seconds: float
) -> str:
    """Record a sign-in and answer its id (for the cookie). Expired sign-ins are purged here:
    sign-ins are rare, so this keeps the table to the live ones without a sweeper."""
    await session_repo.delete_sessions_before(session, now - timedelta(seconds=max_age_seconds))
    sign_in_id = new_sign_in_id()
    await session_repo.add_session(session, stored_id(sign_in_id), tenant_id, key_hash, now)
    return sign_in_id


async def key_hash_of(session: Session, sign_in_id: str) -> str | None:
    """The key a live sign-in was made with; None once signed out (or never made)."""
    return await session_repo.key_hash_of(session, stored_id(sign_in_id))


async def end(session: Session, sign_in_id: str) -> None:
    await session_repo.delete_session(session, stored_id(sign_in_id))
