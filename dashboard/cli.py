"""`territory dashboard`: serve the operator console; `territory secure token`: make a token."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, NoReturn

import typer

from dashboard.config import DEFAULT_CONSOLE_CONFIG
from territory.logs import configure_logging

RoleOption = Literal["viewer", "operator"]


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
    mqtt_auth: Path | None = typer.Option(
        None,
        "--mqtt-auth",
        help="Account file the triggered optimiser runs use (the optimiser's account).",
    ),
    console_config: Path = typer.Option(
        DEFAULT_CONSOLE_CONFIG,
        "--console-config",
        help="Tokens (hashed), limits and alert rules. The console refuses to start without"
        " a token.",
    ),
    tls_cert: Path | None = typer.Option(
        None, "--tls-cert", help="Serve HTTPS with this certificate (PEM, chain included)."
    ),
    tls_key: Path | None = typer.Option(
        None, "--tls-key", help="The certificate's private key (PEM); with --tls-cert."
    ),
    opendata_config: Path = typer.Option(
        Path("config/opendata.yaml"),
        "--opendata-config",
        help="Licence, privacy rules (k) and map origin of the open data.",
    ),
) -> None:
    """Serve the operator console: live pages, REST API (/docs), /healthz and /metrics."""

    import uvicorn

    from dashboard.app import create_app
    from dashboard.config import ConsoleConfigError, load_console_config, require_tokens
    from dashboard.opendata.config import load_opendata_config
    from dashboard.territory_map import TerritoryMapError
    from territory.collector import tune_collector
    from territory.documents import DocumentError
    from territory.settings import load_settings

    configure_logging("dashboard", load_settings().log_format)
    if (tls_cert is None) != (tls_key is None):
        _fail("--tls-cert and --tls-key go together: give both or neither")
    for given in (tls_cert, tls_key):
        if given is not None and not given.is_file():
            _fail(f"{given}: no such file")
    settings = load_settings()
    mqtt_url = mqtt or settings.mqtt_url
    try:
        _hand_broker_account_to_runs(mqtt_url, mqtt_auth or settings.mqtt_auth_file)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        opendata = load_opendata_config(opendata_config)
    except DocumentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        config = load_console_config(console_config)
        require_tokens(config, console_config)
        app = create_app(
            store or settings.store_url,
            territory_file=territory_file or settings.inventory_file,
            config=config,
            mqtt_url=mqtt_url,
            opendata=opendata,
        )
    except (ConsoleConfigError, TerritoryMapError) as exc:
        _fail(str(exc))
    tune_collector()  # its history queries make many short-lived objects
    uvicorn.run(
        app,
        host=host or settings.dashboard.host,
        port=port or settings.dashboard.port,
        log_level="info",
        log_config=None,  # uvicorn's loggers go through ours: one format, secrets masked
        timeout_graceful_shutdown=3,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )


def secure_token(
    role: RoleOption = typer.Option(..., "--role", help="viewer (read only) or operator."),
    name: str | None = typer.Option(
        None, "--name", help="Who will hold it, as the logs will name them (default: the role)."
    ),
) -> None:
    """Make a console access token: prints it once, and the line for the configuration."""
    import yaml

    from dashboard.config import TokenSpec
    from territory.tokens import hash_token, new_token

    token = new_token()
    spec = TokenSpec(name=name or role, role=role, token_hash=hash_token(token))
    line = yaml.safe_dump([spec.model_dump()], default_flow_style=None, width=200).strip()
    typer.echo(f"token: {token}")
    typer.echo("  (shown this once: give it to its holder; only its hash is kept)")
    typer.echo(f"add under `tokens:` in the console configuration ({DEFAULT_CONSOLE_CONFIG}):")
    typer.echo(f"  {line}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


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
