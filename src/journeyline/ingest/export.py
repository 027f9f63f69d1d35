"""The right of access: everything held about a person as one JSON document (API.md
`GET /v1/profiles/{id}/export`): the surviving profile, its identifiers, attributes with their
lineage, the merges, every event of the family (oldest first), orders, CRM person and deals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from journeyline.identity import reads
from journeyline.store.db import Session
from journeyline.store.repositories.erasures import ErasureRepository
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.profiles import ProfileRepository

_PAGE = 1000
# Lineage rows per export: a person's attribute history, bounded so one document stays sane.
_LINEAGE = 100_000

_EVENT_FIELDS = (
    "id",
    "profile_id",
    "event_type",
    "event_name",
    "source_type",
    "source",
    "payload",
    "raw_payload",
    "traits",
    "identifiers",
    "anonymous_id",
    "session_id",
    "campaign_id",
    "channel",
    "external_event_id",
    "occurred_at",
    "received_at",
)


def _plain(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields}


def _columns(row: Any) -> dict[str, Any]:
    return {c.name: getattr(row, c.key) for c in row.__table__.columns if c.name != "tenant_id"}


async def export_person(
    session: Session, tenant_id: uuid.UUID, profile_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    view = await reads.get_profile(session, tenant_id, profile_id)
    family = [view.id, *view.merged_from]
    profiles = ProfileRepository(session, tenant_id)
    events_repo = EventRepository(session, tenant_id)
    events: list[dict[str, Any]] = []
    after: tuple[datetime, uuid.UUID] | None = None
    while rows := await events_repo.page_for_profiles(
        family, limit=_PAGE, before=after, oldest_first=True
    ):
        events.extend(_plain(row, _EVENT_FIELDS) for row in rows)
        after = (rows[-1].occurred_at, rows[-1].id)
        if len(rows) < _PAGE:
            break
    lineage = await profiles.lineage(family, _LINEAGE)
    merges = await profiles.merges_involving(family)
    held = ErasureRepository(session, tenant_id)
    return {
        "exported_at": now,
        "profile": {
            "id": view.id,
            "status": view.status,
            "merged_from": view.merged_from,
            "first_seen_at": view.first_seen_at,
            "last_seen_at": view.last_seen_at,
            "event_count": view.event_count,
        },
        "identities": [{"kind": kind, "value": value} for kind, value in view.identities],
        "attributes": view.attributes,
        "lineage": [
            _plain(c, ("path", "old_value", "new_value", "event_id", "source", "changed_at"))
            for c in lineage
        ],
        "merges": [
            _plain(
                m,
                (
                    "from_profile_id",
                    "into_profile_id",
                    "reason",
                    "event_id",
                    "merged_at",
                    "unmerged_at",
                ),
            )
            for m in merges
        ],
        "events": events,
        "orders": [_columns(order) for order in await held.orders_of(family)],
        "crm_person": next((_columns(p) for p in await held.persons_of(family)), None),
        "deals": [_columns(deal) for deal in await held.deals_of(family)],
    }
