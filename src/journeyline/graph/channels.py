"""Channel derivation: the marketing channel of a touchpoint, given or inferred (pure).

Precedence, first match wins:

1. the explicit channel, normalized to lower snake_case and passed through `MEDIUM_CHANNELS`
   (the dialects fold `utm_medium` into the explicit channel, so both speak one vocabulary);
2. `utm_medium`, the same way;
3. the referrer's host, unless it is the page's own host (internal navigation says nothing):
   webmail → `email`, a search engine → `organic_search`, a social site → `social`, any
   other host → `referral`;
4. the event's source: `SOURCE_CHANNELS` (`web` → `direct`, `api`/`webhook` → `api`, a
   provider → the provider, e.g. `stripe`), any other source → its own normalized name;
5. the source type (`SOURCE_TYPE_CHANNELS`), should the source normalize to nothing.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# utm_medium (and explicit channel) spellings → one channel name. Values not listed are kept
# as their normalized selves (`whatsapp`, `podcast`).
MEDIUM_CHANNELS: dict[str, str] = {
    "cpc": "paid_search",
    "ppc": "paid_search",
    "paidsearch": "paid_search",
    "paid_search": "paid_search",
    "sem": "paid_search",
    "email": "email",
    "e_mail": "email",
    "newsletter": "email",
    "social": "social",
    "social_media": "social",
    "organic_social": "social",
    "paid_social": "paid_social",
    "paidsocial": "paid_social",
    "social_paid": "paid_social",
    "display": "display",
    "banner": "display",
    "cpm": "display",
    "affiliate": "affiliate",
    "affiliates": "affiliate",
    "referral": "referral",
    "organic": "organic_search",
    "organic_search": "organic_search",
    "sms": "sms",
    "push": "push",
}

# Search engines that live under many country domains (google.com.br, yahoo.co.jp), matched
# on their own name followed by a country/generic suffix, reached directly or through www/m.
_SEARCH_ENGINE_HOST = re.compile(
    r"^(?:www\.|m\.|search\.)?"
    r"(?:google|bing|yahoo|yandex|baidu|duckduckgo|ecosia|naver|qwant|startpage|seznam)"
    r"(?:\.[a-z]{2,3}){1,2}$"
)
SEARCH_ENGINE_DOMAINS: frozenset[str] = frozenset({"search.brave.com", "ask.com"})
SOCIAL_DOMAINS: frozenset[str] = frozenset(
    {
        "facebook.com",
        "fb.com",
        "instagram.com",
        "twitter.com",
        "x.com",
        "t.co",
        "linkedin.com",
        "lnkd.in",
        "pinterest.com",
        "reddit.com",
        "tiktok.com",
        "youtube.com",
        "youtu.be",
        "threads.net",
        "snapchat.com",
        "quora.com",
        "tumblr.com",
        "vk.com",
        "whatsapp.com",
        "wa.me",
    }
)
# Webmail hosts sit under search-engine brands; a click from them is an email click.
WEBMAIL_DOMAINS: frozenset[str] = frozenset(
    {"mail.google.com", "mail.yahoo.com", "outlook.live.com", "outlook.office.com"}
)

# Where an event came from, when nothing marketing-specific says more.
SOURCE_CHANNELS: dict[str, str] = {
    "web": "direct",
    "api": "api",
    # TrackMate's server events: the tenant's own servers, like `api`.
    "webhook": "api",
    "stripe": "stripe",
    "shopify": "shopify",
    "hotmart": "hotmart",
    "typeform": "typeform",
}
SOURCE_TYPE_CHANNELS: dict[str, str] = {
    "direct": "direct",
    "internal": "api",
    "external": "external",
}
FALLBACK_CHANNEL = "direct"

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalize_channel(value: str | None) -> str | None:
    """`value` in lower snake_case (`"Paid Search"` → `paid_search`), or None when empty."""
    if value is None:
        return None
    name = _NOT_WORD.sub("_", value.strip().lower()).strip("_")
    return name or None


def _medium_channel(value: str | None) -> str | None:
    name = normalize_channel(value)
    return None if name is None else MEDIUM_CHANNELS.get(name, name)


def url_host(url: str | None) -> str | None:
    """The lower-case host of `url` without a leading `www.`; a bare host is accepted too."""
    if url is None or not url.strip():
        return None
    text = url.strip()
    try:
        host = urlsplit(text if "//" in text else f"//{text}").hostname
    except ValueError:
        # A malformed URL (an unbalanced IPv6 bracket) names no host we could classify.
        return None
    if not host:
        return None
    return host.rstrip(".").removeprefix("www.") or None


def _has_domain(host: str, domains: frozenset[str]) -> bool:
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def referrer_channel(referrer: str | None, page_url: str | None = None) -> str | None:
    """The channel a referrer implies, or None when there is no external referrer."""
    host = url_host(referrer)
    if host is None or host == url_host(page_url):
        return None
    if _has_domain(host, WEBMAIL_DOMAINS):
        return "email"
    if _SEARCH_ENGINE_HOST.match(host) or _has_domain(host, SEARCH_ENGINE_DOMAINS):
        return "organic_search"
    if _has_domain(host, SOCIAL_DOMAINS):
        return "social"
    return "referral"


def derive_channel(
    *,
    channel: str | None,
    utm_medium: str | None,
    referrer: str | None,
    page_url: str | None,
    source: str,
    source_type: str,
) -> str:
    """The channel of a touchpoint, by the precedence in this module's docstring."""
    derived = (
        _medium_channel(channel)
        or _medium_channel(utm_medium)
        or referrer_channel(referrer, page_url)
    )
    if derived is not None:
        return derived
    source_name = normalize_channel(source)
    if source_name is not None:
        return SOURCE_CHANNELS.get(source_name, source_name)
    return SOURCE_TYPE_CHANNELS.get(source_type, FALLBACK_CHANNEL)
