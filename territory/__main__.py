"""`python -m territory` runs the CLI (the demo starts its components this way)."""

from territory.shell.cli import app

app()
