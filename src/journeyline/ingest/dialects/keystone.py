"""Keystone dialect (/ingest, /api/ingest, batches): identify, track and page events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from journeyline.identity.normalize import classify_identity
from journeyline.ingest.canonical import CanonicalEvent, SourceType
from journeyline.ingest.dialects.fields import as_utc, parse_model, track_event_type
from journeyline.payloads import reference, text


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
        email = email or text(payload.get("email"))
        phone = phone or text(payload.get("phone"))
    elif event.event_type == "page":
        event_type = "page_viewed"
        name = event.event_name or "page"
    else:
        event_type = track_event_type(
            event.event_name, payload, name_field="event_name", payload_field="payload"
        )
        name = event.event_name or event_type

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
        campaign_id=event.campaign_id or text(payload.get("utm_campaign")),
        channel=event.channel or text(payload.get("utm_medium")),
        object_id_ref=reference(payload.get("order_id")),
    )
