"""`territory secure`: generate the secured broker set-up."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

secure_app = typer.Typer(
    help="Secure set-ups: broker identities, least-privilege ACLs and TLS.",
    no_args_is_help=True,
)


@secure_app.command("init")
def init_command(
    inventory: Path = typer.Option(
        ..., "--inventory", help="Inventory (or scenario) file: one account per device."
    ),
    out: Path = typer.Option(..., "--out", help="Folder to write the set-up into."),
    port: int = typer.Option(8883, "--port", help="TLS port for devices and the twin."),
    service_port: int | None = typer.Option(
        None, "--service-port", help="TLS port for ingest, optimiser, console (default port+1)."
    ),
    host: str = typer.Option(
        "localhost", "--host", help="Broker host name clients dial (in the certificate)."
    ),
    alt_names: list[str] = typer.Option(
        [], "--alt-name", help="Another name the certificate is valid for (repeatable)."
    ),
    container_root: str | None = typer.Option(
        None,
        "--container-root",
        help="Where containers mount DIR: mosquitto.conf and the account files name their "
        "paths under it (docker-compose.yml uses /etc/territory/broker).",
    ),
    local_port: int | None = typer.Option(
        None,
        "--local-port",
        help="Also listen in plaintext on 127.0.0.1:PORT for services on the broker's host.",
    ),
    rotate: list[str] = typer.Option(
        [], "--rotate", help="Issue new credentials for this account only (repeatable)."
    ),
    simulator: bool = typer.Option(
        True, "--simulator/--no-simulator", help="Issue an account for the twin's gateway."
    ),
    bridge: list[str] = typer.Option(
        [], "--bridge", help="Issue an account for this protocol bridge: ocpp, gbfs, lorawan."
    ),
    broker_user: str | None = typer.Option(
        None,
        "--broker-user",
        help="Account the broker runs as when started as root (default: mosquitto, when "
        "init runs as root).",
    ),
    max_queued_messages: int | None = typer.Option(
        None, help="Messages queued per client (default 2,000,000)."
    ),
    max_queued_bytes: int | None = typer.Option(
        None, help="Bytes queued per client (default 1 GiB)."
    ),
) -> None:
    """Write a mosquitto 2 set-up (TLS, accounts, ACLs, quotas) and print what was written."""
    from pydantic import ValidationError

    from territory.documents import describe
    from territory.inventory import load_inventory
    from territory.secure.broker_conf import BrokerLimits
    from territory.secure.init import SecureInitOptions, secure_init

    limits = {"max_queued_messages": max_queued_messages, "max_queued_bytes": max_queued_bytes}
    try:
        options = SecureInitOptions(
            out=out,
            port=port,
            service_port=service_port,
            host=host,
            alt_names=alt_names,
            container_root=container_root,
            local_port=local_port,
            simulator=simulator,
            bridges=bridge,
            broker_user=broker_user,
            rotate=rotate,
            limits=BrokerLimits(**{k: v for k, v in limits.items() if v is not None}),
        )
        result = secure_init(load_inventory(inventory), options)
    except ValidationError as exc:
        _fail(describe(exc))
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    typer.echo(result.model_dump_json(indent=1))


@secure_app.command("compose")
def compose_command(
    inventory: Path = typer.Option(
        Path("config/territories/demo.yaml"),
        "--inventory",
        help="Inventory (or scenario) the platform obeys; the simulator profile runs it too.",
    ),
    out: Path = typer.Option(
        Path("var/compose"), "--out", help="Folder docker-compose.yml reads its secrets from."
    ),
    host: str = typer.Option(
        "localhost", "--host", help="Broker host name devices dial (in the certificate)."
    ),
    env_file: Path = typer.Option(
        Path(".env"), "--env-file", help="docker compose's environment file (UID and GID)."
    ),
    rotate: list[str] = typer.Option(
        [], "--rotate", help="Issue new broker credentials for this account (repeatable)."
    ),
) -> None:
    """Write the secrets docker-compose.yml reads; prints the console token once.

    The broker set-up for containers, InfluxDB's and Grafana's passwords, the console's
    configuration with an operator token, and TERRITORY_UID/GID in the env file. A re-run
    keeps every secret already written."""
    from pydantic import ValidationError

    from territory.documents import describe
    from territory.inventory import load_inventory
    from territory.secure.compose import ComposeOptions, compose_secrets

    try:
        options = ComposeOptions(
            out=out, inventory_file=inventory, host=host, env_file=env_file, rotate=rotate
        )
        result = compose_secrets(load_inventory(inventory), options)
    except ValidationError as exc:
        _fail(describe(exc))
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    typer.echo(result.model_dump_json(indent=1))
    if result.operator_token is not None:
        typer.echo(f"console token (operator): {result.operator_token.get_secret_value()}")
        typer.echo("  (shown this once: only its hash is kept, in the console configuration)")


def _fail(message: str) -> NoReturn:
    typer.echo(f"territory secure: {message}", err=True)
    raise typer.Exit(2)
