"""What a chunk publishes: every mutation type the pipeline makes, scoped to its tenant."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from journeyline.config import Settings
from journeyline.graph.plan import touchpoint_node_id
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.store.db import Database
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext, build_context

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def publish(self, messages: Sequence[dict[str, Any]]) -> None:
        self.messages.extend(messages)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [item["data"] for item in self.messages if item["type"] == kind]


@pytest.fixture
def recorder(database: Database) -> Iterator[Recorder]:
    before = database.publisher
    database.publisher = recorder = Recorder()
    yield recorder
    database.publisher = before


def event(event_type: str, **fields: Any) -> CanonicalEvent:
    payload = fields.pop("payload", {})
    return CanonicalEvent(
        event_type=event_type,
        event_name=event_type,
        source_type="internal",
        source="api",
        received_at=NOW,
        payload=payload,
        **fields,
    )


async def tenant(database: Database, settings: Settings, name: str) -> TenantContext:
    created = await database.run(lambda session: tenancy.create_tenant(session, name))
    return build_context(created.tenant_id, "secret", {}, settings)


async def test_a_chunk_publishes_each_kind_of_mutation(
    database: Database, settings: Settings, recorder: Recorder
) -> None:
    context = await tenant(database, settings, "mutations")
    first = [
        event("page_viewed", anonymous_id="mut-anon", payload={"utm_campaign": "fall"}),
        event("identified", email="owner@mut.io", traits={"name": "Owner"}),
    ]
    await database.run(lambda s: pipeline.process(s, context, first, now=NOW))
    second = [
        # The shadow meets its anchor: a merge.
        event("page_viewed", anonymous_id="mut-anon", email="owner@mut.io"),
        event(
            "purchase_completed",
            email="owner@mut.io",
            payload={"order_id": "MUT-1", "total": 30, "currency": "EUR"},
        ),
        # The same external id claimed by another anchor: a conflict.
        event("identified", email="other@mut.io", external_id="crm-1"),
        event("identified", email="owner@mut.io", external_id="crm-1"),
    ]
    outcomes = await database.run(lambda s: pipeline.process(s, context, second, now=NOW))

    assert {m["tenant_id"] for m in recorder.messages} == {str(context.tenant_id)}
    stored = {str(o.event_id) for o in outcomes}
    assert stored <= {e["event_id"] for e in recorder.of("event.ingested")}
    owner = str(outcomes[1].profile_id)
    [merged] = recorder.of("profile.merged")
    assert merged["into_profile_id"] == owner
    assert merged["reason"] == "identity_collapse"
    assert {p["profile_id"] for p in recorder.of("profile.created")} >= {owner}
    assert owner in {p["profile_id"] for p in recorder.of("profile.updated")}
    [order] = recorder.of("order.updated")
    assert (order["order_id"], order["status"], order["profile_id"]) == (
        "MUT-1",
        "completed",
        owner,
    )
    [deal] = recorder.of("crm.deal")
    assert (deal["key"], deal["stage"], deal["amount"]) == ("order:MUT-1", "won", 30.0)
    assert owner in {p["profile_id"] for p in recorder.of("crm.person")}
    [conflict] = recorder.of("identity.conflict")
    assert (conflict["kind"], conflict["value"]) == ("external_id", "crm-1")
    assert conflict["event_id"] == str(outcomes[3].event_id)
    nodes = [n for batch in recorder.of("graph.nodes") for n in batch["upserted"]]
    # Touchpoints are the events: `event.ingested` names them; graph messages name the rest.
    assert {"Customer", "Campaign", "Channel", "Stage"} <= {n["type"] for n in nodes}
    assert recorder.of("graph.edges")
    touchpoints = {e["touchpoint_id"] for e in recorder.of("event.ingested")}
    assert outcomes[1].event_id is not None
    assert str(touchpoint_node_id(context.tenant_id, outcomes[1].event_id)) in touchpoints


async def test_a_duplicate_publishes_no_new_event(
    database: Database, settings: Settings, recorder: Recorder
) -> None:
    context = await tenant(database, settings, "mutations-dup")
    once = [event("page_viewed", anonymous_id="dup", external_event_id="m-1")]
    await database.run(lambda s: pipeline.process(s, context, once, now=NOW))
    recorder.messages.clear()
    await database.run(lambda s: pipeline.process(s, context, once, now=NOW))
    assert recorder.of("event.ingested") == []
