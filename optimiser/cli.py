"""`territory optimise` (placeholder until the optimiser lands)."""

from __future__ import annotations

import typer

optimise_app = typer.Typer(help="Run the optimiser.")
