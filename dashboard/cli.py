"""`territory dashboard`: serve the operator console."""

from __future__ import annotations

from pathlib import Path

import typer


def dashboard(
    store: str | None = typer.Option(
        None, "--store", help="sqlite:///PATH or influx://HOST:PORT/DB (default: settings)."
    ),
    host: str | None = typer.Option(None, help="Address to listen on (default: settings)."),
    port: int | None = typer.Option(None, help="Port to listen on (default: settings)."),
    territory_file: Path | None = typer.Option(
        None,
        "--inventory",
        "--territory",
        help="Inventory (or scenario) whose zones are drawn and limits checked (default: settings).",
    ),
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="Broker the optimiser runs triggered from the console publish to."
    ),
    console_config: Path = typer.Option(
        Path("config/console.yaml"), "--console-config", help="Tokens, limits and alert rules."
    ),
    opendata_config: Path = typer.Option(
        Path("config/opendata.yaml"),
        "--opendata-config",
        help="Licence, privacy rules (k) and map origin of the open data.",
    ),
) -> None:
    """Serve the operator console: live pages, REST API (/docs), /healthz and /metrics."""
    import logging

    import uvicorn

    from dashboard.app import create_app
    from dashboard.config import ConsoleConfig, ConsoleConfigError, load_console_config
    from dashboard.opendata.config import load_opendata_config
    from dashboard.territory_map import TerritoryMapError
    from territory.documents import DocumentError
    from territory.settings import load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings()
    try:
        config = load_console_config(console_config) if console_config.exists() else ConsoleConfig()
    except ConsoleConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        opendata = load_opendata_config(opendata_config)
    except DocumentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not config.tokens:
        logging.getLogger("dashboard").warning(
            "no access tokens configured: anyone who reaches the console may read and operate"
        )
    try:
        app = create_app(
            store or settings.store_url,
            territory_file=territory_file or settings.inventory_file,
            config=config,
            mqtt_url=mqtt or settings.mqtt_url,
            opendata=opendata,
        )
    except TerritoryMapError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    uvicorn.run(
        app,
        host=host or settings.dashboard.host,
        port=port or settings.dashboard.port,
        log_level="info",
        timeout_graceful_shutdown=3,
    )
