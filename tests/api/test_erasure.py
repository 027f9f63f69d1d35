"""GDPR erasure through HTTP: by profile id and by each identifier kind, following merges both
ways; redaction in place; tombstones that suppress later events (both lanes) and can be lifted;
rebuild after an erasure; tenant isolation; bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from journeyline.api.state import AppState
from journeyline.config import Settings
from journeyline.ingest.rebuild import rebuild_tenant
from journeyline.store.db import Database
from journeyline.store.models import (
    CrmPerson,
    ErasureRecord,
    Event,
    Identity,
    IdentityConflict,
    Order,
    Profile,
    Tombstone,
)
from journeyline.tenancy.context import build_context
from tests.api.test_batches import finished, submit
from tests.conftest import TenantKeys
from tests.ingest.test_rebuild import snapshot


async def send(client: httpx.AsyncClient, tenant: TenantKeys, **fields: Any) -> dict[str, Any]:
    body = {"type": "track", "action": "seen", **fields}
    response = await client.post("/v1/events", json=body, headers=tenant.secret)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


async def person(client: httpx.AsyncClient, tenant: TenantKeys, tag: str) -> str:
    """A person with every identifier kind, traits, a payload naming them and an order."""
    first = await send(
        client,
        tenant,
        type="identify",
        email=f"{tag}@example.org",
        phone="+14155550123" if tag == "jane" else None,
        externalId=f"crm-{tag}",
        anonymousId=f"anon-{tag}",
        properties={"name": f"Name {tag}", "city": "Lisbon"},
    )
    await send(
        client,
        tenant,
        action="Order Completed",
        email=f"{tag}@example.org",
        properties={
            "order_id": f"order-{tag}",
            "total": 42.0,
            "currency": "EUR",
            "shipping_email": f"{tag}@example.org",
            "products": [{"product_id": "P-1", "price": 42.0, "quantity": 1}],
        },
        messageId=f"m-{tag}",
    )
    profile_id: str = first["customer_id"]
    return profile_id


async def log_text(database: Database, tenant: TenantKeys) -> tuple[int, str]:
    """How many events the tenant's log holds, and everything in them as one text."""
    async with database.read() as session:
        rows = (
            await session.scalars(
                select(Event).where(Event.tenant_id == uuid.UUID(tenant.tenant_id))
            )
        ).all()
    text = json.dumps(
        [
            [r.payload, r.raw_payload, r.traits, r.identifiers, r.anonymous_id, r.session_id]
            for r in rows
        ],
        default=str,
    )
    return len(rows), text


async def held(database: Database, tenant: TenantKeys, model: Any) -> list[Any]:
    async with database.read() as session:
        return list(
            (
                await session.scalars(
                    select(model).where(model.tenant_id == uuid.UUID(tenant.tenant_id))
                )
            ).all()
        )


async def test_delete_profile_erases_and_redacts_in_place(
    client: httpx.AsyncClient, database: Database, tenant: TenantKeys
) -> None:
    jane = await person(client, tenant, "jane")
    john = await person(client, tenant, "john")
    count_before, text_before = await log_text(database, tenant)
    assert "jane@example.org" in text_before

    response = await client.delete(f"/v1/profiles/{jane}", headers=tenant.secret)
    assert response.status_code == 200, response.text
    assert response.json() == {"erased": True, "erased_profile_ids": [jane]}

    assert (await client.get(f"/v1/profiles/{jane}", headers=tenant.secret)).status_code == 404
    assert (
        await client.get(f"/v1/profiles/{jane}/events", headers=tenant.secret)
    ).status_code == 404
    found = await client.get(
        "/v1/profiles", params={"email": "jane@example.org"}, headers=tenant.secret
    )
    assert found.json()["data"] == []
    count_after, text_after = await log_text(database, tenant)
    assert count_after == count_before  # the rows stay
    for personal in ("jane@example.org", "crm-jane", "anon-jane", "4155550123", "Name jane"):
        assert personal not in text_after
    assert "john@example.org" in text_after  # the other person is untouched
    assert (await client.get(f"/v1/profiles/{john}", headers=tenant.secret)).status_code == 200

    identities = await held(database, tenant, Identity)
    assert {i.profile_id for i in identities} == {uuid.UUID(john)}
    assert [p.profile_id for p in await held(database, tenant, CrmPerson)] == [uuid.UUID(john)]
    orders = {o.order_id: o.profile_id for o in await held(database, tenant, Order)}
    assert orders == {"order-jane": None, "order-john": uuid.UUID(john)}
    assert uuid.UUID(jane) not in {p.id for p in await held(database, tenant, Profile)}

    tombstones = (await client.get("/v1/erasures", headers=tenant.secret)).json()["data"]
    assert sorted(t["kind"] for t in tombstones) == [
        "anonymous_id",
        "email",
        "external_id",
        "phone",
    ]
    listed = json.dumps(tombstones)
    assert "jane" not in listed
    assert "4155550123" not in listed
    assert all(len(t["value_hash"]) == 64 for t in tombstones)

    (record,) = await held(database, tenant, ErasureRecord)
    assert record.requested_by == "profile"
    assert record.profile_ids == [jane]
    assert record.key_id is not None
    assert record.counts["events"] == 2
    assert record.counts["tombstones"] == 4
    assert "jane" not in json.dumps(record.counts)


