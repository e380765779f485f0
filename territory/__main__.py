"""`python -m territory` runs the CLI (the demo starts its components this way)."""

from territory.cli import app

app()
