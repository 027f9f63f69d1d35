"""What the OpenAPI adds for a reader of /docs: the security schemes of the three key kinds
(with the Segment write key's Basic form), each operation's own requirement (so Swagger UI's
Authorize button sends the right one), and a request example on every body (decision 69).

The requirement is read from the route's dependencies (`any_key`, `secret_key`,
`trackmate_secret_key`, `admin_token`); the routes that read their key themselves are listed by
module. Applied once, when the document is first built: nothing here runs per request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from journeyline.api.openapi_examples import EXAMPLES

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "SecretKey": {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "A secret key (`sk_…`), sent as `Authorization: Bearer sk_…` (or `X-API-Key: sk_…`): "
            "server writes, reads and the tenant's administration. Never put one in a page."
        ),
    },
    "PublicKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": (
            "A public key (`pk_…`) in `X-API-Key`, for the routes a browser calls (a secret key "
            "works there too; `?key=pk_…` for sendBeacon)."
        ),
    },
    "AdminToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "`JOURNEYLINE_ADMIN_TOKEN`, as `Authorization: Bearer …`: /admin only.",
    },
    "WriteKey": {
        "type": "http",
        "scheme": "basic",
        "description": (
            "Segment's and RudderStack's write key (a public or secret key) as the Basic user "
            "name, with an empty password; or `writeKey` in the body."
        ),
    },
}

Requirement = list[dict[str, list[str]]]
ANY_KEY: Requirement = [{"PublicKey": []}, {"SecretKey": []}]
SECRET: Requirement = [{"SecretKey": []}]
BY_DEPENDENCY: dict[str, Requirement] = {
    "any_key": ANY_KEY,
    "secret_key": SECRET,
    "trackmate_secret_key": SECRET,
    "admin_token": [{"AdminToken": []}],
}
# Routes that read their key themselves. No scheme (`[]`): the key is in the body or the URL
# (TrackMate's `company_id`, PostHog's `api_key`/`token`, the settings documents), or there is
# none (health, the tracker script, a provider's signed webhook).
BY_MODULE: dict[str, Requirement] = {
    "journeyline.api.segment": [{"WriteKey": []}],
    "journeyline.api.browser_sdks": [{"WriteKey": []}],
}
BODY_METHODS = ("post", "put", "patch")


def _calls(dependant: Dependant) -> set[str]:
    names = {getattr(dependant.call, "__name__", "")}
    for child in dependant.dependencies:
        names |= _calls(child)
    return names


def requirement(route: APIRoute) -> Requirement:
    """The security requirement of `route`: the first auth dependency it has, else its
    module's, else none."""
    calls = _calls(route.dependant)
    for name, required in BY_DEPENDENCY.items():
        if name in calls:
            return required
    return BY_MODULE.get(route.endpoint.__module__, [])


def _requirements(routers: Iterable[APIRouter]) -> dict[tuple[str, str], Requirement]:
    return {
        (method.lower(), route.path): requirement(route)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def describe(schema: dict[str, Any], requirements: dict[tuple[str, str], Requirement]) -> None:
    """Add the schemes, each operation's requirement and the body examples, in place."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (method, path) in requirements:
                operation["security"] = requirements[(method, path)]
            body = operation.get("requestBody")
            if body is None or path not in EXAMPLES:
                continue
            for media in body["content"].values():
                media.setdefault("example", EXAMPLES[path])


def install(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """`app.openapi()` builds FastAPI's document once, then describes it as above."""
    build: Callable[[], dict[str, Any]] = app.openapi
    requirements = _requirements(routers)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            describe(build(), requirements)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
