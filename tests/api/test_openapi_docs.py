"""The OpenAPI as /docs shows it: the three key kinds (and Segment's write key) as security
schemes, each operation requiring the one its route takes, and a request example on every body
(issue 17, decision 69)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

OPERATIONS = ("get", "post", "put", "patch", "delete")


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in OPERATIONS
    ]


async def test_the_key_kinds_are_security_schemes(client: httpx.AsyncClient) -> None:
    schemes = (await _document(client))["components"]["securitySchemes"]
    assert schemes["SecretKey"] == {**schemes["SecretKey"], "type": "http", "scheme": "bearer"}
    assert schemes["PublicKey"] == {
        **schemes["PublicKey"],
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert schemes["AdminToken"] == {**schemes["AdminToken"], "type": "http", "scheme": "bearer"}
    assert schemes["WriteKey"] == {**schemes["WriteKey"], "type": "http", "scheme": "basic"}
    assert all(scheme["description"] for scheme in schemes.values())


@pytest.mark.parametrize(
    ("method", "path", "requirement"),
    [
        ("post", "/ingest", [{"PublicKey": []}, {"SecretKey": []}]),
        ("get", "/v1/profiles", [{"SecretKey": []}]),
        ("post", "/tenant/ingest/batch", [{"SecretKey": []}]),
        ("post", "/api/webhooks/events", [{"SecretKey": []}]),
        ("post", "/admin/tenants", [{"AdminToken": []}]),
        ("post", "/v1/track", [{"WriteKey": []}]),
        ("post", "/v1/t", [{"WriteKey": []}]),
        # The key travels in the body or the URL, or there is none.
        ("post", "/batch/", []),
        ("post", "/api/events", []),
        ("get", "/healthz", []),
    ],
)
async def test_each_operation_requires_the_key_its_route_takes(
    client: httpx.AsyncClient, method: str, path: str, requirement: list[dict[str, list[str]]]
) -> None:
    assert (await _document(client))["paths"][path][method]["security"] == requirement


async def test_every_operation_names_only_declared_schemes(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    declared = set(document["components"]["securitySchemes"])
    for method, path, operation in _operations(document):
        assert "security" in operation, f"{method} {path} says nothing of its key"
        named = {name for requirement in operation["security"] for name in requirement}
        assert named <= declared, f"{method} {path}: {named - declared}"


async def test_every_operation_with_a_body_has_an_example(client: httpx.AsyncClient) -> None:
    missing = [
        f"{method} {path} ({media_type})"
        for method, path, operation in _operations(await _document(client))
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items()
        if "example" not in media and "examples" not in media
    ]
    assert missing == []


@pytest.mark.parametrize(
    "path",
    ["/v1/identify", "/v1/batch", "/v1/t", "/v1/b", "/beacon/v1/batch", "/batch/", "/i/v0/e/"],
)
async def test_the_segment_and_posthog_bodies_have_schemas(
    client: httpx.AsyncClient, path: str
) -> None:
    body = (await _document(client))["paths"][path]["post"]["requestBody"]
    media = body["content"]["application/json"]
    assert media["schema"]["type"] == "object"
    assert media["schema"]["properties"]
    # The example fills the schema's own fields.
    assert set(media["example"]) & set(media["schema"]["properties"])
