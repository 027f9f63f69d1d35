"""Keystone dialect (/ingest, /api/ingest, batches): identify, track and page events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from journeyline.errors import InvalidPayload
from journeyline.identity.normalize import classify_identity
from journeyline.ingest.canonical import CanonicalEvent, SourceType
from journeyline.ingest.dialects.fields import as_utc, check_payload_types, parse_model
from journeyline.ingest.taxonomy import normalize_event_type


class KeystoneEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    event_type: Literal["identify", "track", "page"]
    event_name: StrictStr | None = Field(default=None, max_length=255)
    anonymous_id: StrictStr | None = Field(default=None, max_length=255)
    session_id: StrictStr | None = Field(default=None, max_length=255)
    identity: StrictStr | int | None = None
    payload: dict[str, Any] | None = None
    timestamp: datetime | None = None
    message_id: StrictStr | None = Field(default=None, max_length=255)
    campaign_id: StrictStr | None = Field(default=None, max_length=255)
    channel: StrictStr | None = Field(default=None, max_length=100)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_keystone_event(
    data: object,
    *,
    source: str,
    source_type: SourceType,
    received_at: datetime,
    phone_region: str,
) -> CanonicalEvent:
    event = parse_model(KeystoneEvent, data)
    payload = dict(event.payload or {})
    email = phone = external_id = None
    if event.identity is not None:
        kind, value = classify_identity(str(event.identity), phone_region)
        if kind == "email":
            email = value
        elif kind == "phone":
            phone = value
        else:
            external_id = value

    traits: dict[str, Any] | None = None
    if event.event_type == "identify":
        event_type = "identified"
        name = event.event_name or "identify"
        traits = payload
        email = email or _text(payload.get("email"))
        phone = phone or _text(payload.get("phone"))
    elif event.event_type == "page":
        event_type = "page_viewed"
        name = event.event_name or "page"
    else:
        if not event.event_name or not event.event_name.strip():
            raise InvalidPayload("a track event needs an event_name", field="event_name")
        name = event.event_name
        event_type = normalize_event_type(name)
        if not event_type:
            raise InvalidPayload("event_name has no letters or digits", field="event_name")
        check_payload_types(event_type, payload, "payload")

    return CanonicalEvent(
        event_type=event_type,
        event_name=name,
        source_type=source_type,
        source=source,
        received_at=received_at,
        occurred_at=as_utc(event.timestamp),
        payload=payload,
        raw_payload=data if isinstance(data, dict) else None,
        traits=traits,
        external_event_id=event.message_id,
        email=email,
        phone=phone,
        external_id=external_id,
        anonymous_id=event.anonymous_id,
        session_id=event.session_id,
        campaign_id=event.campaign_id or _text(payload.get("utm_campaign")),
        channel=event.channel or _text(payload.get("utm_medium")),
        object_id_ref=_text(payload.get("order_id")),
    )
