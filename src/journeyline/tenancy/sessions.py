"""Dashboard session tokens (pure): a signed, expiring token carrying a random sign-in id. The
server keeps a record of each sign-in (tenancy/signins.py) naming the secret key signed in with
by its hash, never the key itself; signing out deletes the record, so a copied cookie stops
working at once, and the key is looked up again on every use, so revoking it ends the session
too. The signature only proves the token was issued here (decision 48)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

COOKIE = "journeyline_session"
# Before sign-in: a random nonce the sign-in form's CSRF token is bound to (login CSRF).
SIGN_IN_COOKIE = "journeyline_sign_in"


@dataclass(frozen=True, slots=True)
class SessionClaim:
    sign_in_id: str
    issued_at: int


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_sign_in_id() -> str:
    """192 random bits, URL-safe (no dots: the token's separator)."""
    return secrets.token_urlsafe(24)


def stored_id(sign_in_id: str) -> str:
    """What the server keeps of a sign-in id: its SHA-256, so the table alone opens nothing."""
    return hashlib.sha256(sign_in_id.encode()).hexdigest()


def issue(secret: bytes, sign_in_id: str, now: datetime) -> str:
    body = f"{sign_in_id}.{int(now.timestamp())}"
    return f"{body}.{_mac(secret, body)}"


def verify(secret: bytes, token: str, now: datetime, max_age_seconds: float) -> SessionClaim | None:
    """The claim of a well-formed, untampered, unexpired token; None for anything else."""
    body, _, mac = token.rpartition(".")
    if not body or not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        return None
    sign_in_id, _, issued = body.partition(".")
    if not sign_in_id or not issued.isdigit():
        return None
    age = now.timestamp() - int(issued)
    if age < 0 or age > max_age_seconds:
        return None
    return SessionClaim(sign_in_id, int(issued))


def csrf_token(secret: bytes, session_token: str) -> str:
    """The token a dashboard form carries: bound to the session, so another site's form cannot
    produce it (the cookie is also SameSite=Lax)."""
    return _mac(secret, f"csrf:{session_token}")


def sign_in_csrf_token(secret: bytes, nonce: str) -> str:
    """The sign-in form's token, bound to the visitor's pre-sign-in nonce cookie: another site
    cannot sign a visitor in to the attacker's tenant (login CSRF)."""
    return _mac(secret, f"sign-in:{nonce}")


def token_matches(presented: str | None, expected: str) -> bool:
    """A constant-time comparison of a form's token with the expected one."""
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())
