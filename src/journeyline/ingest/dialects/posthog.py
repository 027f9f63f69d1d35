"""The PostHog dialect (decision 66): the events PostHog's SDKs capture (posthog-python,
posthog-js, posthog-node) to canonical events (pure).

Mapping: `distinct_id` (top level, else `properties.distinct_id`) is the external id once the
person is identified, else the anonymous id. A server SDK's `distinct_id` is the application's
own user id (identified); posthog-js says which it is (`$is_identified`, `$device_id`, the id it
made up at the first visit). `$identify` carries the new id with the old one in
`$anon_distinct_id`: both on one event, so the anonymous profile collapses into the identified
one. `$create_alias` is an alias (`alias` is the new id, `distinct_id` the previous one).
`$set` and `$set_once` (top level or in `properties`) are the attribute patch, `$set_once`
never overwriting. `$groupidentify` makes the group the person's company (the CRM reads it),
as a Segment group does; so does `$groups` on any other event (posthog-js adds it to every
event after `group()`), once per request and person (`expand_events`). `$pageview` is a page view, `$screen` a screen view; every other event
is a track. `uuid` is the idempotency key; `timestamp` has the client's clock skew taken out
with the batch's `sent_at` (or the event's `offset`, milliseconds before sending).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from journeyline.errors import InvalidPayload
from journeyline.identity.attributes import SET_ONCE_KEY
from journeyline.ingest.canonical import CanonicalEvent, SourceType
from journeyline.ingest.dialects.fields import as_utc, parse_model, track_event_type
from journeyline.ingest.dialects.segment import occurred_at
from journeyline.payloads import reference, text

# The source of every PostHog-dialect event: its uuids are deduplicated among themselves.
POSTHOG_SOURCE = "posthog"

Id = StrictStr | StrictInt

# PostHog's own events and what they become; any other event is a track.
PAGE_EVENTS: dict[str, tuple[str, str]] = {
    "$pageview": ("page_viewed", "page"),
    "$screen": ("screen_viewed", "screen"),
}


class PostHogEvent(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event: StrictStr = Field(min_length=1, max_length=255)
    distinct_id: Id | None = None
    properties: dict[str, Any] | None = None
    uuid: StrictStr | None = Field(default=None, max_length=255)
    timestamp: datetime | None = None
    offset: StrictInt | None = Field(default=None, ge=0)
    set: dict[str, Any] | None = Field(default=None, alias="$set")
    set_once: dict[str, Any] | None = Field(default=None, alias="$set_once")


def _text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    found = str(value).strip()
    return found or None


def _object(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _identities(distinct_id: str, properties: dict[str, Any]) -> tuple[str | None, str | None]:
    """(external id, anonymous id) of an ordinary event's sender."""
    device = _text(properties.get("$device_id"))
    identified = properties.get("$is_identified")
    if identified is False or (identified is None and device == distinct_id):
        return None, distinct_id
    # Identified: the device's anonymous id (posthog-js) is the same person's too.
    return distinct_id, device if device != distinct_id else None


def _patch(message: PostHogEvent, properties: dict[str, Any]) -> dict[str, Any] | None:
    updates = {**_object(properties.get("$set")), **_object(message.set)}
    once = {**_object(properties.get("$set_once")), **_object(message.set_once)}
    patch: dict[str, Any] = {k: v for k, v in updates.items() if not k.startswith("$")}
    once = {k: v for k, v in once.items() if not k.startswith("$")}
    if once:
        patch[SET_ONCE_KEY] = once
    return patch or None


def _payload(properties: dict[str, Any]) -> dict[str, Any]:
    """The event's own properties, without the SDK's bookkeeping (`$lib`, `$set`, `token`)."""
    return {
        key: value
        for key, value in properties.items()
        if key not in ("$set", "$set_once", "token", "distinct_id")
    }


def split_patch(item: object) -> list[object]:
    """A track or page event that also sets attributes (`capture(..., set={...})`) as two: the
    patch first (an identify-like `$set` event, its uuid suffixed), then the event without it,
    so the event stays an event (an order, a page view) and the patch still applies."""
    if not isinstance(item, dict):
        return [item]
    name = item.get("event")
    properties = item.get("properties")
    if name in SPECIAL_EVENTS or not isinstance(properties, dict):
        return [item]
    patch_keys = [k for k in ("$set", "$set_once") if isinstance(properties.get(k), dict)]
    top_keys = [k for k in ("$set", "$set_once") if isinstance(item.get(k), dict)]
    if not patch_keys and not top_keys:
        return [item]
    patch = {
        **{k: item[k] for k in top_keys},
        "event": "$set",
        "distinct_id": item.get("distinct_id"),
        "timestamp": item.get("timestamp"),
        "properties": {
            **{k: v for k, v in properties.items() if k.startswith("$") and k not in patch_keys},
            **{k: properties[k] for k in patch_keys},
        },
    }
    for key in ("offset",):
        if key in item:
            patch[key] = item[key]
    if isinstance(item.get("uuid"), str):
        patch["uuid"] = f"{item['uuid']}:set"
    if "token" in properties:
        patch["properties"]["token"] = properties["token"]
    if "distinct_id" in properties:
        patch["properties"]["distinct_id"] = properties["distinct_id"]
    rest = {k: v for k, v in item.items() if k not in top_keys}
    rest["properties"] = {k: v for k, v in properties.items() if k not in patch_keys}
    return [patch, rest]


# The group types read as the CRM company from an event's `$groups`, in this order; with
# none of them, a `$groups` of exactly one type is the company.
COMPANY_GROUP_TYPES = ("company", "organization", "account")
SPECIAL_EVENTS = ("$identify", "$set", "$set_once", "$groupidentify", "$create_alias")


