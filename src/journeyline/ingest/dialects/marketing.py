"""The native API (/v1/events): Waypath's MarketingEvent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from journeyline.errors import ProfileNotFound
from journeyline.ids import parse_uuid
from journeyline.ingest.canonical import CanonicalEvent, SourceType
from journeyline.ingest.dialects.fields import as_utc, parse_model, track_event_type
from journeyline.payloads import text


class MarketingEvent(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: Literal["track", "identify"]
    action: StrictStr | None = Field(default=None, max_length=255)
    customer_id: StrictStr | None = Field(default=None, alias="customerId")
    email: StrictStr | None = None
    phone: StrictStr | None = None
    external_id: StrictStr | int | None = Field(default=None, alias="externalId")
    anonymous_id: StrictStr | None = Field(default=None, alias="anonymousId", max_length=255)
    session_id: StrictStr | None = Field(default=None, alias="sessionId", max_length=255)
    campaign_id: StrictStr | None = Field(default=None, alias="campaignId", max_length=255)
    channel: StrictStr | None = Field(default=None, max_length=100)
    source: StrictStr | None = Field(default=None, min_length=1, max_length=100)
    properties: dict[str, Any] | None = None
    timestamp: datetime | None = None
    message_id: StrictStr | None = Field(default=None, alias="messageId", max_length=255)


def parse_marketing_event(
    data: object, *, source_type: SourceType, default_source: str, received_at: datetime
) -> CanonicalEvent:
    event = parse_model(MarketingEvent, data)
    properties = dict(event.properties or {})
    profile_id = None
    if event.customer_id is not None:
        profile_id = parse_uuid(event.customer_id)
        if profile_id is None:
            # Not a profile id at all: answered like an id no profile has.
            raise ProfileNotFound("no profile has this id", field="customerId")

    traits: dict[str, Any] | None = None
    email, phone = event.email, event.phone
    if event.type == "identify":
        event_type, name = "identified", event.action or "identify"
        traits = properties
        email = email or text(properties.get("email"))
        phone = phone or text(properties.get("phone"))
    else:
        event_type = track_event_type(
            event.action, properties, name_field="action", payload_field="properties"
        )
        name = event.action or event_type

    return CanonicalEvent(
        event_type=event_type,
        event_name=name,
        source_type=source_type,
        source=event.source or default_source,
        received_at=received_at,
        occurred_at=as_utc(event.timestamp),
        payload=properties,
        raw_payload=data if isinstance(data, dict) else None,
        traits=traits,
        external_event_id=event.message_id,
        profile_id=profile_id,
        email=email,
        phone=phone,
        external_id=None if event.external_id is None else str(event.external_id),
        anonymous_id=event.anonymous_id,
        session_id=event.session_id,
        campaign_id=event.campaign_id,
        channel=event.channel,
    )
