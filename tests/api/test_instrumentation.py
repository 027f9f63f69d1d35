"""Structured logs and per-route metrics (issue 15, item 6; decision 54): every line written
while a request is handled carries its request id, method, route template and tenant; the
client's sane X-Request-ID is echoed; no key or email from a request reaches a line, even
through an exception's trace; the duration histogram is labelled by route template."""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI, Request

from journeyline.api.deps import SecretDep, presented_key
from journeyline.api.state import AppState
from journeyline.app import create_app
from journeyline.config import Settings
from journeyline.logs.formatting import ACCESS_LOGGER, JsonFormatter, TextFormatter
from journeyline.store.db import Database
from tests.api.test_batches import finished, submit, track
from tests.api.test_webhooks import STRIPE_SECRET, connect, stripe_headers
from tests.conftest import TenantKeys
from tests.webhooks.signing import fixture

EMAIL = "ada.lovelace@example.com"
PROFILE_ROUTE = "/v1/profiles/{profile_id}"


class Lines(logging.Handler):
    """What a stderr handler with this formatter would have written."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.written: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.written.append(self.format(record))

    def parsed(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.written]


@contextlib.contextmanager
def captured(formatter: logging.Formatter | None = None) -> Iterator[Lines]:
    """journeyline's lines, the access line included, as the configured handler writes them."""
    lines = Lines(formatter or JsonFormatter())
    journeyline, access = logging.getLogger("journeyline"), logging.getLogger(ACCESS_LOGGER)
    levels = journeyline.level, access.level
    journeyline.addHandler(lines)
    journeyline.setLevel(logging.INFO)
    access.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        journeyline.removeHandler(lines)
        journeyline.setLevel(levels[0])
        access.setLevel(levels[1])


def access_lines(lines: Lines) -> list[dict[str, Any]]:
    return [line for line in lines.parsed() if line["logger"] == ACCESS_LOGGER]


async def test_a_requests_lines_carry_its_id_route_method_and_tenant(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    profile_id = uuid.uuid4()
    with captured() as lines:
        answer = await client.get(
            f"/v1/profiles/{profile_id}",
            headers={**tenant.secret, "X-Request-ID": "trace-42.a:b"},
        )
    assert answer.status_code == 404, answer.text
    assert answer.headers["x-request-id"] == "trace-42.a:b"
    (line,) = access_lines(lines)
    assert line.keys() >= {"time", "level", "logger", "message"}
    assert {name: line[name] for name in ("request_id", "method", "route", "tenant_id")} == {
        "request_id": "trace-42.a:b",
        "method": "GET",
        "route": PROFILE_ROUTE,
        "tenant_id": tenant.tenant_id,
    }
    assert (line["level"], line["status"]) == ("INFO", 404)
    assert isinstance(line["duration_ms"], float)
    assert str(profile_id) not in line["message"]  # the template, never the raw path
    assert line["message"].startswith(f"GET {PROFILE_ROUTE} 404 ")


async def test_an_unauthenticated_request_has_no_tenant_and_an_unknown_path_no_route(
    client: httpx.AsyncClient,
) -> None:
    with captured() as lines:
        refused = await client.get(f"/v1/profiles/{uuid.uuid4()}")
        unknown = await client.get("/no/such/path/42")
    assert (refused.status_code, unknown.status_code) == (401, 404)
    first, second = access_lines(lines)
    assert "tenant_id" not in first
    assert (first["route"], first["status"]) == (PROFILE_ROUTE, 401)
    assert (second["route"], second["status"]) == ("unmatched", 404)


@pytest.mark.parametrize(
    "presented",
    [
        "x" * 129,  # too long
        "has space",
        'quote"d',
        "sk_" + "A" * 32,  # a key is never echoed nor logged
        "pk_" + "b" * 32,
    ],
)
async def test_an_insane_request_id_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, presented: str
) -> None:
    with captured() as lines:
        answer = await client.get("/healthz", headers={"X-Request-ID": presented})
    echoed = answer.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", echoed), echoed
    (line,) = access_lines(lines)
    assert line["request_id"] == echoed
    assert presented not in "\n".join(lines.written)


