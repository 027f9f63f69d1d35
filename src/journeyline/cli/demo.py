"""journeyline demo: a tenant filled with a month of a shop's customers, through the pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

import typer

from journeyline.cli.db import ready_database
from journeyline.cli.tenants import print_keys
from journeyline.config import Settings, get_settings
from journeyline.demo import service as demo
from journeyline.demo.service import DemoReport
from journeyline.store.db import Database
from journeyline.tenancy.service import CreatedTenant


async def run_demo(
    settings: Settings, name: str | None, secret_key: str | None, seed: int
) -> tuple[CreatedTenant | None, DemoReport]:
    database = Database.from_settings(settings)
    try:
        created: CreatedTenant | None = None
        if secret_key is not None:
            tenant_id = await demo.tenant_of_secret_key(database, secret_key)
            if tenant_id is None:
                raise typer.BadParameter("no tenant has this secret key", param_hint="--secret-key")
        else:
            created = await demo.create_tenant(database, name or demo.DEFAULT_TENANT_NAME)
            tenant_id = created.tenant_id
        report = await demo.fill_tenant(
            database, settings, tenant_id, seed=seed, now=datetime.now(UTC)
        )
        return created, report
    finally:
        await database.dispose()


def _counts(counts: Mapping[str, int]) -> str:
    return " · ".join(f"{count:,} {name}" for name, count in counts.items() if count)


def print_report(report: DemoReport, dashboard: str) -> None:
    totals = report.totals
    deliveries = sum(report.deliveries.values())
    typer.echo(
        f"\ndemo data (seed {report.seed}): {report.visitors} visitors, {report.people} of them "
        f"identified\n"
        f"  this run  {report.events_stored:,} events stored, {report.events_duplicate:,} already "
        f"there · {deliveries} webhook deliveries ({_counts(report.deliveries)}) · "
        f"{report.merges} merges · {report.abandoned} carts abandoned"
    )
    currency = f" {totals.board.currency}" if totals.board.currency else ""
    deals = " · ".join(
        f"{column.count} {column.stage} ({column.amount:,.2f}{currency})"
        for column in totals.board.stages
        if column.count
    )
    typer.echo(
        f"profiles    {sum(totals.profiles.values()):,}: {_counts(totals.profiles)}\n"
        f"events      {totals.events:,}\n"
        f"orders      {_counts(totals.orders)}\n"
        f"deals       {deals}\n"
        f"graph       {_counts(totals.graph_nodes)}\n"
        f"\nnext: `journeyline serve` (if it is not running), then open {dashboard} and sign in "
        "with the secret key"
    )


def demo_command(
    tenant_name: Annotated[
        str | None,
        typer.Option(
            "--tenant-name", help=f"The new tenant's name (default {demo.DEFAULT_TENANT_NAME})."
        ),
    ] = None,
    secret_key: Annotated[
        str | None,
        typer.Option("--secret-key", help="Fill this key's tenant instead of creating one."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Another seed, another data set of the same shape.")
    ] = demo.DEFAULT_SEED,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help=(
                "The address journeyline serves at, for the dashboard link printed at the end "
                "(default http://JOURNEYLINE_HOST:JOURNEYLINE_PORT, else http://127.0.0.1:8000)."
            ),
        ),
    ] = None,
) -> None:
    """Create a tenant (or take the one of --secret-key) and send it 30 days of a shop's
    visitors, identities, Stripe and Shopify purchases and abandoned carts, through the real
    pipeline. Safe to run again on the same tenant: the same seed adds nothing."""
    if tenant_name is not None and secret_key is not None:
        raise typer.BadParameter("give --tenant-name or --secret-key, not both")
    if tenant_name is not None and not 1 <= len(tenant_name.strip()) <= 200:
        raise typer.BadParameter("the name must hold 1 to 200 characters")
    settings = get_settings()
    ready_database(settings)
    name = tenant_name.strip() if tenant_name else None
    created, report = asyncio.run(run_demo(settings, name, secret_key, seed))
    if created is not None:
        print_keys(created)
    else:
        typer.echo(f"tenant     {report.tenant_id} (the secret key's; its keys are unchanged)")
    base = (url or f"http://{settings.host}:{settings.port}").rstrip("/")
    print_report(report, f"{base}/app")
