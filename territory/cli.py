"""`territory`: one command, a subcommand per component."""

from __future__ import annotations

import typer

from dashboard.cli import dashboard, secure_token
from devices.cli import simulate
from ingest.cli import ingest
from optimiser.cli import optimise_app
from territory.commands import broker, demo, query_app

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
app.add_typer(secure_app, name="secure")
