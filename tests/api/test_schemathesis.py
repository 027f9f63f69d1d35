"""schemathesis over /openapi.json: no server error on any operation, and every status answered
is one the document lists (`status_code_conformance`).

The app runs in schemathesis's ASGI transport (its own event loop and thread, so its own
database engine on the session's SQLite file), with a tenant of its own: the secret key (or, on
the Segment routes, the same key as the Basic write key) lets the generated requests reach the
handlers. Bounded and deterministic: a fixed number of examples per operation and generation
mode, derandomized, no example database. In the SQLite lane only (marked `sqlite`): the
generated requests exercise the HTTP surface, which the hostile-input test already walks on
both databases.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import status_code_conformance

from journeyline.app import create_app
from journeyline.config import Settings
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.sqlite

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance]
log = logging.getLogger(__name__)


@dataclass
class Run:
    app: FastAPI
    secret_key: str
    public_key: str
    cases: int = 0
    statuses: dict[str, set[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def headers(self, case: Case[Any]) -> dict[str, str]:
        if "segment" in case.operation.tags or "browser-sdk" in case.operation.tags:
            # The browser SDKs' own routes take a public key only (their key travels in a URL).
            browser = "browser-sdk" in case.operation.tags
            key = self.public_key if browser else self.secret_key
            token = base64.b64encode(f"{key}:".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        if case.operation.path.startswith("/admin"):
            return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return {"Authorization": f"Bearer {self.secret_key}"}


@pytest.fixture(scope="module")
def run(settings: Settings) -> Iterator[Run]:
    app = create_app(settings)
    with asgi.get_client(cast(asgi.ASGIApp, app)) as client:
        made = client.post(
            "/admin/tenants",
            json={"name": "Schemathesis"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert made.status_code == 201, made.text
        keys = made.json()
        yield Run(app, keys["secret_key"], keys["public_key"])
    asgi.shutdown_lifespans()


def fuzz(run: Run, operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode) -> None:
    """EXAMPLES generated requests of one mode to one operation, each answer checked."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Case[Any]) -> None:
        if (
            isinstance(case.body, dict)
            and "company_id" in case.body
            and mode is GenerationMode.POSITIVE
        ):
            # TrackMate's public routes name the tenant in the body: its real public key.
            case.body["company_id"] = run.public_key
        response = case.call(headers=run.headers(case))
        run.cases += 1
        run.statuses.setdefault(operation.label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:
            run.failures.append(f"{operation.label} ({mode.value}): {exc}"[:2_000])

    try:
        send()
    except Unsatisfiable:
        # Nothing of the operation can be made invalid (no parameter, no body).
        assert mode is GenerationMode.NEGATIVE, operation.label


def test_no_operation_answers_a_server_error_or_an_undocumented_status(run: Run) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", run.app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(run, operation, mode)
    log.info(
        "schemathesis: %d operations, %d cases, %d failures",
        len(operations),
        run.cases,
        len(run.failures),
    )
    assert len(operations) >= 46
    assert run.cases >= len(operations) * EXAMPLES
    # The generated requests reached the handlers: most operations answered a success too.
    succeeded = [label for label, seen in run.statuses.items() if any(s < 300 for s in seen)]
    assert len(succeeded) >= len(operations) // 2, sorted(run.statuses.items())
    assert not run.failures, "\n\n".join(run.failures[:20])