async def test_every_response_gets_a_new_request_id_without_one(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.fixture
async def exploding(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app with one more route, whose handler logs the body's email and then fails quoting
    the email and the keys: what a careless handler might do."""
    app: FastAPI = create_app(settings, database=database)
    handler_log = logging.getLogger("journeyline.api.careless")

    async def explode(thing: str, request: Request, context: SecretDep) -> None:
        body = await request.json()
        handler_log.warning("storing %s for %s", body["email"], body["company_id"])
        raise ValueError(
            f"cannot store {body['email']} with {presented_key(request)} "
            f"and {body['company_id']} ({thing})"
        )

    app.add_api_route("/v1/explode/{thing}", explode, methods=["POST"])
    async with app.router.lifespan_context(app):
        # The server error handler answers 500 and re-raises, as uvicorn expects.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def test_no_key_nor_email_reaches_a_line_even_through_an_exceptions_trace(
    exploding: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"email": EMAIL, "company_id": tenant.public_key}
    with captured() as lines:
        answer = await exploding.post(
            "/v1/explode/now",
            json=body,
            headers={**tenant.secret, "X-Request-ID": "boom-1"},
        )
    assert answer.status_code == 500
    assert answer.json() == {"error": {"code": "internal_error", "message": "internal error"}}
    assert answer.headers["x-request-id"] == "boom-1"
    written = "\n".join(lines.written)
    for secret in (EMAIL, tenant.secret_key, tenant.public_key):
        assert secret not in written
    parsed = lines.parsed()
    warned = next(line for line in parsed if line["logger"] == "journeyline.api.careless")
    assert warned["message"] == "storing [redacted] for pk_[redacted]"
    failed = next(line for line in parsed if line["message"] == "unhandled error")
    assert failed["level"] == "ERROR"
    assert "ValueError: cannot store [redacted] with sk_[redacted]" in failed["exception"]
    for line in (warned, failed):
        assert (line["request_id"], line["route"], line["method"], line["tenant_id"]) == (
            "boom-1",
            "/v1/explode/{thing}",
            "POST",
            tenant.tenant_id,
        )
    (access,) = [line for line in parsed if line["logger"] == ACCESS_LOGGER]
    assert (access["status"], access["route"]) == (500, "/v1/explode/{thing}")


async def test_the_text_format_says_the_same_for_a_person(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    with captured(TextFormatter()) as lines:
        await client.get("/v1/profiles", headers={**tenant.secret, "X-Request-ID": "text-1"})
    (line,) = lines.written
    assert " INFO journeyline.access GET /v1/profiles 200 " in line
    assert line.endswith(
        f"[request_id=text-1 method=GET route=/v1/profiles tenant_id={tenant.tenant_id} "
        "status=200 duration_ms=" + line.rsplit("duration_ms=", 1)[1]
    )


async def test_a_worker_jobs_lines_carry_its_job_and_tenant(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys
) -> None:
    job_id = await submit(client, tenant, [track(i) for i in range(3)])
    with captured() as lines:
        status = await finished(client, app_state, tenant, job_id)
    assert status["status"] == "completed"
    done = next(line for line in lines.parsed() if line["logger"] == "journeyline.worker")
    assert (done["job_id"], done["tenant_id"]) == (job_id, tenant.tenant_id)
    assert "request_id" not in done  # the embedded worker's task is no request's


def duration_count(metrics: str, method: str, route: str, status: int) -> float:
    wanted = (
        f'journeyline_http_request_duration_seconds_count{{method="{method}",'
        f'route="{route}",status="{status}"}} '
    )
    for line in metrics.splitlines():
        if line.startswith(wanted):
            return float(line.split()[-1])
    return 0.0


async def test_request_durations_are_labelled_by_route_template(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    before = (await client.get("/metrics")).text
    ids = [str(uuid.uuid4()) for _ in range(4)]
    for profile_id in ids[:3]:
        await client.get(f"/v1/profiles/{profile_id}", headers=tenant.secret)
    await client.get(f"/not/a/route/{ids[3]}")
    await client.request("BREW", "/healthz")
    await client.get("/app/static/app.css")
    after = (await client.get("/metrics")).text
    grew = {
        labels: duration_count(after, *labels) - duration_count(before, *labels)
        for labels in (
            ("GET", PROFILE_ROUTE, 404),
            ("GET", "unmatched", 404),
            ("OTHER", "/healthz", 405),
            ("GET", "/app/static/{path}", 200),
        )
    }
    assert grew == {
        ("GET", PROFILE_ROUTE, 404): 3,
        ("GET", "unmatched", 404): 1,
        ("OTHER", "/healthz", 405): 1,
        ("GET", "/app/static/{path}", 200): 1,
    }
    assert not any(profile_id in after for profile_id in ids)  # no raw path in any label
    assert "/not/a/route" not in after
    bucket = re.compile(
        r'journeyline_http_request_duration_seconds_bucket\{le="0\.005",method="GET",'
        r'route="/v1/profiles/\{profile_id\}",status="404"\} '
    )
    assert any(bucket.match(line) for line in after.splitlines())


async def test_a_verified_webhook_deliverys_lines_carry_its_connections_tenant(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = fixture("stripe", "charge.refunded.json")
    with captured() as lines:
        verified = await client.post(made["url"], content=body, headers=stripe_headers(body))
        forged = await client.post(made["url"], content=body, headers=stripe_headers(body, "x"))
    assert (verified.status_code, forged.status_code) == (200, 401)
    accepted, refused = access_lines(lines)
    assert accepted["tenant_id"] == tenant.tenant_id
    assert accepted["route"] == refused["route"] == "/webhooks/{provider}/{connection_id}"
    assert "tenant_id" not in refused  # a forged delivery authenticates no one
