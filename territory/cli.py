"""`territory`: one command, a subcommand per component."""

from __future__ import annotations

import typer

from dashboard.cli import dashboard, secure_token
from devices.cli import inventory_export, simulate
from devices.inventory import accept_scenarios
from ingest.cli import ingest
from optimiser.cli import optimise_app
from territory.commands import broker, demo, query_app
from territory.store_cli import store_app

app = typer.Typer(
    name="territory",
    help="Soft Territory: sensors in over MQTT, shared capacities re-allocated out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
secure_app = typer.Typer(help="Credentials: console access tokens.", no_args_is_help=True)
secure_app.command("token")(secure_token)

app.command()(demo)
app.command()(broker)
app.command()(ingest)
app.command()(simulate)
app.command()(dashboard)
app.add_typer(optimise_app, name="optimise")
app.add_typer(query_app, name="query")
app.add_typer(store_app, name="store")
app.add_typer(secure_app, name="secure")

inventory_app = typer.Typer(help="The territory's inventory: zones, devices and their limits.")
inventory_app.command("export")(inventory_export)
app.add_typer(inventory_app, name="inventory")

# Wherever a command asks for an inventory file, a scenario file is accepted too.
accept_scenarios()
