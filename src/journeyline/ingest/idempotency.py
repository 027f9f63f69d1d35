"""Idempotency keys and payload fingerprints for the permanent dedupe (DESIGN §2, pure)."""

from __future__ import annotations

import hashlib

import orjson

from journeyline.ingest.canonical import CanonicalEvent


def _canonical_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def payload_hash(event: CanonicalEvent) -> str:
    """Fingerprint of what the sender said; received_at is excluded so a retry hashes the same."""
    document = {
        "event_type": event.event_type,
        "event_name": event.event_name,
        "payload": event.payload,
        "traits": event.traits,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
        "identifiers": [
            event.profile_id and str(event.profile_id),
            event.email,
            event.phone,
            event.external_id,
            event.anonymous_id,
            event.session_id,
        ],
    }
    return hashlib.sha256(_canonical_json(document)).hexdigest()


def derive_external_event_id(event: CanonicalEvent, strongest_identifier: str | None) -> str | None:
    """A deterministic id for senders that give none, only when they gave a timestamp:
    without one, two genuinely separate identical events could not be told apart."""
    if event.occurred_at is None:
        return None
    document = [
        event.source,
        event.event_type,
        strongest_identifier,
        event.occurred_at.isoformat(),
        event.payload,
        event.traits,
    ]
    return "derived:" + hashlib.sha256(_canonical_json(document)).hexdigest()[:40]
