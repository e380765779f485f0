"""`territory ocpp`: run the OCPP central system for the inventory's charge points."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import typer

from bridges.ocpp.bridge import BridgeSettings
from bridges.ocpp.registry import Registry
from bridges.ocpp.server import tls_context
from bridges.ocpp.service import ServiceConfig, run_service
from bridges.publish import broker_address
from territory.inventory import InventoryError, load_inventory
from territory.logs import configure_logging
from territory.settings import load_settings


def parse_listen(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen must look like HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def ocpp(
    listen: str = typer.Option(..., "--listen", help="HOST:PORT for charge points."),
    inventory: Path = typer.Option(..., "--inventory", help="Inventory (or scenario) file."),
    mqtt: str = typer.Option(..., "--mqtt", help="Broker URL, mqtt://host:port."),
    mqtt_auth: Path | None = typer.Option(
        None, "--mqtt-auth", help="File with the bridge's broker credentials."
    ),
    tls_cert: Path | None = typer.Option(
        None, "--tls-cert", help="Certificate chain (PEM): serve wss (security profile 2)."
    ),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="Private key of --tls-cert."),
    call_timeout: float = typer.Option(10.0, help="Seconds a charger has to answer a call."),
    heartbeat: int = typer.Option(300, help="Heartbeat interval given to charge points, s."),
    reflex_hold: float = typer.Option(
        120.0, help="Seconds a reflex limit holds when no newer plan comes."
    ),
) -> None:
    """Run the OCPP central system: charge points in, readings out, set-points as profiles."""
    configure_logging("ocpp", load_settings().log_format)
    logging.getLogger("ocpp").setLevel(logging.WARNING)  # it logs every message at INFO
    try:
        host, port = parse_listen(listen)
        broker = broker_address(mqtt, mqtt_auth or load_settings().mqtt_auth_file)
        registry = Registry.from_inventory(load_inventory(inventory), inventory.resolve().parent)
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("--tls-cert and --tls-key come together")
        tls = tls_context(tls_cert, tls_key) if tls_cert and tls_key else None
    except (ValueError, InventoryError, OSError) as exc:
        typer.echo(f"territory ocpp: {exc}", err=True)
        raise typer.Exit(2) from exc
    settings = BridgeSettings(
        heartbeat_s=heartbeat, call_timeout_s=call_timeout, reflex_hold_s=reflex_hold
    )
    config = ServiceConfig(registry, broker, host, port, tls, settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_service(config, stop)

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
    except OSError as exc:
        typer.echo(f"territory ocpp: {exc}", err=True)
        raise typer.Exit(2) from exc
