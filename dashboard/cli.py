"""`territory dashboard` (placeholder until the console lands)."""

from __future__ import annotations

import typer


def dashboard(
    store: str | None = typer.Option(
        None, "--store", help="sqlite:///PATH or influx://HOST:PORT/DB"
    ),
) -> None:
    """Serve the operator console."""
    raise typer.Exit(1)
