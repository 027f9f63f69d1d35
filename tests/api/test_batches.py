"""POST /tenant/ingest/batch and GET /tenant/ingest/jobs/{id}, run by the embedded worker."""

from __future__ import annotations

import json
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
        "suppressed": 0,
        "errors": [],
        "outcome": "succeeded",
        "summary": "completed: all 30 events taken",
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
    assert await state_of(client, batched) == await state_of(client, single)


async def state_of(client: httpx.AsyncClient, tenant: TenantKeys) -> list[tuple[Any, ...]]:
    """Every profile of the tenant, as the batch/one-by-one equivalence compares them."""
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


# --- one bad event among many: too deep, NUL, lone surrogates (decision 39) -------------------

BAD = "\x00\ud800"  # NUL and a lone surrogate: PostgreSQL refused the first with a 500
STORED = "\ufffd\ufffd"
DEEP = "@deep@"


def unstorable(i: int) -> dict[str, Any]:
    return {
        "event_type": "track",
        "event_name": f"Probe{BAD}",
        "identity": f"nul{i}@x.io",
        "anonymous_id": f"anon{BAD}{i}",
        "payload": {f"key{BAD}": f"value{BAD}", "low": "\udc00", "nested": [{BAD: i}]},
    }


@pytest.mark.parametrize("levels", [255, 1023, 10_000])
async def test_one_too_deep_event_among_many_fails_alone_and_unstorable_text_is_stored(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys, levels: int
) -> None:
    """1,500 events in two chunks of the worker (1,000 each): the too-deep one is listed by
    its index, the ones with NUL and lone surrogates are stored with U+FFFD, the job completes."""
    events: list[dict[str, Any]] = [track(i) for i in range(1500)]
    events[3] = unstorable(3)
    events[999] = unstorable(999)
    events[1200] = {**track(1200), "payload": {"deep": DEEP}}
    body = json.dumps({"events": events}).encode()
    body = body.replace(b'"' + DEEP.encode() + b'"', b"[" * levels + b"]" * levels)
    response = await client.post(
        "/tenant/ingest/batch",
        content=body,
        headers={**tenant.secret, "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    status = await finished(client, app_state, tenant, response.json()["job_id"])
    assert (status["status"], status["total"], status["processed"]) == ("completed", 1500, 1500)
    assert (status["stored"], status["failed"]) == (1499, 1)
    [error] = status["errors"]
    assert (error["index"], error["code"]) == (1200, "too_deep")
    for i in (3, 999):
        found = await client.get(
            "/v1/profiles", params={"email": f"nul{i}@x.io"}, headers=tenant.secret
        )
        [profile] = found.json()["data"]
        listed = await client.get(f"/v1/profiles/{profile['id']}/events", headers=tenant.secret)
        [event] = listed.json()["data"]
        assert event["event_name"] == f"Probe{STORED}"
        assert event["anonymous_id"] == f"anon{STORED}{i}"
        assert event["payload"] == {
            f"key{STORED}": f"value{STORED}",
            "low": "\ufffd",
            "nested": [{STORED: i}],
        }
        assert {"kind": "anonymous_id", "value": f"anon{STORED}{i}"} in profile["identities"]


async def test_unstorable_text_sent_as_a_batch_equals_it_sent_one_request_at_a_time(
    client: httpx.AsyncClient, app_state: AppState
) -> None:
    """The replacement happens where JSON enters, identically for both paths and databases."""
    stream = [
        {
            **unstorable(i),
            "event_type": "identify" if i % 2 else "track",
            "identity": f"crm{BAD}{i % 3}",
            "anonymous_id": f"anon{BAD}{i % 5}",
            "timestamp": f"2026-11-01T00:{i:02d}:00Z",
        }
        for i in range(24)
    ]
    batched = await make_tenant(client, "batched")
    single = await make_tenant(client, "single")
    response = await client.post(
        "/tenant/ingest/batch",
        content=json.dumps({"events": stream}).encode(),
        headers={**batched.secret, "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    status = await finished(client, app_state, batched, response.json()["job_id"])
    assert (status["status"], status["failed"], status["errors"]) == ("completed", 0, [])
    for event in stream:
        one = await client.post(
            "/ingest",
            content=json.dumps(event).encode(),
            headers={**single.secret, "Content-Type": "application/json"},
        )
        assert one.status_code == 200, one.text
    state = await state_of(client, single)
    assert state == await state_of(client, batched)
    identities = b"".join(identities for _, identities, *_ in state)
    assert f"crm{STORED}1".encode() in identities


async def test_a_failed_event_is_listed_as_index_code_and_message(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys
) -> None:
    events = [track(0), {"event_type": "track", "event_name": "anonymous"}, track(2)]
    status = await finished(client, app_state, tenant, await submit(client, tenant, events))
    assert (status["stored"], status["failed"]) == (2, 1)
    assert status["errors"] == [
        {"index": 1, "code": "no_identifiers", "message": "the event carries no usable identifier"}
    ]
    # `status` keeps API.md's words; `outcome` and `summary` say some events failed.
    assert status["status"] == "completed"
    assert status["outcome"] == "completed_with_errors"
    assert status["summary"] == (
        "completed with errors: 1 of 3 events could not be taken (see errors, by index); the "
        "others are stored"
    )
