"""Dashboard sessions (pure): a signed, expiring token naming the secret key signed in with by
its hash, never the key itself. The key is looked up again on every use, so revoking it ends
the session; the signature only proves the token was issued here."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

COOKIE = "journeyline_session"


@dataclass(frozen=True, slots=True)
class SessionClaim:
    key_hash: str
    issued_at: int


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: bytes, key_hash: str, now: datetime) -> str:
    body = f"{key_hash}.{int(now.timestamp())}"
    return f"{body}.{_mac(secret, body)}"


def verify(secret: bytes, token: str, now: datetime, max_age_seconds: float) -> SessionClaim | None:
    """The claim of a well-formed, untampered, unexpired token; None for anything else."""
    body, _, mac = token.rpartition(".")
    if not body or not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        return None
    key_hash, _, issued = body.partition(".")
    if not key_hash or not issued.isdigit():
        return None
    age = now.timestamp() - int(issued)
    if age < 0 or age > max_age_seconds:
        return None
    return SessionClaim(key_hash, int(issued))


def csrf_token(secret: bytes, session_token: str) -> str:
    """The token a dashboard form carries: bound to the session, so another site's form cannot
    produce it (the cookie is also SameSite=Lax)."""
    return _mac(secret, f"csrf:{session_token}")
