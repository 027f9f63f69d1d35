"""Hostile input on every operation of the OpenAPI document: never a 5xx, always the error shape.

The operations are read from the app's own OpenAPI document (a route added later is walked too),
and each is sent every class of hostile input with a real tenant's keys, so that authorization
passes and the bytes reach the parsers: JSON nested 255, 1,023 and 10,000 levels deep; NUL and
lone surrogates in strings and keys; 1e309 and integers of hundreds of digits; a wrong type in
every top-level field; a gzip bomb; a body over the limit, declared and streamed without a
Content-Length; malformed JSON; an empty body. Routes without a body get the same classes in
their path and query parameters. Every answer must be below 500, a 4xx must be
`{"error": {"code", "message", ...}}`, and every status must be one the document lists for the
operation (a client generated from the document can then read each answer).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import httpx
import pytest

from journeyline.app import create_app
from journeyline.config import LimitSettings, Settings
from journeyline.demo.signing import shopify_hmac, stripe_signature
from tests.conftest import ADMIN_TOKEN, TenantKeys
from tests.webhooks.signing import typeform_signature

DEPTHS = (255, 1_023, 10_000)
# Over every body limit the app has (the batch route's is the largest).
OVERSIZE = LimitSettings().max_batch_bytes + 1
CHUNK = 64 * 1024
# A gzip body of about 64 KB that inflates to 64 MB: far over every limit.
BOMB_BYTES = 64 * 1024 * 1024
WEBHOOK_SECRETS = {
    "stripe": "whsec_hostile_0123456789",
    "shopify": "shpss_hostile_secret",
    "typeform": "typeform-hostile-secret",
    "hotmart": "hotmart-hostile-token",
}
METHODS = ("get", "post", "put", "patch", "delete")


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = create_app(Settings(database_url="sqlite+aiosqlite://")).openapi()
    return spec


SPEC = _spec()
OPERATIONS = [
    (method, path) for path, item in SPEC["paths"].items() for method in METHODS if method in item
]


@dataclass
class Probe:
    """One hostile request: what it is called, its body and its extra headers."""

    name: str
    body: bytes | None = None
    stream: bool = False
    declared: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    # The statuses this class must get, when every route answers it alike.
    expect: frozenset[int] | None = None


def _json(document: object) -> bytes:
    # ensure_ascii (the default) writes NUL and lone surrogates as \u escapes, as a client would.
    return json.dumps(document).encode()


def _nested(levels: int, leaf: bytes = b"1") -> bytes:
    """A JSON value `levels` deep (objects), built as text: no recursion either side."""
    return b'{"a":' * levels + leaf + b"}" * levels


@cache
def _gzip_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * CHUNK
    parts = [compressor.compress(b"[")]
    parts.extend(compressor.compress(block) for _ in range(BOMB_BYTES // CHUNK))
    parts.append(compressor.compress(b"]"))
    parts.append(compressor.flush())
    return b"".join(parts)


def _base(tenant: TenantKeys) -> dict[str, Any]:
    """A body that looks like an event to every dialect, so each class reaches the field checks."""
    return {
        "company_id": tenant.public_key,
        "type": "track",
        "event": "Hostile",
        "event_type": "track",
        "event_name": "hostile",
        "userId": "hostile-user",
        "anonymous_id": "hostile-anon",
        "email": "hostile@example.com",
    }


def _fields(method: str, path: str) -> list[str]:
    """The operation's documented top-level body fields, and the ones every dialect reads."""
    operation = SPEC["paths"][path][method]
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    documented = list(schema.get("properties", {}))
    usual = [
        "type",
        "event",
        "event_type",
        "event_name",
        "userId",
        "anonymousId",
        "anonymous_id",
        "properties",
        "traits",
        "timestamp",
        "context",
        "events",
        "batch",
        "email",
        "profile_id",
        "name",
        "provider",
        "secret",
        "kind",
    ]
    return documented + [name for name in usual if name not in documented]


WRONG = ([1, 2], {"nested": True}, 12, True, "text", None)


