"""Signing deliveries the way each provider does, and loading the captured fixtures.

Sign the exact bytes that are sent: a re-serialised body would not match its signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def fixture(provider: str, name: str) -> bytes:
    """tests/fixtures/webhooks/<provider>/<name>, byte for byte."""
    return (FIXTURES / provider / name).read_bytes()


def stripe_signature(secret: str, body: bytes, timestamp: int) -> str:
    """`Stripe-Signature`: t=<unix>,v1=hex(HMAC-SHA256(whole whsec_ secret, "{t}.{body}"))."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def shopify_hmac(secret: str, body: bytes) -> str:
    """`X-Shopify-Hmac-Sha256`: base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def typeform_signature(secret: str, body: bytes) -> str:
    """`Typeform-Signature`: sha256=base64(HMAC-SHA256(secret, body))."""
    return "sha256=" + shopify_hmac(secret, body)
