"""The simulator's plug-in to the `territory` command (entry point group `territory.shell`,
declared in pyproject.toml): its commands, and scenario files accepted wherever an
inventory file is asked for. The shell finds it through the installed package's metadata,
so that nothing outside `devices/` names the simulator, and an install without it keeps
every other command."""

from __future__ import annotations

import typer

from devices.cli import inventory_export, simulate
from devices.inventory import accept_scenarios


def register(app: typer.Typer, inventory_app: typer.Typer) -> None:
    """Add `territory simulate` and `territory inventory export`; accept scenario files."""
    accept_scenarios()
    app.command()(simulate)
    inventory_app.command("export")(inventory_export)
