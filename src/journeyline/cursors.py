"""Opaque keyset cursors: (timestamp, uuid) in, a URL-safe token out, and back."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from journeyline.errors import InvalidPayload


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        at, row_id = raw.split("|", 1)
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidPayload("the cursor is not valid", field="cursor") from exc


def encode_key_cursor(key: str | None) -> str | None:
    """An opaque cursor for a page keyed by one string (an order or product id)."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=") if key else None


def decode_key_cursor(token: str | None) -> str | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        key = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = ""
    if not key:
        raise InvalidPayload("the cursor is not valid", field="cursor")
    return key