@pytest.mark.parametrize(
    ("kind", "given", "field", "later"),
    [
        ("email", "  JANE@Example.org ", "email", "jane@example.org"),
        ("phone", "+1 (415) 555-0123", "phone", "+14155550123"),
        ("external_id", "crm-jane", "externalId", "crm-jane"),
        ("anonymous_id", "anon-jane", "anonymousId", "anon-jane"),
    ],
)
async def test_erase_by_each_identifier_then_later_events_are_suppressed(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    kind: str,
    given: str,
    field: str,
    later: str,
) -> None:
    jane = await person(client, tenant, "jane")
    response = await client.post("/v1/erasures", json={kind: given}, headers=tenant.secret)
    assert response.status_code == 200, response.text
    assert response.json()["erased_profile_ids"] == [jane]
    assert (await client.get(f"/v1/profiles/{jane}", headers=tenant.secret)).status_code == 404

    # A later event carrying the erased identifier is dropped, not an error, nobody recreated.
    dropped = await send(client, tenant, **{field: later})
    assert dropped["suppressed"] is True
    assert dropped["event_id"] is None
    assert dropped["customer_id"] is None
    assert dropped["warnings"][0]["code"] == "erased_identifier"
    # Every other identifier the person held is tombstoned as well.
    also = await send(client, tenant, externalId="crm-jane", email="fresh@example.org")
    assert also["suppressed"] is True
    found = await client.get(
        "/v1/profiles", params={"email": "fresh@example.org"}, headers=tenant.secret
    )
    assert found.json()["data"] == []
    keystone = await client.post(
        "/ingest",
        json={"event_type": "track", "event_name": "x", "identity": "jane@example.org"},
        headers=tenant.secret,
    )
    assert keystone.status_code == 200, keystone.text
    assert keystone.json()["suppressed"] is True
    assert keystone.json()["profile_id"] is None
    metrics = (await client.get("/metrics")).text
    assert 'journeyline_events_total{outcome="suppressed"}' in metrics


async def test_erasing_an_identifier_nobody_holds_still_writes_the_tombstone(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.post(
        "/v1/erasures", json={"email": "nobody@example.org"}, headers=tenant.secret
    )
    assert response.status_code == 200, response.text
    assert response.json()["erased_profile_ids"] == []
    listed = (await client.get("/v1/erasures", headers=tenant.secret)).json()["data"]
    assert [t["kind"] for t in listed] == ["email"]
    assert (await send(client, tenant, email="Nobody@example.org"))["suppressed"] is True


@pytest.mark.parametrize("erase", ["survivor", "merged_id", "merged_email", "survivor_email"])
async def test_erasure_follows_merges_both_ways(
    client: httpx.AsyncClient, tenant: TenantKeys, erase: str
) -> None:
    a = (await send(client, tenant, email="a@example.org", anonymousId="anon-a"))["customer_id"]
    b = (await send(client, tenant, email="b@example.org", sessionId="sess-b"))["customer_id"]
    merged = await client.post(
        f"/v1/profiles/{a}/merge", json={"profile_id": b}, headers=tenant.secret
    )
    assert merged.status_code == 200, merged.text
    if erase == "survivor":
        response = await client.delete(f"/v1/profiles/{a}", headers=tenant.secret)
    elif erase == "merged_id":
        response = await client.delete(f"/v1/profiles/{b}", headers=tenant.secret)
    else:
        email = "b@example.org" if erase == "merged_email" else "a@example.org"
        response = await client.post("/v1/erasures", json={"email": email}, headers=tenant.secret)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["erased_profile_ids"]) == sorted([a, b])
    for profile_id in (a, b):
        answer = await client.get(f"/v1/profiles/{profile_id}", headers=tenant.secret)
        assert answer.status_code == 404
    for fields in ({"email": "a@example.org"}, {"email": "b@example.org"}, {"sessionId": "sess-b"}):
        assert (await send(client, tenant, **fields))["suppressed"] is True


