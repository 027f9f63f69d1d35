"""The journeyline command: serve, worker, import, rebuild, abandon-sweep, demo, db, tenants,
keys."""

from __future__ import annotations

import typer

from journeyline.cli import abandon, db, demo, importer, keys, rebuild, serve, tenants, worker

app = typer.Typer(help="journeyline, a customer data platform.", no_args_is_help=True)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("import")(importer.import_command)
app.command("rebuild")(rebuild.rebuild_command)
app.command("abandon-sweep")(abandon.abandon_command)
app.command("demo")(demo.demo_command)
app.add_typer(db.app, name="db")
app.add_typer(tenants.app, name="tenants")
app.add_typer(keys.app, name="keys")


def main() -> None:
    app()
