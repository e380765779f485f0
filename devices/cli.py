"""`territory simulate` (placeholder until the simulator lands)."""

from __future__ import annotations

import typer


def simulate(mqtt: str | None = typer.Option(None, "--mqtt")) -> None:
    """Run a simulated territory."""
    raise typer.Exit(1)
