"""The intelligence graph through HTTP: summary and full views, stages, campaigns and channels,
merges and unmerges, redeliveries, attribution per model, bad input, keys and tenants."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from tests.conftest import TenantKeys

Graph = dict[str, Any]


def event(
    kind: str,
    minute: int,
    name: str | None = None,
    payload: dict[str, Any] | None = None,
    **who: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_type": kind,
        "payload": payload or {},
        "timestamp": f"2026-11-22T10:{minute:02d}:00Z",
        **who,
    }
    if name is not None:
        body["event_name"] = name
    return body


async def send(client: httpx.AsyncClient, tenant: TenantKeys, *events: dict[str, Any]) -> Any:
    """One event, or several in one request (one chunk of the pipeline)."""
    body = events[0] if len(events) == 1 else {"batch": list(events)}
    response = await client.post("/ingest", json=body, headers=tenant.public)
    assert response.status_code == 200, response.text
    return response.json()


async def graph(client: httpx.AsyncClient, tenant: TenantKeys, mode: str = "full") -> Graph:
    response = await client.get(f"/v1/intelligence?mode={mode}", headers=tenant.secret)
    assert response.status_code == 200, response.text
    body: Graph = response.json()
    return body


def nodes_of(view: Graph, node_type: str) -> dict[str, dict[str, Any]]:
    """The nodes of a type by key."""
    return {node["key"]: node for node in view["nodes"] if node["type"] == node_type}


def customer(view: Graph, profile_id: str) -> dict[str, Any] | None:
    return nodes_of(view, "Customer").get(profile_id)


def stage_of(view: Graph, profile_id: str) -> str | None:
    node = customer(view, profile_id)
    assert node is not None, f"no Customer node for {profile_id}"
    by_id = {n["id"]: n for n in view["nodes"]}
    stages = [
        by_id[edge["target"]]["key"]
        for edge in view["edges"]
        if edge["type"] == "AT_STAGE" and edge["source"] == node["id"]
    ]
    assert len(stages) <= 1, stages
    return stages[0] if stages else None


def touchpoints_of(view: Graph, profile_id: str) -> dict[str, str]:
    """A customer's touchpoints: event id -> event type."""
    node = customer(view, profile_id)
    assert node is not None, f"no Customer node for {profile_id}"
    by_id = {n["id"]: n for n in view["nodes"]}
    return {
        by_id[edge["target"]]["key"]: by_id[edge["target"]]["label"]
        for edge in view["edges"]
        if edge["type"] == "HAS_TOUCHPOINT" and edge["source"] == node["id"]
    }


def contributions_of(view: Graph, profile_id: str) -> dict[str, str]:
    """Stage -> the event type of the touchpoint that moved the customer into it."""
    by_id = {n["id"]: n for n in view["nodes"]}
    touchpoint_ids = {
        edge["target"]
        for edge in view["edges"]
        if edge["type"] == "HAS_TOUCHPOINT"
        and edge["source"] == (customer(view, profile_id) or {}).get("id")
    }
    found: dict[str, str] = {}
    for edge in view["edges"]:
        if edge["type"] == "CONTRIBUTES_TO" and edge["source"] in touchpoint_ids:
            stage = by_id[edge["target"]]["key"]
            assert stage not in found, f"two contributors to {stage}"
            found[stage] = by_id[edge["source"]]["label"]
    return found


def page(minute: int, campaign: str | None = None, medium: str | None = None, **who: str) -> Any:
    payload: dict[str, Any] = {"url": "https://shop.example/landing"}
    if campaign is not None:
        payload["utm_campaign"] = campaign
    if medium is not None:
        payload["utm_medium"] = medium
    return event("page", minute, payload=payload, **who)


