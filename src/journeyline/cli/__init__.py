"""The journeyline command: serve, worker, import, rebuild, abandon-sweep, demo, db, tenants,
keys."""

from __future__ import annotations

import typer

from journeyline.cli import abandon, db, demo, importer, keys, rebuild, serve, tenants, worker
from journeyline.cli.usage import Command

app = typer.Typer(help="journeyline, a customer data platform.", no_args_is_help=True)
app.command("serve", cls=Command)(serve.serve)
app.command("worker", cls=Command)(worker.worker)
app.command("import", cls=Command)(importer.import_command)
app.command("rebuild", cls=Command)(rebuild.rebuild_command)
app.command("abandon-sweep", cls=Command)(abandon.abandon_command)
app.command("demo", cls=Command)(demo.demo_command)
app.add_typer(db.app, name="db")
app.add_typer(tenants.app, name="tenants")
app.add_typer(keys.app, name="keys")


def main() -> None:
    app()
