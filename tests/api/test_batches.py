"""POST /tenant/ingest/batch and GET /tenant/ingest/jobs/{id}, run by the embedded worker."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest

from journeyline.api.state import AppState
from tests.conftest import TenantKeys, make_tenant


async def submit(
    client: httpx.AsyncClient, tenant: TenantKeys, events: list[dict[str, Any]]
) -> str:
    response = await client.post(
        "/tenant/ingest/batch", json={"events": events}, headers=tenant.secret
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "enqueued"
    job_id: str = body["job_id"]
    return job_id


async def finished(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys, job_id: str
) -> dict[str, Any]:
    await app_state.queue.drain()  # type: ignore[attr-defined]  # the embedded worker's
    response = await client.get(f"/tenant/ingest/jobs/{job_id}", headers=tenant.secret)
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


def track(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_type": "track",
        "event_name": "Product Viewed",
        "identity": f"batch{i % 7}@x.io",
        "anonymous_id": f"anon-{i % 11}",
        "payload": {"product_id": f"P-{i % 3}"},
        **extra,
    }


async def test_a_batch_is_accepted_then_processed(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys
) -> None:
    job_id = await submit(client, tenant, [track(i) for i in range(30)])
    status = await finished(client, app_state, tenant, job_id)
    assert status == {
        "job_id": job_id,
        "status": "completed",
        "total": 30,
        "processed": 30,
        "stored": 30,
        "duplicates": 0,
        "failed": 0,
        "errors": [],
    }
    profile = (
        await client.get("/v1/profiles", params={"email": "batch0@x.io"}, headers=tenant.secret)
    ).json()["data"]
    assert len(profile) == 1


async def test_ten_thousand_events_with_duplicates_and_invalid_rows_are_counted_exactly(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys
) -> None:
    events: list[dict[str, Any]] = []
    invalid: dict[int, str] = {}
    for i in range(10_000):
        if i % 97 == 5:
            events.append({"event_type": "teleport", "identity": "x@x.io"})
            invalid[i] = "event_type"
        elif i % 89 == 3:
            events.append({"event_type": "track", "payload": "not an object"})
            invalid[i] = "payload"
        else:
            # Every 10th event repeats the message id of the one before it: a redelivery.
            message = f"m-{i - 1}" if i % 10 == 0 and (i - 1) not in invalid else f"m-{i}"
            events.append(track(i, message_id=message, identity=f"u{i % 1500}@x.io"))
    duplicates = sum(
        1 for i in range(1, 10_000) if i % 10 == 0 and i not in invalid and (i - 1) not in invalid
    )
    job_id = await submit(client, tenant, events)
    status = await finished(client, app_state, tenant, job_id)
    assert status["status"] == "completed"
    assert status["total"] == status["processed"] == 10_000
    assert status["failed"] == len(invalid)
    assert status["duplicates"] == duplicates
    assert status["stored"] == 10_000 - len(invalid) - duplicates
    assert [e["index"] for e in status["errors"]] == sorted(invalid)
    assert all(e["code"] for e in status["errors"])


async def test_a_stream_sent_as_a_batch_equals_it_sent_one_request_at_a_time(
    client: httpx.AsyncClient, app_state: AppState
) -> None:
    stream: list[dict[str, Any]] = []
    for i in range(60):
        if i % 5 == 0:
            stream.append(
                {
                    "event_type": "identify",
                    "anonymous_id": f"anon-{i % 4}",
                    "identity": f"p{i % 3}@x.io",
                    "payload": {"plan": f"plan-{i}", "seen": i},
                    "timestamp": f"2026-11-01T00:{i:02d}:00Z",
                }
            )
        else:
            stream.append(
                {
                    "event_type": "track",
                    "event_name": "Clicked",
                    "anonymous_id": f"anon-{i % 4}",
                    "payload": {"n": i},
                    "timestamp": f"2026-11-01T00:{i:02d}:00Z",
                }
            )
    batched = await make_tenant(client, "batched")
    single = await make_tenant(client, "single")
    job_id = await submit(client, batched, stream)
    assert (await finished(client, app_state, batched, job_id))["stored"] == 60
    for event in stream:
        response = await client.post("/ingest", json=event, headers=single.secret)
        assert response.status_code == 200, response.text

    async def state_of(tenant: TenantKeys) -> list[tuple[Any, ...]]:
        listed = await client.get("/v1/profiles", params={"limit": 500}, headers=tenant.secret)
        profiles = listed.json()["data"]
        return sorted(
            (
                orjson.dumps(p["attributes"], option=orjson.OPT_SORT_KEYS),
                orjson.dumps(
                    sorted((i["kind"], i["value"]) for i in p["identities"]),
                ),
                len(p["merged_from"]),
                p["status"],
                p["event_count"],
            )
            for p in profiles
        )

    assert await state_of(batched) == await state_of(single)


async def test_an_unknown_or_foreign_job_is_404(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    job_id = await submit(client, tenant, [track(1)])
    await finished(client, app_state, tenant, job_id)
    for path in (f"/tenant/ingest/jobs/{uuid.uuid4()}", "/tenant/ingest/jobs/not-a-uuid"):
        response = await client.get(path, headers=tenant.secret)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    foreign = await client.get(f"/tenant/ingest/jobs/{job_id}", headers=other_tenant.secret)
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"", 400, "malformed_json"),
        (b"\x00\xff\xfe random bytes", 400, "malformed_json"),
        (b"[]", 422, "invalid_payload"),
        (b'{"events": "nope"}', 422, "invalid_payload"),
        (b'{"events": []}', 422, "invalid_payload"),
        (b'{"batch": [{"event_type": "track"}]}', 422, "invalid_payload"),
    ],
)
async def test_bad_batches_get_clear_errors(
    client: httpx.AsyncClient, tenant: TenantKeys, body: bytes, status: int, code: str
) -> None:
    response = await client.post(
        "/tenant/ingest/batch",
        content=body,
        headers={**tenant.secret, "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_too_many_events_is_413(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    events = [{"event_type": "page", "anonymous_id": "a"}] * 10_001
    response = await client.post(
        "/tenant/ingest/batch", json={"events": events}, headers=tenant.secret
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_a_body_over_sixteen_megabytes_is_413(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    blob = "x" * (16 * 1024 * 1024)
    response = await client.post(
        "/tenant/ingest/batch",
        content=b'{"events": [{"event_type": "page", "payload": {"blob": "'
        + blob.encode()
        + b'"}}]}',
        headers={**tenant.secret, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_keys_public_missing_and_wrong_are_refused(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"events": [track(1)]}
    public = await client.post("/tenant/ingest/batch", json=body, headers=tenant.public)
    assert public.status_code == 403
    missing = await client.post("/tenant/ingest/batch", json=body)
    assert missing.status_code == 401
    wrong = await client.post(
        "/tenant/ingest/batch", json=body, headers={"Authorization": "Bearer sk_nope"}
    )
    assert wrong.status_code == 401
    job = await client.get(f"/tenant/ingest/jobs/{uuid.uuid4()}", headers=tenant.public)
    assert job.status_code == 403


async def test_a_batch_writes_only_into_its_own_tenant(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    job_id = await submit(client, tenant, [track(3, identity="mine@x.io")])
    await finished(client, app_state, tenant, job_id)
    theirs = await client.get(
        "/v1/profiles", params={"email": "mine@x.io"}, headers=other_tenant.secret
    )
    assert theirs.json()["data"] == []