async def test_summary_omits_touchpoints_and_full_includes_them(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    who = {"anonymous_id": "sum-1"}
    await send(client, tenant, page(0, "spring", "cpc", **who))
    await send(
        client,
        tenant,
        event(
            "page",
            1,
            payload={"url": "https://shop.example/", "referrer": "https://www.google.com/"},
            **who,
        ),
    )
    added = await send(client, tenant, event("track", 2, "Product Added", {}, **who))
    profile_id = added["profile_id"]

    full = await graph(client, tenant, "full")
    summary = await graph(client, tenant, "summary")
    default = await graph(client, tenant, "summary")
    assert (await client.get("/v1/intelligence", headers=tenant.secret)).json() == default

    assert len(nodes_of(full, "Touchpoint")) == 3
    assert nodes_of(summary, "Touchpoint") == {}
    touchpoint_ids = {n["id"] for n in full["nodes"] if n["type"] == "Touchpoint"}
    assert all(
        e["source"] not in touchpoint_ids and e["target"] not in touchpoint_ids
        for e in summary["edges"]
    )
    assert {e["type"] for e in summary["edges"]} == {"AT_STAGE"}
    assert {n["type"] for n in summary["nodes"]} == {"Customer", "Campaign", "Channel", "Stage"}
    # The stats describe the whole graph in both modes.
    assert summary["stats"] == full["stats"]
    stats = full["stats"]
    assert stats["nodes"] == {
        "Customer": 1,
        "Touchpoint": 3,
        "Campaign": 1,
        "Channel": 3,
        "Stage": 2,
    }
    assert stats["edges"] == {
        "HAS_TOUCHPOINT": 3,
        "INFLUENCED_BY": 1,
        "VIA_CHANNEL": 3,
        "AT_STAGE": 1,
        "CONTRIBUTES_TO": 2,
    }
    assert stats["stages"]["consideration"] == 1
    assert stats["campaigns"] == [{"campaign_id": "spring", "touchpoints": 1}]
    assert stats["channels"] == [
        {"channel": "direct", "touchpoints": 1},
        {"channel": "organic_search", "touchpoints": 1},
        {"channel": "paid_search", "touchpoints": 1},
    ]
    assert stage_of(summary, profile_id) == "consideration"

    node = next(iter(nodes_of(full, "Touchpoint").values()))
    assert set(node) == {"id", "type", "key", "label", "properties"}
    assert {"event_id", "event_type", "occurred_at", "channel", "sync_count"} <= set(
        node["properties"]
    )


async def test_stages_progress_with_the_funnel_and_never_move_back(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    who = {"identity": "funnel@x.io"}
    seen: list[str | None] = []
    steps = [
        page(0, **who),
        event("identify", 1, payload={"name": "F"}, **who),
        event("track", 2, "Product Added", {}, **who),
        event("track", 3, "Order Completed", {"order_id": "F-1", "total": 20}, **who),
        page(4, **who),
        event("track", 5, "Order Completed", {"order_id": "F-2", "total": 10}, **who),
    ]
    profile_id = ""
    for step in steps:
        profile_id = (await send(client, tenant, step))["profile_id"]
        seen.append(stage_of(await graph(client, tenant, "summary"), profile_id))
    assert seen == [
        "awareness",
        "interest",
        "consideration",
        "conversion",
        "conversion",  # a later view does not move the customer back
        "retention",  # a repeat purchase
    ]
    full = await graph(client, tenant)
    assert contributions_of(full, profile_id) == {
        "awareness": "page_viewed",
        "interest": "identified",
        "consideration": "product_added",
        "conversion": "purchase_completed",
        "retention": "purchase_completed",
    }
    revenues = sorted(
        n["properties"]["revenue"]
        for n in nodes_of(full, "Touchpoint").values()
        if "revenue" in n["properties"]
    )
    assert revenues == [10.0, 20.0]


async def test_campaigns_and_channels_come_from_utms_referrers_and_sources(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    who = {"anonymous_id": "utm-1"}
    await send(
        client,
        tenant,
        page(0, "Black Friday", "newsletter", **who),
        page(1, "Black Friday", "CPC", **who),
        event("page", 2, payload={"referrer": "https://t.co/abc"}, **who),
        event("track", 3, "Clicked", {}, campaign_id="retarget", channel="Paid Social", **who),
    )
    full = await graph(client, tenant)
    assert set(nodes_of(full, "Campaign")) == {"Black Friday", "retarget"}
    assert set(nodes_of(full, "Channel")) == {"email", "paid_search", "social", "paid_social"}
    assert full["stats"]["campaigns"] == [
        {"campaign_id": "Black Friday", "touchpoints": 2},
        {"campaign_id": "retarget", "touchpoints": 1},
    ]


async def test_a_collapse_moves_the_shadows_touchpoints_to_the_survivor(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    person = (await send(client, tenant, page(0, "known", identity="m@x.io")))["profile_id"]
    shadow = (await send(client, tenant, page(1, "ad", "cpc", anonymous_id="m-anon")))["profile_id"]
    assert shadow != person
    before = await graph(client, tenant)
    assert len(touchpoints_of(before, shadow)) == 1
    assert stage_of(before, shadow) == "awareness"

    cart = event("track", 2, "Product Added", {}, identity="m@x.io", anonymous_id="m-anon")
    carted = await send(client, tenant, cart)
    assert carted["profile_id"] == person
    after = await graph(client, tenant)
    assert customer(after, shadow) is None, "the shadow's Customer node must go"
    assert set(nodes_of(after, "Customer")) == {person}
    assert set(touchpoints_of(after, person)) == {
        *touchpoints_of(before, person),
        *touchpoints_of(before, shadow),
        carted["event_id"],
    }
    assert stage_of(after, person) == "consideration"
    assert after["stats"]["nodes"]["Customer"] == 1
    # The earlier of the two awareness touchpoints keeps the credit.
    contributions = [e for e in after["edges"] if e["type"] == "CONTRIBUTES_TO"]
    assert len(contributions) == 2


async def test_a_chunk_is_planned_in_event_order_with_its_merges(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    """The same history sent one event at a time and as one batch gives the same graph."""
    history = [
        event("track", 0, "Order Completed", {"order_id": "C-1", "total": 5}, anonymous_id="c-a"),
        event("track", 1, "Order Completed", {"order_id": "C-2", "total": 7}, identity="c@x.io"),
        event("track", 2, "Product Added", {}, identity="c@x.io", anonymous_id="c-a"),
        page(3, "later", identity="c@x.io"),
    ]
    for step in history:
        await send(client, tenant, step)
    await send(client, other_tenant, *history)

    def shape(view: Graph) -> Any:
        [profile_id] = nodes_of(view, "Customer")
        return (
            stage_of(view, profile_id),
            sorted(touchpoints_of(view, profile_id).values()),
            contributions_of(view, profile_id),
            view["stats"],
        )

    one_at_a_time = shape(await graph(client, tenant))
    assert one_at_a_time == shape(await graph(client, other_tenant))
    # Both customers had converted before the collapse: a conversion, not a repeat purchase.
    assert one_at_a_time[0] == "conversion"


async def test_an_operator_merge_moves_the_graph_and_unmerge_restores_it(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    a = (await send(client, tenant, page(0, "a-camp", identity="a@x.io")))["profile_id"]
    b = ""
    for step in (
        page(1, "b-camp", identity="b@x.io"),
        event("track", 2, "Product Added", {}, identity="b@x.io"),
        event("track", 3, "Order Completed", {"order_id": "OB-1", "total": 9}, identity="b@x.io"),
    ):
        b = (await send(client, tenant, step))["profile_id"]
    before = await graph(client, tenant)
    assert (stage_of(before, a), stage_of(before, b)) == ("awareness", "conversion")

    merged = await client.post(
        f"/v1/profiles/{a}/merge", json={"profile_id": b}, headers=tenant.secret
    )
    assert merged.status_code == 200, merged.text
    during = await graph(client, tenant)
    assert customer(during, b) is None
    assert touchpoints_of(during, a) == touchpoints_of(before, a) | touchpoints_of(before, b)
    assert stage_of(during, a) == "conversion"
    # One contributor per stage: a's page (earlier) keeps awareness.
    assert contributions_of(during, a) == {
        "awareness": "page_viewed",
        "consideration": "product_added",
        "conversion": "purchase_completed",
    }
    a_page = next(iter(touchpoints_of(before, a)))
    awareness = [
        e
        for e in during["edges"]
        if e["type"] == "CONTRIBUTES_TO"
        and e["properties"]["occurred_at"].startswith("2026-11-22T10:00")
    ]
    assert len(awareness) == 1
    assert nodes_of(during, "Touchpoint")[a_page]["id"] == awareness[0]["source"]

    unmerged = await client.post(
        f"/v1/profiles/{a}/unmerge", json={"profile_id": b}, headers=tenant.secret
    )
    assert unmerged.status_code == 200, unmerged.text
    after = await graph(client, tenant)
    assert touchpoints_of(after, a) == touchpoints_of(before, a)
    assert touchpoints_of(after, b) == touchpoints_of(before, b)
    # The survivor's stage had been raised by history that was not its own: it moves back.
    assert (stage_of(after, a), stage_of(after, b)) == ("awareness", "conversion")
    assert contributions_of(after, a) == contributions_of(before, a)
    assert contributions_of(after, b) == contributions_of(before, b)
    assert after["stats"] == before["stats"]


async def test_a_redelivered_event_refreshes_instead_of_duplicating(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    who = {"identity": "again@x.io"}
    purchase = event(
        "track", 0, "Order Completed", {"order_id": "D-1", "total": 12}, message_id="dup-1", **who
    )
    first = await send(client, tenant, purchase)
    before = await graph(client, tenant)
    second = await send(client, tenant, purchase)
    assert second.get("duplicate") is True, second
    after = await graph(client, tenant)
    assert len(nodes_of(after, "Touchpoint")) == 1
    assert after["edges"] == before["edges"]
    # A redelivered purchase is not a repeat purchase.
    assert stage_of(after, first["profile_id"]) == "conversion"
    [node] = nodes_of(after, "Touchpoint").values()
    assert (
        node["properties"]["first_synced_at"]
        == (nodes_of(before, "Touchpoint")[node["key"]]["properties"]["first_synced_at"])
    )
    assert node["properties"]["sync_count"] == 2


async def attribution(client: httpx.AsyncClient, tenant: TenantKeys, query: str) -> dict[str, Any]:
    response = await client.get(f"/v1/intelligence/attribution?{query}", headers=tenant.secret)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def credits(rows: list[dict[str, Any]], key: str) -> dict[str, tuple[float, float]]:
    return {row[key]: (row["credit"], row["revenue"]) for row in rows}


async def test_attribution_per_model_on_a_hand_computed_example(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    # X: an email of campaign A, then a paid search ad of campaign B, then buys for 100.
    # Y: the paid search ad of campaign B, then buys for 50.
    x, y = {"identity": "x@x.io"}, {"identity": "y@x.io"}
    await send(
        client,
        tenant,
        page(0, "A", "email", **x),
        page(10, "B", "cpc", **x),
        event("track", 20, "Order Completed", {"order_id": "X-1", "total": 100}, **x),
        page(0, "B", "cpc", **y),
        event("track", 30, "Order Completed", {"order_id": "Y-1", "total": 50}, **y),
    )

    first = await attribution(client, tenant, "model=first_touch")
    assert (first["model"], first["conversions"], first["revenue"]) == ("first_touch", 2, 150.0)
    assert credits(first["campaigns"], "campaign_id") == {"A": (1.0, 100.0), "B": (1.0, 50.0)}
    assert credits(first["channels"], "channel") == {
        "email": (1.0, 100.0),
        "paid_search": (1.0, 50.0),
    }
    # Ordered by credit, then revenue.
    assert [row["campaign_id"] for row in first["campaigns"]] == ["A", "B"]

    last = await attribution(client, tenant, "model=last_touch&stage=conversion")
    assert credits(last["campaigns"], "campaign_id") == {"B": (2.0, 150.0)}
    assert credits(last["channels"], "channel") == {"paid_search": (2.0, 150.0)}

    linear = await attribution(client, tenant, "model=linear")
    assert credits(linear["campaigns"], "campaign_id") == {"B": (1.5, 100.0), "A": (0.5, 50.0)}
    assert credits(linear["channels"], "channel") == {
        "paid_search": (1.5, 100.0),
        "email": (0.5, 50.0),
    }

    decay = await attribution(client, tenant, "model=time_decay")
    # Half-life 7 days: X's email is 10 minutes older than its ad.
    weight = 2.0 ** (-(10 * 60) / (7 * 24 * 3600))
    share_a = weight / (1 + weight)
    got = credits(decay["campaigns"], "campaign_id")
    assert got["A"] == pytest.approx((share_a, 100 * share_a))
    assert got["B"] == pytest.approx((2 - share_a, 150 - 100 * share_a))
    assert math.fsum(c for c, _ in got.values()) == pytest.approx(2.0)

    # The window is on the conversion's time: [from, to).
    late = await attribution(client, tenant, "model=linear&from=2026-11-22T10:25:00Z")
    assert (late["conversions"], late["revenue"]) == (1, 50.0)
    early = await attribution(
        client, tenant, "model=linear&from=2026-11-22T10:00:00Z&to=2026-11-22T10:25:00Z"
    )
    assert (early["conversions"], early["revenue"]) == (1, 100.0)
    assert credits(early["campaigns"], "campaign_id") == {"A": (0.5, 50.0), "B": (0.5, 50.0)}
    none = await attribution(client, tenant, "model=linear&stage=retention")
    assert none["conversions"] == 0
    assert none["campaigns"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/v1/intelligence?mode=everything", "mode"),
        ("/v1/intelligence?mode=full&limit=0", "limit"),
        ("/v1/intelligence?limit=10001", "limit"),
        ("/v1/intelligence?limit=many", "limit"),
        ("/v1/intelligence/attribution?model=u_shaped", "model"),
        ("/v1/intelligence/attribution", "model"),
        ("/v1/intelligence/attribution?model=linear&stage=loyalty", "stage"),
        ("/v1/intelligence/attribution?model=linear&from=yesterday", "from"),
        ("/v1/intelligence/attribution?model=linear&to=2026-13-45", "to"),
        (
            "/v1/intelligence/attribution?model=linear&from=2026-11-02T00:00:00Z"
            "&to=2026-11-01T00:00:00Z",
            "to",
        ),
    ],
)
async def test_bad_parameters_are_422(
    client: httpx.AsyncClient, tenant: TenantKeys, query: str, field: str
) -> None:
    response = await client.get(query, headers=tenant.secret)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize("path", ["/v1/intelligence", "/v1/intelligence/attribution?model=linear"])
async def test_a_secret_key_is_required(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    assert (await client.get(path, headers=tenant.public)).status_code == 403
    assert (await client.get(path)).status_code == 401


async def test_a_tenant_sees_nothing_of_another(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await send(
        client,
        tenant,
        page(0, "secret-campaign", "cpc", identity="iso@x.io"),
        event("track", 1, "Order Completed", {"order_id": "I-1", "total": 3}, identity="iso@x.io"),
    )
    assert len((await graph(client, tenant))["nodes"]) > 0
    for mode in ("summary", "full"):
        theirs = await graph(client, other_tenant, mode)
        assert (theirs["nodes"], theirs["edges"]) == ([], [])
        assert set(theirs["stats"]["nodes"].values()) == {0}
        assert theirs["stats"]["campaigns"] == []
    nothing = await attribution(client, other_tenant, "model=linear")
    assert (nothing["conversions"], nothing["revenue"], nothing["campaigns"]) == (0, 0.0, [])


async def test_native_events_answer_their_touchpoint(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """POST /v1/events names the Touchpoint node each event became (a redelivery names the
    same one); an event with no customer has none."""
    body = {
        "type": "track",
        "action": "email_opened",
        "email": "touch@example.com",
        "campaignId": "spring-sale",
        "channel": "email",
        "messageId": "touch-1",
    }
    first = await client.post("/v1/events", json=body, headers=tenant.secret)
    again = await client.post("/v1/events", json=body, headers=tenant.secret)
    assert first.status_code == again.status_code == 200, first.text
    result, repeat = first.json()["results"][0], again.json()["results"][0]
    assert result["touchpoint_id"] is not None
    assert repeat["duplicate"] is True
    assert repeat["touchpoint_id"] == result["touchpoint_id"]

    view = await graph(client, tenant)
    touchpoint = {n["id"]: n for n in view["nodes"]}[result["touchpoint_id"]]
    assert touchpoint["type"] == "Touchpoint"
    assert touchpoint["key"] == result["event_id"]
    assert touchpoint["properties"]["sync_count"] == 2


async def test_the_view_is_bounded_and_says_so_while_stats_count_everything(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """limit=2 over three customers of two touchpoints each: the newest two customers, the
    newest two touchpoints, only the edges between returned nodes; stats of the whole graph."""
    for person in range(3):
        who = {"anonymous_id": f"bounded-{person}"}
        await send(client, tenant, page(2 * person, "fall", "cpc", **who))
        await send(client, tenant, page(2 * person + 1, "fall", "cpc", **who))
    whole = await graph(client, tenant)
    assert whole["truncated"] is False
    bounded = (await client.get("/v1/intelligence?mode=full&limit=2", headers=tenant.secret)).json()
    assert bounded["truncated"] is True
    assert bounded["stats"] == whole["stats"]
    assert bounded["stats"]["nodes"]["Touchpoint"] == 6

    def newest(node_type: str) -> list[str]:
        keys = [n["key"] for n in whole["nodes"] if n["type"] == node_type]
        return sorted(keys, reverse=True)[:2]

    kept = {n["id"]: n for n in bounded["nodes"]}
    for node_type in ("Customer", "Touchpoint"):
        assert sorted(
            (n["key"] for n in kept.values() if n["type"] == node_type), reverse=True
        ) == newest(node_type)
    assert {n["key"] for n in kept.values() if n["type"] == "Campaign"} == {"fall"}
    assert bounded["edges"], "the edges between returned nodes are kept"
    for edge in bounded["edges"]:
        assert edge["source"] in kept, edge
        assert edge["target"] in kept, edge
    summary = (await client.get("/v1/intelligence?limit=2", headers=tenant.secret)).json()
    assert {n["type"] for n in summary["nodes"]} == {"Customer", "Campaign", "Channel", "Stage"}
    assert summary["truncated"] is True
