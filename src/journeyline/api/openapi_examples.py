"""A request example for every body the API reads, shown by /docs (and tried by schemathesis's
explicit phase): the bodies API.md describes, with keys and ids a reader recognises. Keyed by
path; every method of a path takes the same body. A route that reads a body and has no example
here fails tests/api/test_openapi_docs.py."""

from __future__ import annotations

from typing import Any

_KEYSTONE = {
    "anonymous_id": "f5f1345d-3c4b-4a8c-9d7e-2b1f0c6a9e11",
    "identity": "jane@example.com",
    "event_type": "track",
    "event_name": "Added to Cart",
    "payload": {"product_id": "P-1234", "price": 100.0},
    "timestamp": "2026-11-22T10:00:00Z",
    "message_id": "cart-jane-1",
}
_SEGMENT_TRACK = {
    "type": "track",
    "userId": "user-1",
    "anonymousId": "anon-1",
    "event": "Order Completed",
    "properties": {"order_id": "A1", "total": 10.0, "currency": "EUR"},
    "messageId": "msg-1",
    "timestamp": "2026-11-22T10:00:00Z",
}
_SEGMENT_IDENTIFY = {
    "type": "identify",
    "userId": "user-1",
    "anonymousId": "anon-1",
    "traits": {"email": "jane@example.com", "name": "Jane Doe"},
    "messageId": "msg-2",
}
_SEGMENT_PAGE = {
    "type": "page",
    "anonymousId": "anon-1",
    "name": "Pricing",
    "properties": {"url": "https://shop.example.com/pricing?utm_source=newsletter"},
    "messageId": "msg-3",
}
_SEGMENT_SCREEN = {"type": "screen", "userId": "user-1", "name": "Home", "messageId": "msg-4"}
_SEGMENT_GROUP = {
    "type": "group",
    "userId": "user-1",
    "groupId": "acme",
    "traits": {"name": "Acme Inc.", "industry": "retail"},
    "messageId": "msg-5",
}
_SEGMENT_ALIAS = {"type": "alias", "userId": "user-1", "previousId": "anon-1", "messageId": "m6"}
_SEGMENT_BATCH = {"batch": [_SEGMENT_IDENTIFY, _SEGMENT_TRACK], "sentAt": "2026-11-22T10:00:01Z"}
_POSTHOG_BATCH = {
    "api_key": "pk_…",
    "sent_at": "2026-11-22T10:00:01Z",
    "batch": [
        {
            "event": "$identify",
            "distinct_id": "user-1",
            "properties": {
                "$anon_distinct_id": "0192f0c4-anon",
                "$set": {"email": "jane@example.com", "name": "Jane Doe"},
                "$set_once": {"first_plan": "free"},
            },
            "uuid": "0192f0c4-7b5e-7c1a-9f00-000000000001",
            "timestamp": "2026-11-22T10:00:00Z",
        },
        {
            "event": "order completed",
            "distinct_id": "user-1",
            "properties": {"order_id": "A1", "total": 10.0, "$groups": {"company": "acme"}},
            "uuid": "0192f0c4-7b5e-7c1a-9f00-000000000002",
            "timestamp": "2026-11-22T10:00:00Z",
        },
    ],
}
_POSTHOG_FLAGS = {"token": "pk_…", "distinct_id": "0192f0c4-anon"}

EXAMPLES: dict[str, Any] = {
    "/admin/tenants": {"name": "Acme"},
    "/v1/keys": {"name": "backend"},
    "/v1/settings": {
        "phone_region": "BR",
        "blocklist": ["test@example.com"],
        "rate_limit": {"requests_per_second": 500, "burst": 1000},
    },
    "/ingest": _KEYSTONE,
    "/api/ingest": _KEYSTONE,
    "/v1/events": _KEYSTONE,
    "/tenant/ingest/batch": {"events": [_KEYSTONE, {**_KEYSTONE, "message_id": "cart-jane-2"}]},
    "/api/events": {
        "company_id": "pk_…",
        "sessionId": "session_123abc",
        "events": [
            {
                "eventType": "page_view",
                "eventData": {"address": "/pricing"},
                "timestamp": "2026-11-22T10:00:00Z",
                "eventId": "evt-1",
            }
        ],
    },
    "/api/profile": {
        "company_id": "pk_…",
        "sessionId": "session_123abc",
        "email": "john@example.com",
        "name": "John Doe",
    },
    "/api/webhooks/events": {
        "company_id": "pk_…",
        "identifier": {"email": "john@example.com"},
        "eventType": "payment_processed",
        "eventData": {"amount": 99.99},
        "timestamp": "2026-11-22T10:00:00Z",
        "eventId": "pay-1",
    },
    "/v1/profiles/{profile_id}/merge": {"profile_id": "6f1c2b1e-8a4d-4c1e-9b7a-3d2e1f0a9b8c"},
    "/v1/profiles/{profile_id}/unmerge": {"profile_id": "6f1c2b1e-8a4d-4c1e-9b7a-3d2e1f0a9b8c"},
    "/v1/erasures": {"email": "jane@example.com"},
    "/v1/connections": {"provider": "stripe", "secret": "whsec_…"},
    "/v1/identify": _SEGMENT_IDENTIFY,
    "/v1/track": _SEGMENT_TRACK,
    "/v1/page": _SEGMENT_PAGE,
    "/v1/screen": _SEGMENT_SCREEN,
    "/v1/group": _SEGMENT_GROUP,
    "/v1/alias": _SEGMENT_ALIAS,
    "/v1/batch": _SEGMENT_BATCH,
    "/v1/i": _SEGMENT_IDENTIFY,
    "/v1/t": _SEGMENT_TRACK,
    "/v1/p": _SEGMENT_PAGE,
    "/v1/s": _SEGMENT_SCREEN,
    "/v1/g": _SEGMENT_GROUP,
    "/v1/a": _SEGMENT_ALIAS,
    "/v1/b": _SEGMENT_BATCH,
    "/v1/m": {
        "series": [
            {"type": "Counter", "metric": "analytics_js.invoke", "value": 1, "tags": {}},
        ]
    },
    "/beacon/v1/batch": _SEGMENT_BATCH,
    **{
        path: _POSTHOG_BATCH
        for stem in ("/batch", "/capture", "/e", "/i/v0/e")
        for path in (stem, f"{stem}/")
    },
    **dict.fromkeys(("/flags", "/flags/", "/decide", "/decide/"), _POSTHOG_FLAGS),
}