def body_probes(method: str, path: str, tenant: TenantKeys) -> Iterator[Probe]:
    base = _base(tenant)
    for levels in DEPTHS:
        yield Probe(f"array-{levels}", b"[" * levels + b"]" * levels)
        yield Probe(f"object-{levels}", _nested(levels))
        head = _json(base)[:-1]
        yield Probe(f"properties-{levels}", head + b', "properties": ' + _nested(levels - 1) + b"}")
    strange = {
        **base,
        "event": "nul\u0000inside",
        "userId": "\u0000",
        "key\u0000": "value",
        "properties": {"\u0000": "\u0000", "s\ud800": "lone\ud800", "t": "\udfff"},
        "traits": {"email": "a\u0000@example.com", "name": "\ud800"},
    }
    yield Probe("nul-and-surrogates", _json(strange))
    yield Probe("surrogate-key", _json({**base, "\ud800": 1, "name": "\ud800"}))
    for number in (b"1e309", b"-1e309", b"9" * 400, b"-" + b"9" * 400):
        head = _json(base)[:-1]
        yield Probe(
            f"number-{number[:6].decode()}",
            head + b', "value": ' + number + b', "properties": {"n": ' + number + b"}}",
        )
        yield Probe(f"bare-number-{number[:6].decode()}", number)
    names = _fields(method, path)
    for wrong in WRONG:
        yield Probe(f"all-fields-{type(wrong).__name__}", _json(dict.fromkeys(names, wrong)))
    for name in names:
        yield Probe(f"field-{name}", _json({**base, name: [{"wrong": "type"}]}))
    # Segment and PostHog inflate (up to their limit: 413); every other route reads plain JSON
    # (415).
    tags = SPEC["paths"][path][method].get("tags", [])
    segment = "segment" in tags or "posthog" in tags
    yield Probe(
        "gzip-bomb",
        _gzip_bomb(),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        expect=frozenset({413} if segment else {415}),
    )
    yield Probe("oversize-declared", stream=True, declared=True, expect=frozenset({413}))
    yield Probe("oversize-chunked", stream=True, expect=frozenset({413}))
    yield Probe("malformed", b'{"type": "track", "event": ', expect=frozenset({400}))
    yield Probe("malformed-bytes", b"\xff\xfe\x00{]")
    yield Probe("two-documents", b'{"a": 1}{"b": 2}')
    yield Probe("empty", b"")


# Path and query values: NUL, a lone surrogate (as its UTF-8 bytes), huge numbers, wrong types.
PARAMETER_VALUES = (
    "%00",
    "a%00b",
    "%ED%A0%80",
    "1e309",
    "9" * 400,
    "-1",
    "[]",
    "%7B%7D",
    "x" * 4_000,
    "",
)


def _filled(path: str, value: str | None) -> str:
    """The path with every parameter a fresh UUID, or `value` (already encoded)."""
    parts = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            parts.append(value if value is not None else str(uuid.uuid4()))
        else:
            parts.append(part)
    return "/".join(parts)


async def _oversize() -> AsyncIterator[bytes]:
    block = b" " * CHUNK
    sent = 0
    while sent < OVERSIZE:
        yield block
        sent += CHUNK


