"""TrackMate dialect (seeds/003): session events, identify, and the server's events.

- `POST /api/events`: `{company_id, sessionId, events: [{eventType, eventData, timestamp, eventId}]}`,
  the browser's events of one session (source `web`, direct).
- `POST /api/profile`: `{company_id, sessionId, email, name?, phone?, …traits}`, the visitor
  identifying themselves; recorded as an `identified` event carrying the session, so the
  session's shadow profile is promoted (or collapses into the known person) and every earlier
  event of the session is on the person's timeline.
- `POST /api/webhooks/events`: `{company_id, identifier: {email | sessionId | userId},
  eventType, eventData, timestamp, eventId}`, the tenant's own server (source `webhook`,
  internal), bound by exactly one of the three methods of the seed.

`company_id` is the tenant's public key; it is checked by the route, not here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from journeyline.errors import InvalidPayload, JourneylineError, ProfileNotFound
from journeyline.ids import parse_uuid
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.dialects.fields import (
    as_utc,
    check_event_limits,
    parse_model,
    track_event_type,
)
from journeyline.payloads import reference, text

# The server events' source: the seed's timeline labels them "source: webhook".
WEBHOOK_SOURCE = "webhook"
# Keys of /api/profile that describe the request, not the person.
_PROFILE_ENVELOPE = frozenset({"company_id", "sessionId", "timestamp", "eventId"})


class TrackMateEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    eventType: StrictStr = Field(min_length=1, max_length=255)  # noqa: N815 (wire name)
    eventData: dict[str, Any] | None = None  # noqa: N815
    timestamp: datetime | None = None
    eventId: StrictStr | None = Field(default=None, min_length=1, max_length=255)  # noqa: N815


class TrackMateSession(BaseModel):
    """The envelope of POST /api/events (its events are validated one by one)."""

    model_config = ConfigDict(extra="allow")

    sessionId: StrictStr = Field(min_length=1, max_length=255)  # noqa: N815
    events: list[Any] = Field(min_length=1)


class TrackMateProfile(BaseModel):
    model_config = ConfigDict(extra="allow")

    sessionId: StrictStr | None = Field(default=None, min_length=1, max_length=255)  # noqa: N815
    email: StrictStr | None = Field(default=None, max_length=320)
    phone: StrictStr | None = Field(default=None, max_length=64)
    name: StrictStr | None = Field(default=None, max_length=255)
    timestamp: datetime | None = None
    eventId: StrictStr | None = Field(default=None, min_length=1, max_length=255)  # noqa: N815


class Identifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: StrictStr | None = Field(default=None, min_length=1, max_length=320)
    sessionId: StrictStr | None = Field(default=None, min_length=1, max_length=255)  # noqa: N815
    userId: StrictStr | None = Field(default=None, min_length=1, max_length=64)  # noqa: N815


class TrackMateServerEvent(TrackMateEvent):
    identifier: Identifier


def _event_fields(
    event: TrackMateEvent, data: dict[str, Any], received_at: datetime
) -> dict[str, Any]:
    """The fields a TrackMate event contributes to its canonical event."""
    payload = dict(event.eventData or {})
    event_type = track_event_type(
        event.eventType,
        payload,
        name_field="eventType",
        payload_field="eventData",
    )
    return {
        "event_type": event_type,
        "event_name": event.eventType,
        "received_at": received_at,
        "occurred_at": as_utc(event.timestamp),
        "payload": payload,
        "raw_payload": data,
        "external_event_id": event.eventId,
        "campaign_id": text(payload.get("utm_campaign")),
        "channel": text(payload.get("utm_medium")),
        "object_id_ref": reference(payload.get("order_id")),
    }


def parse_session_events(
    body: dict[str, Any],
    *,
    received_at: datetime,
    max_event_bytes: int,
    max_depth: int,
    max_events: int,
) -> list[CanonicalEvent]:
    """The events of one browser session; any invalid event rejects the request (its index
    is named), so a session's events are stored all together or not at all."""
    envelope = parse_model(TrackMateSession, body)
    if len(envelope.events) > max_events:
        raise InvalidPayload(
            f"events may hold at most {max_events} events; it has {len(envelope.events)}",
            field="events",
        )
    parsed: list[CanonicalEvent] = []
    for index, item in enumerate(envelope.events):
        try:
            check_event_limits(item, max_bytes=max_event_bytes, max_depth=max_depth)
            event = parse_model(TrackMateEvent, item)
            fields = _event_fields(event, item, received_at)
        except JourneylineError as exc:
            exc.field = f"events[{index}].{exc.field}" if exc.field else f"events[{index}]"
            exc.index = index
            raise
        parsed.append(
            CanonicalEvent(
                source_type="direct", source="web", session_id=envelope.sessionId, **fields
            )
        )
    return parsed


def parse_profile(body: dict[str, Any], *, received_at: datetime) -> CanonicalEvent:
    """The visitor identifying themselves: an `identified` event with their traits."""
    profile = parse_model(TrackMateProfile, body)
    if not (profile.email and profile.email.strip()) and not (
        profile.phone and profile.phone.strip()
    ):
        raise InvalidPayload("identify needs an email (or a phone)", field="email")
    traits = {
        key: value
        for key, value in body.items()
        if key not in _PROFILE_ENVELOPE and value is not None
    }
    return CanonicalEvent(
        event_type="identified",
        event_name="identify",
        source_type="direct",
        source="web",
        received_at=received_at,
        occurred_at=as_utc(profile.timestamp),
        payload=traits,
        raw_payload=body,
        traits=traits,
        external_event_id=profile.eventId,
        email=profile.email,
        phone=profile.phone,
        session_id=profile.sessionId,
    )


def parse_server_event(body: dict[str, Any], *, received_at: datetime) -> CanonicalEvent:
    """An event from the tenant's server, bound by email, session id or profile id."""
    event = parse_model(TrackMateServerEvent, body)
    identifier = event.identifier
    given = [
        name
        for name, value in (
            ("email", identifier.email),
            ("sessionId", identifier.sessionId),
            ("userId", identifier.userId),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidPayload(
            "identifier must hold exactly one of email, sessionId and userId"
            + (f"; it holds {', '.join(given)}" if given else ""),
            field="identifier",
        )
    profile_id = None
    if identifier.userId is not None:
        profile_id = parse_uuid(identifier.userId)
        if profile_id is None:
            raise ProfileNotFound("no profile has this id", field="identifier.userId")
    fields = _event_fields(event, body, received_at)
    return CanonicalEvent(
        source_type="internal",
        source=WEBHOOK_SOURCE,
        email=identifier.email,
        session_id=identifier.sessionId,
        profile_id=profile_id,
        **fields,
    )