async def test_redelivery_of_an_erased_event_stays_a_duplicate(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    first = await send(client, tenant, email="redo@example.org", messageId="redo-1")
    erased = await client.post(
        "/v1/erasures", json={"email": "redo@example.org"}, headers=tenant.secret
    )
    assert erased.json()["erased_profile_ids"] == [first["customer_id"]]
    again = await send(client, tenant, email="redo@example.org", messageId="redo-1")
    assert again["duplicate"] is True
    assert again["event_id"] == first["event_id"]
    assert again["customer_id"] is None


async def test_batch_lane_drops_tombstoned_events(
    client: httpx.AsyncClient, app_state: AppState, database: Database, tenant: TenantKeys
) -> None:
    erased = await client.post(
        "/v1/erasures", json={"email": "gone@example.org"}, headers=tenant.secret
    )
    assert erased.status_code == 200, erased.text
    events = [
        {"event_type": "track", "event_name": "Viewed", "identity": identity}
        for identity in ("kept1@example.org", "GONE@example.org", "kept2@example.org")
    ]
    status = await finished(client, app_state, tenant, await submit(client, tenant, events))
    assert status["status"] == "completed"
    assert (status["processed"], status["stored"], status["failed"]) == (3, 2, 0)
    assert status["suppressed"] == 1
    emails = {i.value for i in await held(database, tenant, Identity) if i.kind == "email"}
    assert emails == {"kept1@example.org", "kept2@example.org"}


async def test_rebuild_after_erasure_reproduces_the_erased_state(
    client: httpx.AsyncClient, database: Database, settings: Settings, tenant: TenantKeys
) -> None:
    jane = await person(client, tenant, "jane")
    await person(client, tenant, "john")
    response = await client.delete(f"/v1/profiles/{jane}", headers=tenant.secret)
    assert response.status_code == 200, response.text
    before = await snapshot(database, tenant.tenant_id)
    context = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
    summary = await rebuild_tenant(database, context)
    assert summary.events == 4
    after = await snapshot(database, tenant.tenant_id)
    for key in before:
        assert after[key] == before[key], (key, set(after[key]) ^ set(before[key]))
    assert not any("jane" in repr(row) for row in after["identities"])
    assert all(str(jane) not in repr(row) for row in after["profiles"])
    assert (await client.get(f"/v1/profiles/{jane}", headers=tenant.secret)).status_code == 404


async def test_lifting_a_tombstone_accepts_the_identifier_again(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await client.post("/v1/erasures", json={"email": "back@example.org"}, headers=tenant.secret)
    assert (await send(client, tenant, email="back@example.org"))["suppressed"] is True
    (tombstone,) = (await client.get("/v1/erasures", headers=tenant.secret)).json()["data"]
    lifted = await client.delete(f"/v1/erasures/{tombstone['id']}", headers=tenant.secret)
    assert lifted.status_code == 204, lifted.text
    assert (await client.get("/v1/erasures", headers=tenant.secret)).json()["data"] == []
    accepted = await send(client, tenant, email="back@example.org")
    assert accepted["suppressed"] is False
    assert accepted["customer_id"] is not None
    again = await client.delete(f"/v1/erasures/{tombstone['id']}", headers=tenant.secret)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"


async def test_tenant_isolation(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    jane = await person(client, tenant, "jane")
    theirs = await client.delete(f"/v1/profiles/{jane}", headers=other_tenant.secret)
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "profile_not_found"
    assert (await client.get(f"/v1/profiles/{jane}", headers=tenant.secret)).status_code == 200
    public = await client.delete(f"/v1/profiles/{jane}", headers=tenant.public)
    assert public.status_code == 403

    # The other tenant erasing the same email erases nothing here and suppresses nothing here.
    other = await client.post(
        "/v1/erasures", json={"email": "jane@example.org"}, headers=other_tenant.secret
    )
    assert other.status_code == 200
    assert other.json()["erased_profile_ids"] == []
    assert (await client.get(f"/v1/profiles/{jane}", headers=tenant.secret)).status_code == 200
    assert (await send(client, tenant, email="jane@example.org"))["customer_id"] == jane
    (their_tombstone,) = (await client.get("/v1/erasures", headers=other_tenant.secret)).json()[
        "data"
    ]
    assert (await client.get("/v1/erasures", headers=tenant.secret)).json()["data"] == []
    lift = await client.delete(f"/v1/erasures/{their_tombstone['id']}", headers=tenant.secret)
    assert lift.status_code == 404
    # The same email erased in both tenants: unrelated hashes (a per-tenant key).
    await client.post("/v1/erasures", json={"email": "jane@example.org"}, headers=tenant.secret)
    listed = (await client.get("/v1/erasures", headers=tenant.secret)).json()["data"]
    (mine,) = [t for t in listed if t["kind"] == "email"]
    assert mine["value_hash"] != their_tombstone["value_hash"]
    assert (await send(client, other_tenant, email="x@example.org"))["suppressed"] is False


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"[]", 422, None),
        (b"{}", 422, "email"),
        (b'{"email": 5}', 422, "email"),
        (b'{"email": "not-an-email"}', 422, "email"),
        (b'{"phone": "12"}', 422, "phone"),
        (b'{"email": "a@example.org", "phone": "+14155550123"}', 422, "phone"),
        (b'{"name": "x"}', 422, "name"),
    ],
)
async def test_bad_erasure_requests(
    client: httpx.AsyncClient, tenant: TenantKeys, body: bytes, status: int, field: str | None
) -> None:
    response = await client.post(
        "/v1/erasures",
        content=body,
        headers={**tenant.secret, "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"]
    assert error["message"]
    if field is not None:
        assert error.get("field") == field
    assert (await client.get("/v1/erasures", headers=tenant.secret)).json()["data"] == []


async def test_unknown_and_malformed_profile_ids(
    client: httpx.AsyncClient, database: Database, tenant: TenantKeys
) -> None:
    unknown = await client.delete(f"/v1/profiles/{uuid.uuid4()}", headers=tenant.secret)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "profile_not_found"
    malformed = await client.delete("/v1/profiles/not-a-uuid", headers=tenant.secret)
    assert malformed.status_code == 422
    assert "error" in malformed.json()
    assert (await client.delete(f"/v1/profiles/{uuid.uuid4()}")).status_code == 401
    assert await held(database, tenant, Tombstone) == []
    assert await held(database, tenant, IdentityConflict) == []


async def test_every_dialect_answers_success_for_a_suppressed_event(
    client: httpx.AsyncClient, database: Database, tenant: TenantKeys
) -> None:
    """TrackMate's three routes and Segment's: a suppressed send is no error to the sender."""
    from tests.api.test_trackmate import identify, server_event, session_events

    erased = await client.post(
        "/v1/erasures", json={"email": "tm@example.org"}, headers=tenant.secret
    )
    assert erased.status_code == 200, erased.text
    # A TrackMate session is erased with the profile that holds it.
    first = await session_events(client, tenant, "s-erased", {"eventType": "page_view"})
    assert first.json()["stored"] == 1
    found = await client.get(
        "/v1/profiles", params={"session_id": "s-erased"}, headers=tenant.secret
    )
    (shadow,) = found.json()["data"]
    erased = await client.delete(f"/v1/profiles/{shadow['id']}", headers=tenant.secret)
    assert erased.status_code == 200, erased.text
    page = await session_events(client, tenant, "s-erased", {"eventType": "page_view"})
    assert page.status_code == 200, page.text
    assert page.json()["stored"] == 0
    assert page.json()["suppressed"] == 1
    profile = await identify(client, tenant, "s-other", email="TM@example.org", name="T M")
    assert profile.status_code == 200, profile.text
    assert profile.json()["profileId"] is None
    assert profile.json()["suppressed"] is True
    server = await server_event(client, tenant, {"email": "tm@example.org"}, "payment_processed")
    assert server.status_code == 200, server.text
    assert server.json()["eventId"] is None
    assert server.json()["suppressed"] is True
    segment = await client.post(
        "/v1/identify",
        json={"userId": "u-1", "traits": {"email": "tm@example.org"}},
        auth=(tenant.public_key, ""),
    )
    assert segment.status_code == 200, segment.text
    assert segment.json() == {"success": True}
    emails = {i.value for i in await held(database, tenant, Identity) if i.kind == "email"}
    assert "tm@example.org" not in emails
    assert await held(database, tenant, Profile) == []


async def test_export_holds_everything_about_the_person(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    jane = await person(client, tenant, "jane")
    shadow = (await send(client, tenant, anonymousId="anon-shadow", action="Viewed"))["customer_id"]
    merged = await client.post(
        f"/v1/profiles/{jane}/merge", json={"profile_id": shadow}, headers=tenant.secret
    )
    assert merged.status_code == 200, merged.text
    await person(client, tenant, "john")
    for asked in (jane, shadow):  # a merged id exports its survivor
        response = await client.get(f"/v1/profiles/{asked}/export", headers=tenant.secret)
        assert response.status_code == 200, response.text
        document = response.json()
        assert document["profile"]["id"] == jane
        assert document["profile"]["merged_from"] == [shadow]
        kinds = {(i["kind"], i["value"]) for i in document["identities"]}
        assert ("email", "jane@example.org") in kinds
        assert ("anonymous_id", "anon-shadow") in kinds
        assert document["attributes"]["name"] == "Name jane"
        assert {c["path"] for c in document["lineage"]} >= {"name", "city"}
        assert len(document["events"]) == 3
        assert document["events"][1]["payload"]["shipping_email"] == "jane@example.org"
        assert [o["order_id"] for o in document["orders"]] == ["order-jane"]
        assert document["crm_person"]["email"] == "jane@example.org"
        assert [d["key"] for d in document["deals"]] == ["order:order-jane"]
        assert [m["from_profile_id"] for m in document["merges"]] == [shadow]
        assert "john" not in response.text
    theirs = await client.get(f"/v1/profiles/{jane}/export", headers=other_tenant.secret)
    assert theirs.status_code == 404
    assert (await client.delete(f"/v1/profiles/{jane}", headers=tenant.secret)).status_code == 200
    gone = await client.get(f"/v1/profiles/{jane}/export", headers=tenant.secret)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "profile_not_found"


async def test_events_racing_an_erasure_never_bring_the_person_back(
    client: httpx.AsyncClient, database: Database, tenant: TenantKeys
) -> None:
    """Sends carrying the email, concurrent with its erasure: whichever commits first, no
    identity with it survives (the erasure takes the ingest's identifier locks)."""
    import asyncio

    await person(client, tenant, "race")

    async def erase() -> httpx.Response:
        return await client.post(
            "/v1/erasures", json={"email": "race@example.org"}, headers=tenant.secret
        )

    async def sender(i: int) -> dict[str, Any]:
        return await send(client, tenant, email="race@example.org", action=f"a{i}")

    results = await asyncio.gather(
        *(sender(i) for i in range(6)), erase(), *(sender(i) for i in range(6, 12))
    )
    erased = results[6]
    assert isinstance(erased, httpx.Response)
    assert erased.status_code == 200, erased.text
    identities = await held(database, tenant, Identity)
    assert "race@example.org" not in {i.value for i in identities}
    assert (await send(client, tenant, email="race@example.org"))["suppressed"] is True


async def test_erasure_redacts_the_provider_deliveries_of_the_person(
    client: httpx.AsyncClient, database: Database, tenant: TenantKeys
) -> None:
    from journeyline.store.models import WebhookDelivery
    from tests.api.test_webhooks import STRIPE_SECRET, connect, stripe_headers
    from tests.webhooks.signing import fixture

    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = fixture("stripe", "checkout.session.completed.json")
    sent = await client.post(made["url"], content=body, headers=stripe_headers(body))
    assert sent.json()["status"] == "accepted", sent.text
    erased = await client.post(
        "/v1/erasures", json={"email": "billz@supabase.io"}, headers=tenant.secret
    )
    assert len(erased.json()["erased_profile_ids"]) == 1
    (delivery,) = await held(database, tenant, WebhookDelivery)
    assert b"billz" not in delivery.body
    assert delivery.reason == "erased"
    replayed = await client.post(
        f"/v1/webhook-deliveries/{delivery.id}/replay", headers=tenant.secret
    )
    assert replayed.status_code < 500, replayed.text
    assert "error" in replayed.json() or replayed.json()["status"] != "accepted"
    found = await client.get(
        "/v1/profiles", params={"email": "billz@supabase.io"}, headers=tenant.secret
    )
    assert found.json()["data"] == []
    (record,) = await held(database, tenant, ErasureRecord)
    assert record.counts["deliveries"] == 1
