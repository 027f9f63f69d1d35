"""API keys: their shape, generation and hashing (pure)."""

from __future__ import annotations

import hashlib
import secrets

from journeyline.statuses import KeyKind

PREFIXES: dict[KeyKind, str] = {"public": "pk_", "secret": "sk_"}


def generate_key(kind: KeyKind) -> str:
    return PREFIXES[kind] + secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def kind_of(key: str) -> KeyKind | None:
    """The kind a key claims by its prefix; None for anything that is not a key."""
    if not 8 <= len(key) <= 200:
        return None
    for kind, prefix in PREFIXES.items():
        if key.startswith(prefix):
            return kind
    return None


def display_prefix(key: str) -> str:
    return key[:10]
