"""Channel derivation: explicit, utm_medium, referrer, source (no I/O)."""

from __future__ import annotations

import pytest

from journeyline.graph.channels import (
    derive_channel,
    normalize_channel,
    referrer_channel,
    url_host,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Email", "email"),
        ("Paid Search", "paid_search"),
        ("  e-mail ", "e_mail"),
        ("WhatsApp", "whatsapp"),
        ("--", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_channel(value: str | None, expected: str | None) -> None:
    assert normalize_channel(value) == expected


@pytest.mark.parametrize(
    ("channel", "utm_medium", "expected"),
    [
        ("email", None, "email"),
        ("CPC", None, "paid_search"),
        ("WhatsApp", None, "whatsapp"),
        (None, "cpc", "paid_search"),
        (None, "ppc", "paid_search"),
        (None, "paidsearch", "paid_search"),
        (None, "e-mail", "email"),
        (None, "newsletter", "email"),
        (None, "social", "social"),
        (None, "Paid Social", "paid_social"),
        (None, "paidsocial", "paid_social"),
        (None, "cpm", "display"),
        (None, "affiliates", "affiliate"),
        (None, "organic", "organic_search"),
        (None, "podcast", "podcast"),
        # The explicit channel wins over utm_medium; an empty one does not count.
        ("email", "cpc", "email"),
        ("  ", "cpc", "paid_search"),
    ],
)
def test_explicit_channel_then_utm_medium(
    channel: str | None, utm_medium: str | None, expected: str
) -> None:
    derived = derive_channel(
        channel=channel,
        utm_medium=utm_medium,
        referrer="https://www.google.com/",
        page_url=None,
        source="web",
        source_type="direct",
    )
    assert derived == expected


@pytest.mark.parametrize(
    ("referrer", "page_url", "expected"),
    [
        ("https://www.google.com/search?q=shoes", None, "organic_search"),
        ("https://www.google.com.br/", None, "organic_search"),
        ("https://google.co.uk/", None, "organic_search"),
        ("bing.com", None, "organic_search"),
        ("https://duckduckgo.com/?q=x", None, "organic_search"),
        ("https://search.yahoo.co.jp/search", None, "organic_search"),
        ("https://search.brave.com/search?q=x", None, "organic_search"),
        ("https://mail.google.com/mail/u/0/", None, "email"),
        ("https://outlook.live.com/mail/", None, "email"),
        ("https://l.facebook.com/l.php?u=x", None, "social"),
        ("https://t.co/abc", None, "social"),
        ("https://www.linkedin.com/feed/", None, "social"),
        ("android-app://com.google.android.gm/", None, "referral"),
        ("https://docs.google.com/document/d/1", None, "referral"),
        ("https://blog.example.org/post", "https://shop.example.com/", "referral"),
        # Internal navigation (www. or not) is no referrer at all.
        ("https://www.shop.example.com/a", "https://shop.example.com/b", None),
        ("", None, None),
        (None, None, None),
        ("http://[::1", None, None),
    ],
)
def test_referrer_channel(referrer: str | None, page_url: str | None, expected: str | None) -> None:
    assert referrer_channel(referrer, page_url) == expected


@pytest.mark.parametrize(
    ("source", "source_type", "referrer", "expected"),
    [
        ("web", "direct", None, "direct"),
        ("web", "direct", "https://www.google.com/", "organic_search"),
        ("web", "direct", "https://shop.example.com/cart", "direct"),
        ("api", "internal", None, "api"),
        ("webhook", "internal", None, "api"),
        ("stripe", "external", None, "stripe"),
        ("shopify", "external", None, "shopify"),
        ("hotmart", "external", None, "hotmart"),
        ("typeform", "external", None, "typeform"),
        ("messaging_service", "direct", None, "messaging_service"),
        ("", "internal", None, "api"),
        ("", "external", None, "external"),
        ("", "direct", None, "direct"),
        ("", "unheard_of", None, "direct"),
    ],
)
def test_channel_falls_back_to_the_source(
    source: str, source_type: str, referrer: str | None, expected: str
) -> None:
    derived = derive_channel(
        channel=None,
        utm_medium=None,
        referrer=referrer,
        page_url="https://shop.example.com/checkout",
        source=source,
        source_type=source_type,
    )
    assert derived == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://WWW.Example.com:8443/path", "example.com"),
        ("example.com/path", "example.com"),
        ("https://example.com./", "example.com"),
        ("   ", None),
        ("https://", None),
    ],
)
def test_url_host(url: str, expected: str | None) -> None:
    assert url_host(url) == expected
