"""`territory`: one command, a subcommand per component."""

from __future__ import annotations

import typer

from bridges.ocpp.cli import ocpp
from dashboard.cli import dashboard
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
app.command()(demo)
app.command()(broker)
app.command()(ingest)
app.command()(simulate)
app.command()(dashboard)
app.command()(ocpp)
app.add_typer(optimise_app, name="optimise")
app.add_typer(query_app, name="query")
