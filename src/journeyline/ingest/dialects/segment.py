"""The Segment dialect (/v1/identify, /v1/track, /v1/page, /v1/screen, /v1/group, /v1/alias,
/v1/batch): Segment's and RudderStack's HTTP tracking messages to canonical events (pure).

Field mapping (DESIGN §3): `userId` is the external id, `anonymousId` the anonymous id; traits
come from the top level or `context.traits` (RudderStack puts them there); `context.campaign`
names the campaign and its medium the channel; `context.page`, `ip` and `userAgent` stay in the
payload; `messageId` is the idempotency key. The clients send nulls for absent fields.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent, SourceType
from journeyline.ingest.dialects.fields import as_utc, parse_model, track_event_type
from journeyline.payloads import reference, text

# The source of every Segment-dialect event: its messageIds are deduplicated among themselves.
SEGMENT_SOURCE = "segment"

MessageType = Literal["identify", "track", "page", "screen", "group", "alias"]
Id = StrictStr | StrictInt

# What a message's type becomes when it names no event of its own.
EVENT_TYPES: dict[str, str] = {
    "identify": "identified",
    "page": "page_viewed",
    "screen": "screen_viewed",
    "group": "group_joined",
    "alias": "aliased",
}


class SegmentMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: MessageType
    messageId: StrictStr | None = Field(default=None, max_length=255)  # noqa: N815 (wire name)
    userId: Id | None = None  # noqa: N815
    anonymousId: Id | None = None  # noqa: N815
    event: StrictStr | None = Field(default=None, max_length=255)
    name: StrictStr | None = Field(default=None, max_length=255)
    category: StrictStr | None = Field(default=None, max_length=255)
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    groupId: Id | None = None  # noqa: N815
    previousId: Id | None = None  # noqa: N815
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None  # noqa: N815
    sentAt: datetime | None = None  # noqa: N815


def _text(value: Id | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _object(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def occurred_at(
    timestamp: datetime | None,
    original: datetime | None,
    sent_at: datetime | None,
    received_at: datetime,
) -> datetime | None:
    """When it happened, with the client's clock skew taken out: the client stamped the event
    at `original` and sent it at `sent_at` by its own clock, which we received at `received_at`
    by ours, so it happened at `received_at - (sent_at - original)`."""
    stamped = as_utc(original or timestamp)
    sent = as_utc(sent_at)
    if stamped is None:
        return None
    if sent is None:
        return stamped
    elapsed = sent - stamped
    if elapsed < timedelta(0):
        # Stamped after it was sent: a broken clock; the server's clock is the better guess.
        return received_at
    return received_at - elapsed


def parse_segment_message(
    data: object,
    *,
    source: str,
    source_type: SourceType,
    received_at: datetime,
    sent_at: datetime | None = None,
    batch_context: dict[str, Any] | None = None,
) -> CanonicalEvent:
    """One message; `sent_at` and `batch_context` are the batch's, when it came in one."""
    message = parse_model(SegmentMessage, data)
    context = {**(batch_context or {}), **_object(message.context)}
    user_id, anonymous_id = _text(message.userId), _text(message.anonymousId)
    if user_id is None and anonymous_id is None:
        raise InvalidPayload("a message needs a userId or an anonymousId", field="userId")
    context_traits = _object(context.get("traits"))
    traits = {**context_traits, **_object(message.traits)}
    properties = _object(message.properties)

    kind = message.type
    event_traits: dict[str, Any] | None = None
    payload: dict[str, Any]
    if kind == "track":
        payload = properties
        event_type = track_event_type(
            message.event, payload, name_field="event", payload_field="properties"
        )
        name = message.event or event_type
    elif kind in ("page", "screen"):
        page = _object(context.get("page")) if kind == "page" else {}
        payload = {**page, **properties}
        for key, value in (("name", message.name), ("category", message.category)):
            if value is not None:
                payload[key] = value
        event_type, name = EVENT_TYPES[kind], message.name or kind
    elif kind == "identify":
        payload, event_traits = dict(traits), traits
        event_type, name = EVENT_TYPES[kind], "identify"
    elif kind == "group":
        group_id = _text(message.groupId)
        if group_id is None:
            raise InvalidPayload("a group message needs a groupId", field="groupId")
        group = _object(message.traits)
        company = {"id": group_id, **{k: v for k, v in group.items() if v is not None}}
        payload = {"group_id": group_id, "traits": group}
        # The group is the person's company (the CRM reads `company` from the profile).
        event_traits = {"company": company}
        event_type, name = EVENT_TYPES[kind], "group"
    else:  # alias
        previous = _text(message.previousId)
        if previous is None or user_id is None:
            raise InvalidPayload(
                "an alias message needs a previousId and a userId", field="previousId"
            )
        payload = {"previous_id": previous}
        event_type, name = EVENT_TYPES[kind], "alias"

    for key in ("ip", "userAgent"):
        if isinstance(context.get(key), str):
            payload.setdefault(key, context[key])
    campaign = _object(context.get("campaign"))
    if kind not in ("page", "screen") and context.get("page") and isinstance(context["page"], dict):
        payload.setdefault("page", context["page"])

    return CanonicalEvent(
        event_type=event_type,
        event_name=name[:255],
        source_type=source_type,
        source=source,
        received_at=received_at,
        occurred_at=occurred_at(
            message.timestamp, message.originalTimestamp, message.sentAt or sent_at, received_at
        ),
        payload=payload,
        raw_payload=data if isinstance(data, dict) else None,
        traits=event_traits,
        external_event_id=message.messageId,
        email=text(traits.get("email")),
        phone=text(traits.get("phone")),
        external_id=user_id,
        anonymous_id=anonymous_id,
        campaign_id=text(campaign.get("name")) or text(properties.get("utm_campaign")),
        channel=text(campaign.get("medium")) or text(properties.get("utm_medium")),
        object_id_ref=reference(payload.get("order_id")),
        previous_id=_text(message.previousId) if kind == "alias" else None,
    )
