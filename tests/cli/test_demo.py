"""journeyline demo: a month of a shop's data through the real pipeline, and nothing more when
run again; the command itself on a fresh directory and on PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from journeyline.cli import app as cli_app
from journeyline.config import Settings
from journeyline.demo import service as demo
from journeyline.demo import shop
from journeyline.demo.service import DemoReport
from journeyline.graph import service as graph_service
from journeyline.store.db import Database
from journeyline.store.models import (
    CrmCompany,
    CrmDeal,
    CrmPerson,
    Event,
    Order,
    Product,
    Profile,
    ProfileMerge,
    ProfileStage,
    SharedNode,
    TouchpointSync,
    WebhookConnection,
    WebhookDelivery,
)
from tests.cli.test_commands import ENTRY, clean_env

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
SEED = 7
CAMPAIGNS = {campaign.name for campaign in shop.CAMPAIGNS}

# Every table a run writes to: a second run must leave each exactly as it was.
TABLES = (
    Event,
    Profile,
    ProfileMerge,
    Order,
    Product,
    CrmPerson,
    CrmCompany,
    CrmDeal,
    SharedNode,
    ProfileStage,
    TouchpointSync,
    WebhookConnection,
)


async def rows(database: Database, tenant_id: uuid.UUID, model: Any, *where: Any) -> list[Any]:
    async with database.read() as session:
        statement = select(model).where(model.tenant_id == tenant_id, *where)
        return list((await session.scalars(statement)).all())


async def snapshot(database: Database, tenant_id: uuid.UUID) -> dict[str, Any]:
    """Row counts per table, and the states that matter, of one tenant."""
    counts: dict[str, Any] = {}
    async with database.read() as session:
        for model in TABLES:
            statement = select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
            counts[model.__tablename__] = await session.scalar(statement)
    counts["touchpoints"] = len(
        await rows(database, tenant_id, Event, Event.profile_id.is_not(None))
    )
    counts["profile_status"] = Counter(p.status for p in await rows(database, tenant_id, Profile))
    counts["order_status"] = Counter(o.status for o in await rows(database, tenant_id, Order))
    counts["deal_stage"] = Counter(d.stage for d in await rows(database, tenant_id, CrmDeal))
    return counts


@dataclass(frozen=True)
class Filled:
    tenant_id: uuid.UUID
    first: DemoReport
    again: DemoReport
    later: DemoReport
    after_first: dict[str, Any]
    after_all: dict[str, Any]


@pytest.fixture(scope="module")
async def filled(database: Database, settings: Settings) -> Filled:
    """One demo tenant, filled once, then again with the same `now`, then a week later."""
    created = await demo.create_tenant(database, "Demo")
    tenant_id = created.tenant_id
    first = await demo.fill_tenant(database, settings, tenant_id, seed=SEED, now=NOW)
    after_first = await snapshot(database, tenant_id)
    again = await demo.fill_tenant(database, settings, tenant_id, seed=SEED, now=NOW)
    later = await demo.fill_tenant(
        database, settings, tenant_id, seed=SEED, now=NOW + timedelta(days=7)
    )
    return Filled(tenant_id, first, again, later, after_first, await snapshot(database, tenant_id))


async def test_identified_visitors_shadows_merge_into_their_anchors(
    database: Database, filled: Filled
) -> None:
    profiles = await rows(database, filled.tenant_id, Profile)
    by_id = {profile.id: profile for profile in profiles}
    merged = [profile for profile in profiles if profile.status == "merged"]
    assert Counter(p.status for p in profiles)["anchor"] == filled.first.people == 15
    assert len(merged) == filled.first.merges >= 10
    assert all(
        p.merged_into is not None and by_id[p.merged_into].status == "anchor" for p in merged
    )
    journal = await rows(database, filled.tenant_id, ProfileMerge)
    assert {entry.from_profile_id for entry in journal} == {p.id for p in merged}
    # The anonymous visitors who never said who they are stay shadows.
    assert Counter(p.status for p in profiles)["shadow"] >= 20


async def test_orders_complete_from_stripe_shopify_and_the_browser(
    database: Database, filled: Filled
) -> None:
    orders = await rows(database, filled.tenant_id, Order, Order.status == "completed")
    assert Counter(order.source for order in orders) == {"stripe": 4, "shopify": 3, "web": 4}
    assert all(order.total and order.currency == "USD" for order in orders)
    # Shopify's line items and the storefront's views name the same catalogue entries.
    products = await rows(database, filled.tenant_id, Product)
    assert len(products) == 8
    assert not any(product.skeleton for product in products)


async def test_idle_carts_are_abandoned_once_and_their_deals_lost(
    database: Database, filled: Filled
) -> None:
    carts = await rows(database, filled.tenant_id, Order, Order.status == "incomplete")
    abandoned = await rows(
        database, filled.tenant_id, Event, Event.event_type == "purchase_abandoned"
    )
    assert filled.first.abandoned == len(carts) == 5
    assert all(cart.abandoned_at is not None for cart in carts)
    assert sorted(event.payload["order_id"] for event in abandoned) == sorted(
        cart.order_id for cart in carts
    )
    lost = await rows(database, filled.tenant_id, CrmDeal, CrmDeal.stage == "lost")
    assert {deal.key for deal in lost} == {f"order:{cart.order_id}" for cart in carts}
    stages = {event.payload["stage_abandoned"] for event in abandoned}
    assert stages == {"cart", "checkout"}


async def test_the_cancelled_subscription_is_a_cancelled_deal_of_a_churned_person(
    database: Database, filled: Filled
) -> None:
    [deal] = await rows(database, filled.tenant_id, CrmDeal, CrmDeal.kind == "subscription")
    # A cancellation after the sale leaves the deal won, flagged cancelled (decision 27).
    assert (deal.stage, deal.cancelled, deal.name) == ("won", True, "Trailhead Club Monthly")
    assert (deal.amount, deal.currency) == (12.0, "USD")
    [person] = await rows(
        database, filled.tenant_id, CrmPerson, CrmPerson.profile_id == deal.profile_id
    )
    assert person.lifecycle_stage == "churned"
    types = Counter(
        event.event_type
        for event in await rows(database, filled.tenant_id, Event, Event.source == "stripe")
    )
    assert types == {
        "purchase_completed": 4,
        "subscription_created": 1,
        "subscription_cancelled": 1,
    }


async def test_every_identified_person_is_in_the_crm_some_with_their_company(
    database: Database, filled: Filled
) -> None:
    persons = await rows(database, filled.tenant_id, CrmPerson)
    companies = await rows(database, filled.tenant_id, CrmCompany)
    assert len(persons) == 15
    assert all(person.email and person.name for person in persons)
    assert sum(person.phone is not None for person in persons) == 2
    assert {company.id for company in companies} == {
        person.company_id for person in persons if person.company_id is not None
    }
    assert companies
    assert all(company.domain and not company.domain.endswith("gmail.com") for company in companies)
    assert Counter(person.lifecycle_stage for person in persons)["customer"] >= 8


async def test_the_graph_holds_the_campaigns_channels_and_every_stage(
    database: Database, filled: Filled
) -> None:
    async with database.read() as session:
        view = await graph_service.intelligence(session, filled.tenant_id, "full", 10_000)
    keys: dict[str, set[str]] = {}
    for node in view.nodes:
        keys.setdefault(node.type, set()).add(node.key)
    assert keys["Campaign"] == CAMPAIGNS
    assert {"paid_search", "email", "social", "direct", "stripe", "shopify"} <= keys["Channel"]
    assert keys["Stage"] == {"awareness", "interest", "consideration", "conversion", "retention"}
    # One customer per surviving profile, one touchpoint per event of a customer.
    status = filled.after_all["profile_status"]
    assert len(keys["Customer"]) == status["anchor"] + status["shadow"]
    events = await rows(database, filled.tenant_id, Event, Event.profile_id.is_not(None))
    assert len(keys["Touchpoint"]) == len(events) == view.stats.nodes["Touchpoint"]


async def test_deliveries_are_signed_verified_and_recorded(
    database: Database, filled: Filled
) -> None:
    connections = await rows(database, filled.tenant_id, WebhookConnection)
    assert sorted(c.provider for c in connections) == ["shopify", "stripe"]
    deliveries = await rows(database, filled.tenant_id, WebhookDelivery)
    assert all(delivery.verified for delivery in deliveries)
    assert filled.first.deliveries == {"accepted": 9}
    # A redelivery is recorded again, as the duplicate it is (decision 23).
    assert Counter(d.outcome for d in deliveries) == {"accepted": 9, "duplicate": 18}
    shopify = [d for d in deliveries if d.provider == "shopify"]
    assert {d.headers["x-shopify-topic"] for d in shopify} == {"orders/paid"}


async def test_running_it_again_adds_nothing(filled: Filled) -> None:
    for report in (filled.again, filled.later):
        assert report.events_stored == 0
        assert report.events_duplicate == filled.first.events_stored
        assert (report.merges, report.abandoned) == (0, 0)
        assert report.deliveries == {"duplicate": 9}
    # Every touchpoint but the abandonments (emitted once per cart, by the sweep, never sent
    # again) was delivered again: each has a re-sync counter now, and nothing else changed.
    resynced = filled.after_all.pop("graph_touchpoint_syncs")
    assert filled.after_first.pop("graph_touchpoint_syncs") == 0
    assert resynced == filled.after_first["touchpoints"] - filled.first.abandoned
    assert filled.after_all == filled.after_first
    assert filled.first.totals.events == filled.after_first["events"]


async def test_another_seed_is_another_data_set_in_the_same_tenant(
    database: Database, settings: Settings
) -> None:
    created = await demo.create_tenant(database, "Two seeds")
    one = await demo.fill_tenant(database, settings, created.tenant_id, seed=1, now=NOW)
    two = await demo.fill_tenant(database, settings, created.tenant_id, seed=2, now=NOW)
    assert two.events_duplicate == 0
    assert two.totals.events > one.totals.events
    # The connections the first seed made sign the second's deliveries too.
    assert len(await rows(database, created.tenant_id, WebhookConnection)) == 2


async def test_a_public_key_names_no_tenant_to_fill(database: Database) -> None:
    created = await demo.create_tenant(database, "Keys")
    assert await demo.tenant_of_secret_key(database, created.secret_key) == created.tenant_id
    assert await demo.tenant_of_secret_key(database, created.public_key) is None
    assert await demo.tenant_of_secret_key(database, "sk_unknown") is None


def test_the_command_refuses_a_name_and_a_key_together() -> None:
    result = CliRunner().invoke(cli_app, ["demo", "--tenant-name", "A", "--secret-key", "sk_x"])
    assert result.exit_code != 0
    assert "not both" in result.output


def run_demo(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ENTRY, "demo", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def assert_filled_then_unchanged(env: dict[str, str], cwd: Path) -> None:
    first = run_demo(env, cwd, "--tenant-name", "Shop", "--seed", "3")
    assert first.returncode == 0, first.stdout + first.stderr
    assert re.search(r"public key pk_\S+", first.stdout)
    secret = re.search(r"secret key (sk_\S+)", first.stdout)
    assert secret, first.stdout
    assert "Shop" in first.stdout
    assert re.search(r"this run  [1-9][\d,]* events stored, 0 already there", first.stdout)
    assert "9 webhook deliveries (9 accepted)" in first.stdout
    assert "5 carts abandoned" in first.stdout
    assert re.search(r"profiles .*anchor.*merged.*shadow", first.stdout)
    assert "open http://127.0.0.1:8000/app and sign in with the secret key" in first.stdout
    # It names the server it was told about, not the default address.
    again = run_demo(
        env, cwd, "--secret-key", secret.group(1), "--seed", "3", "--url", "http://127.0.0.1:8010/"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "open http://127.0.0.1:8010/app and sign in" in again.stdout
    assert re.search(r"this run  0 events stored", again.stdout)
    assert "0 merges · 0 carts abandoned" in again.stdout
    assert "9 webhook deliveries (9 duplicate)" in again.stdout
    unknown = run_demo(env, cwd, "--secret-key", "sk_nobody")
    assert unknown.returncode != 0
    assert "no tenant has this secret key" in unknown.stderr


def test_demo_on_a_fresh_directory_migrates_fills_and_is_safe_to_run_again(
    tmp_path: Path,
) -> None:
    env = clean_env(JOURNEYLINE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    assert_filled_then_unchanged(env, tmp_path)
    assert (tmp_path / "demo.db").exists()


@pytest.mark.postgres
def test_demo_fills_a_tenant_on_postgresql(database_url: str, tmp_path: Path) -> None:
    assert_filled_then_unchanged(clean_env(JOURNEYLINE_DATABASE_URL=database_url), tmp_path)