def company_of_groups(groups: object) -> str | None:
    """The company key in an event's `$groups` (`{"company": "acme"}`), if it names one."""
    if not isinstance(groups, dict) or not groups:
        return None
    for group_type in COMPANY_GROUP_TYPES:
        if group_type in groups:
            return _text(groups[group_type])
    return _text(next(iter(groups.values()))) if len(groups) == 1 else None


def group_patch(item: object) -> dict[str, Any] | None:
    """For an ordinary event carrying `$groups`: the `$set` event that makes that group the
    sender's company (`{"id": key}`, merged key by key into what `$groupidentify` set), its
    uuid suffixed `:group` so a redelivery is a duplicate. None when there is no company."""
    if not isinstance(item, dict) or item.get("event") in SPECIAL_EVENTS:
        return None
    properties = item.get("properties")
    if not isinstance(properties, dict):
        return None
    company = company_of_groups(properties.get("$groups"))
    if company is None:
        return None
    kept = {
        k: v
        for k, v in properties.items()
        if (k.startswith("$") and k not in ("$set", "$set_once", "$groups"))
        or k in ("token", "distinct_id")
    }
    patch: dict[str, Any] = {
        "event": "$set",
        "distinct_id": item.get("distinct_id"),
        "timestamp": item.get("timestamp"),
        "properties": {**kept, "$set": {"company": {"id": company}}},
    }
    if "offset" in item:
        patch["offset"] = item["offset"]
    if isinstance(item.get("uuid"), str):
        patch["uuid"] = f"{item['uuid']}:group"
    return patch


def expand_events(events: list[object]) -> list[tuple[int, object]]:
    """A request's events as the pipeline takes them, each with the index it came from: an
    event's attribute patch split off before it (`split_patch`), and before the first event
    of each person and company in the request, the `$groups` patch (`group_patch`): once per
    request, not once per event, so a page of a group member's events adds one `$set`."""
    expanded: list[tuple[int, object]] = []
    grouped: set[tuple[object, object]] = set()
    for index, item in enumerate(events):
        patch = group_patch(item)
        if patch is not None:
            company = patch["properties"]["$set"]["company"]["id"]
            who = (patch["distinct_id"], _object(patch["properties"]).get("distinct_id"))
            if (who, company) not in grouped:
                grouped.add((who, company))
                expanded.append((index, patch))
        expanded.extend((index, part) for part in split_patch(item))
    return expanded


def parse_posthog_event(
    data: object,
    *,
    source_type: SourceType,
    received_at: datetime,
    sent_at: datetime | None = None,
) -> CanonicalEvent:
    """One captured event; `sent_at` is its batch's, when it came in one."""
    message = parse_model(PostHogEvent, data)
    properties = _object(message.properties)
    distinct_id = _text(message.distinct_id) or _text(properties.get("distinct_id"))
    if distinct_id is None:
        raise InvalidPayload("an event needs a distinct_id", field="distinct_id")
    traits = _patch(message, properties)
    payload = _payload(properties)
    previous_id: str | None = None
    kind = message.event
    if kind == "$identify":
        anonymous = _text(properties.get("$anon_distinct_id"))
        external_id: str | None = distinct_id
        anonymous_id = anonymous if anonymous != distinct_id else None
        event_type, name = "identified", "identify"
        traits = traits or {}
    elif kind == "$create_alias":
        alias = _text(properties.get("alias"))
        if alias is None:
            raise InvalidPayload("a $create_alias event needs properties.alias", field="alias")
        external_id, anonymous_id, previous_id = alias, None, distinct_id
        payload = {"previous_id": distinct_id}
        event_type, name = "aliased", "alias"
    elif kind == "$groupidentify":
        group_key = _text(properties.get("$group_key"))
        if group_key is None:
            raise InvalidPayload(
                "a $groupidentify event needs properties.$group_key", field="$group_key"
            )
        group = _object(properties.get("$group_set"))
        company = {"id": group_key, **{k: v for k, v in group.items() if v is not None}}
        group_type = _text(properties.get("$group_type")) or "company"
        payload = {"group_id": group_key, "group_type": group_type, "traits": group}
        traits = {**(traits or {}), "company": company}
        external_id, anonymous_id = _identities(distinct_id, properties)
        event_type, name = "group_joined", "group"
    else:
        external_id, anonymous_id = _identities(distinct_id, properties)
        if kind in PAGE_EVENTS:
            event_type, name = PAGE_EVENTS[kind]
        elif kind in ("$set", "$set_once"):
            # posthog-python's set() and set_once() (the latter's event is `$set_once`): only
            # the patch.
            event_type, name = "identified", "identify"
            traits = traits or {}
        else:
            event_type = track_event_type(
                kind, payload, name_field="event", payload_field="properties"
            )
            name = kind

    stamped = message.timestamp
    if stamped is None and message.offset is not None:
        stamped = received_at - timedelta(milliseconds=message.offset)
        sent_at = None
    patch_traits = traits or {}
    return CanonicalEvent(
        event_type=event_type,
        event_name=name[:255],
        source_type=source_type,
        source=POSTHOG_SOURCE,
        received_at=received_at,
        occurred_at=occurred_at(stamped, None, as_utc(sent_at), received_at),
        payload=payload,
        raw_payload=data if isinstance(data, dict) else None,
        traits=traits,
        external_event_id=message.uuid,
        email=text(patch_traits.get("email"))
        or text(_object(patch_traits.get(SET_ONCE_KEY)).get("email")),
        phone=text(patch_traits.get("phone")),
        external_id=external_id,
        anonymous_id=anonymous_id,
        campaign_id=text(properties.get("utm_campaign")),
        channel=text(properties.get("utm_medium")),
        object_id_ref=reference(payload.get("order_id")),
        previous_id=previous_id,
    )
