"""`territory`: one command, a subcommand per component."""

from __future__ import annotations

import os
from enum import StrEnum
from importlib.metadata import entry_points

import typer

from bridges.gbfs.cli import gbfs_app
from bridges.lorawan.cli import lorawan
from bridges.ocpp.cli import ocpp
from dashboard.cli import dashboard, secure_token
from ingest.cli import ingest
from optimiser.cli import optimise_app
from territory.query import query_app
from territory.secure.cli import secure_app
from territory.shell.commands import broker, demo
from territory.store_cli import store_app

app = typer.Typer(
    name="territory",
    help="Soft Territory: sensors in over MQTT, shared capacities re-allocated out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
secure_app.command("token")(secure_token)


class LogFormatOption(StrEnum):
    text = "text"
    json = "json"


@app.callback()
def shell(
    log_format: LogFormatOption | None = typer.Option(
        None,
        "--log-format",
        help="Log lines as text or JSON, for every component this command starts "
        "(default: the log_format setting).",
    ),
) -> None:
    """Soft Territory: sensors in over MQTT, shared capacities re-allocated out."""
    if log_format is not None:
        # Through the environment, so that the processes a command starts log alike.
        os.environ["TERRITORY_LOG_FORMAT"] = log_format.value


app.command()(demo)
app.command()(broker)
app.command()(ingest)
app.command()(dashboard)
app.command()(ocpp)
app.add_typer(optimise_app, name="optimise")
app.add_typer(query_app, name="query")
app.add_typer(store_app, name="store")
app.add_typer(secure_app, name="secure")
app.add_typer(gbfs_app, name="gbfs")
app.command()(lorawan)

inventory_app = typer.Typer(help="The territory's inventory: zones, devices and their limits.")
app.add_typer(inventory_app, name="inventory")

# Components installed beside the core add their own commands: the simulator adds
# `simulate` and `inventory export`, and has scenario files accepted as inventories.
PLUG_IN_GROUP = "territory.shell"
for _plug_in in entry_points(group=PLUG_IN_GROUP):
    _plug_in.load()(app, inventory_app)
