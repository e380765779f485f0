"""`territory dashboard`: serve the operator console."""

from __future__ import annotations

import os
from pathlib import Path

import typer


def dashboard(
    store: str | None = typer.Option(
        None, "--store", help="sqlite:///PATH or influx://HOST:PORT/DB (default: settings)."
    ),
    host: str | None = typer.Option(None, help="Address to listen on (default: settings)."),
    port: int | None = typer.Option(None, help="Port to listen on (default: settings)."),
    territory_file: Path | None = typer.Option(
        None, "--territory", help="Scenario file whose zones are drawn (default: settings)."
    ),
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="Broker the optimiser runs triggered from the console publish to."
    ),
    mqtt_auth: Path | None = typer.Option(
        None,
        "--mqtt-auth",
        help="Account file the triggered optimiser runs use (the optimiser's account).",
    ),
    console_config: Path = typer.Option(
        Path("config/console.yaml"), "--console-config", help="Tokens, limits and alert rules."
    ),
) -> None:
    """Serve the operator console: live pages, REST API (/docs), /healthz and /metrics."""
    import logging

    import uvicorn

    from dashboard.app import create_app
    from dashboard.config import ConsoleConfig, ConsoleConfigError, load_console_config
    from dashboard.territory_map import TerritoryMapError
    from territory.settings import load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings()
    mqtt_url = mqtt or settings.mqtt_url
    try:
        _hand_broker_account_to_runs(mqtt_url, mqtt_auth or settings.mqtt_auth_file)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        config = load_console_config(console_config) if console_config.exists() else ConsoleConfig()
    except ConsoleConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not config.tokens:
        logging.getLogger("dashboard").warning(
            "no access tokens configured: anyone who reaches the console may read and operate"
        )
    try:
        app = create_app(
            store or settings.store_url,
            territory_file=territory_file or settings.territory_file,
            config=config,
            mqtt_url=mqtt_url,
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


def _hand_broker_account_to_runs(mqtt_url: str, account: Path | None) -> None:
    """Check the broker address now, and let triggered runs find the account file.

    The console itself holds no MQTT connection; the runs it starts are `territory
    optimise` processes, which inherit the environment. The file's path travels there,
    never the password (which would show in the process list)."""
    from territory.bus import BrokerAddress
    from territory.settings import AUTH_FILE_ENV

    BrokerAddress.from_url(
        mqtt_url, account
    )  # a wrong URL or account file fails at start, not per run
    if account is not None:
        os.environ[AUTH_FILE_ENV] = str(account.resolve())
