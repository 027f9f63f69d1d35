"""Signing a delivery the way Stripe and Shopify do, over its exact bytes: the demo's deliveries
and the webhook adapters' tests sign with these (a re-serialised body would not match)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def stripe_signature(secret: str, body: bytes, timestamp: int) -> str:
    """`Stripe-Signature`: t=<unix>,v1=hex(HMAC-SHA256(the whole whsec_ secret, "{t}.{body}"))."""
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def shopify_hmac(secret: str, body: bytes) -> str:
    """`X-Shopify-Hmac-Sha256`: base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
