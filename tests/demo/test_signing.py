"""The one Stripe and Shopify signer (the demo's deliveries and the adapters' tests use it),
against digests computed apart from Python: `openssl dgst -sha256 -hmac` over the same bytes."""

from __future__ import annotations

from journeyline.demo.signing import shopify_hmac, stripe_signature

SECRET = "whsec_demo_test_secret"
BODY = b'{"id": "evt_1"}'


def test_stripe_signs_the_timestamp_dot_body_in_hex() -> None:
    # printf '1700000000.{"id": "evt_1"}' | openssl dgst -sha256 -hmac whsec_demo_test_secret
    assert stripe_signature(SECRET, BODY, 1_700_000_000) == (
        "t=1700000000,v1=0705987e9b3619985013bbdc1d7a52663fdd3f8bb3218c8e0713808a38364d3e"
    )


def test_shopify_signs_the_body_in_base64() -> None:
    # printf '{"id": "evt_1"}' | openssl dgst -sha256 -hmac whsec_demo_test_secret -binary | base64
    assert shopify_hmac(SECRET, BODY) == "eMRtw93JV1htqjBXVznuMMjZI90R3BYoRJYcQaXfJNc="
