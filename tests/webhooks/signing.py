"""Loading the captured fixtures, and signing a delivery the way Typeform does (Stripe's and
Shopify's signers are the demo's own, journeyline/demo/signing.py: one of each).

Sign the exact bytes that are sent: a re-serialised body would not match its signature.
"""

from __future__ import annotations

from pathlib import Path

from journeyline.demo.signing import shopify_hmac

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def fixture(provider: str, name: str) -> bytes:
    """tests/fixtures/webhooks/<provider>/<name>, byte for byte."""
    return (FIXTURES / provider / name).read_bytes()


def typeform_signature(secret: str, body: bytes) -> str:
    """`Typeform-Signature`: sha256=base64(HMAC-SHA256(secret, body)), Shopify's digest."""
    return "sha256=" + shopify_hmac(secret, body)