@dataclass
class Caller:
    client: httpx.AsyncClient
    tenant: TenantKeys
    connections: dict[str, str]
    seen: set[int] = field(default_factory=set)

    def auth(self, path: str, tag: str) -> dict[str, str]:
        if path.startswith("/admin"):
            return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        if tag in ("segment", "browser-sdk"):
            # The browser SDKs' own routes take a public key only (their key travels in a URL).
            key = self.tenant.public_key if tag == "browser-sdk" else self.tenant.secret_key
            token = base64.b64encode(f"{key}:".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        return {**self.tenant.secret, "X-TrackMate-API-Key": self.tenant.secret_key}

    async def send(
        self, method: str, url: str, headers: dict[str, str], probe: Probe | None = None
    ) -> None:
        content: Any = None
        if probe is not None:
            headers = {"Content-Type": "application/json", **headers, **probe.headers}
            if probe.stream:
                content = _oversize()
                if probe.declared:
                    headers["Content-Length"] = str(-(-OVERSIZE // CHUNK) * CHUNK)
            else:
                content = probe.body
        response = await self.client.request(method, url, content=content, headers=headers)
        what = f"{method.upper()} {url[:120]} {probe.name if probe else ''}"
        assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
        if probe is not None and probe.expect is not None:
            assert response.status_code in probe.expect, f"{what}: {response.status_code}"
        self.seen.add(response.status_code)
        if response.status_code >= 400:
            error = response.json().get("error")
            assert isinstance(error, dict), f"{what}: {response.text[:300]}"
            assert isinstance(error.get("code"), str), f"{what}: {response.text[:300]}"
            assert isinstance(error.get("message"), str), f"{what}: {response.text[:300]}"


def _signature(provider: str, body: bytes) -> dict[str, str]:
    secret = WEBHOOK_SECRETS[provider]
    if provider == "stripe":
        return {"Stripe-Signature": stripe_signature(secret, body, int(time.time()))}
    if provider == "shopify":
        return {
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": shopify_hmac(secret, body),
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        }
    if provider == "typeform":
        return {"Typeform-Signature": typeform_signature(secret, body)}
    return {"X-HOTMART-HOTTOK": secret}


async def _connections(client: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, str]:
    made = {}
    for provider, secret in WEBHOOK_SECRETS.items():
        response = await client.post(
            "/v1/connections",
            json={"provider": provider, "secret": secret},
            headers=tenant.secret,
        )
        assert response.status_code == 201, response.text
        made[provider] = response.json()["url"]
    return made


async def test_the_walk_covers_every_operation_the_app_serves(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    operations = [
        (method, path)
        for path, item in served["paths"].items()
        for method in METHODS
        if method in item
    ]
    assert operations == OPERATIONS
    assert len(OPERATIONS) >= 46


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_hostile_input_is_a_4xx_in_the_error_shape_never_a_5xx(
    client: httpx.AsyncClient, tenant: TenantKeys, method: str, path: str
) -> None:
    operation = SPEC["paths"][path][method]
    tags = operation.get("tags", [""])
    tag = "browser-sdk" if "browser-sdk" in tags else tags[0]
    caller = Caller(client, tenant, {})
    headers = caller.auth(path, tag)
    if path.startswith("/webhooks/"):
        caller.connections = await _connections(client, tenant)
        for provider, url in caller.connections.items():
            for probe in body_probes(method, path, tenant):
                signed = probe.headers
                if probe.body is not None:
                    signed = {**_signature(provider, probe.body), **probe.headers}
                # A verified delivery that cannot be read is recorded and answered 422.
                expect = probe.expect if probe.expect == frozenset({413}) else frozenset({422})
                if probe.body is None or probe.name.startswith("malformed") or "bomb" in probe.name:
                    probe = replace(probe, headers=signed, expect=expect)
                else:
                    probe = replace(probe, headers=signed)
                await caller.send(method, url, {}, probe)
    elif method in ("post", "put", "patch"):
        for probe in body_probes(method, path, tenant):
            # A route that reads no body (replay) answers for its path alone.
            reads = "requestBody" in operation
            await caller.send(
                method,
                _filled(path, None),
                headers,
                probe if reads else replace(probe, expect=None),
            )
    parameters = operation.get("parameters", [])
    if not path.startswith("/webhooks/"):
        # A well-formed id of nothing: the not-found answer.
        await caller.send(method, _filled(path, None), headers)
    for value in PARAMETER_VALUES:
        if any(p["in"] == "path" for p in parameters) and value:
            await caller.send(method, _filled(path, value), headers)
        query = "&".join(f"{p['name']}={value}" for p in parameters if p["in"] == "query")
        if query or not parameters:
            await caller.send(method, f"{_filled(path, None)}?{query or 'x=' + value}", headers)
    listed = {int(status) for status in operation["responses"]}
    unlisted = caller.seen - listed
    assert not unlisted, f"{method.upper()} {path} answers {sorted(unlisted)}, not in the document"


def test_the_bomb_is_small_and_inflates_far_over_every_limit() -> None:
    bomb = _gzip_bomb()
    assert len(bomb) < 200 * 1024
    assert LimitSettings().max_webhook_bytes < OVERSIZE
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert len(inflater.decompress(bomb, OVERSIZE)) == OVERSIZE


def test_the_document_resolves_every_reference_and_documents_every_body_read() -> None:
    """No `#/$defs/…` left from pydantic (they point at the document's root, where nothing is),
    and every operation that reads a body documents one (a generated client can send it)."""
    text = json.dumps(SPEC)
    assert "$defs" not in text
    for name in (ref.split('"')[0] for ref in text.split('"$ref": "#/components/schemas/')[1:]):
        assert name in SPEC["components"]["schemas"], name
    for method, path in OPERATIONS:
        reads_body = not path.startswith("/webhooks/") and not path.endswith("/replay")
        if method in ("post", "patch") and reads_body:
            assert "requestBody" in SPEC["paths"][path][method], f"{method} {path}"
