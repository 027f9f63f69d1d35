"""The stream's message shape and the per-commit cap (no I/O)."""

from __future__ import annotations

import uuid

from journeyline.realtime.messages import MAX_PER_COMMIT, capped, message

TENANT = uuid.UUID(int=7)


def test_a_message_names_its_type_tenant_and_data() -> None:
    assert message(TENANT, "crm.deal", {"id": "d"}) == {
        "type": "crm.deal",
        "tenant_id": str(TENANT),
        "data": {"id": "d"},
    }


def test_a_small_commit_passes_through_in_order() -> None:
    items = [message(TENANT, kind, {"n": n}) for n, kind in enumerate(["a", "b", "a"])]
    assert list(capped(TENANT, items)) == items


def test_each_type_is_capped_and_the_overflow_becomes_one_resync_at_the_end() -> None:
    many = [message(TENANT, "event.ingested", {"n": n}) for n in range(MAX_PER_COMMIT + 5)]
    few = [message(TENANT, "order.updated", {"n": n}) for n in range(3)]
    out = list(capped(TENANT, [*many, *few]))
    assert [m["type"] for m in out].count("event.ingested") == MAX_PER_COMMIT
    assert [m["data"] for m in out if m["type"] == "order.updated"] == [
        {"n": 0},
        {"n": 1},
        {"n": 2},
    ]
    assert out[-1]["type"] == "resync"
    assert "event.ingested" in out[-1]["data"]["reason"]
    assert [m["type"] for m in out].count("resync") == 1
