"""`territory lorawan`: a LoRaWAN network server's uplinks as readings of inventory devices."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import NoReturn

import typer

from territory.logs import configure_logging


def lorawan(
    source: str = typer.Option(
        ..., "--source", help="Network server's broker, mqtt(s)://host:port."
    ),
    fmt: str = typer.Option(..., "--format", help="chirpstack (v4) or tts (The Things Stack v3)."),
    mapping: Path = typer.Option(..., "--mapping", help="YAML mapping of devices and profiles."),
    mqtt: str | None = typer.Option(None, "--mqtt", help="Our broker URL, mqtt://host:port."),
    mqtt_auth: Path | None = typer.Option(
        None, "--mqtt-auth", help="File with this bridge's credentials on our broker."
    ),
    source_auth: Path | None = typer.Option(
        None, "--source-auth", help="YAML file with username and password for the source broker."
    ),
    inventory: Path | None = typer.Option(
        None, "--inventory", help="Inventory the devices are mapped to (default: settings)."
    ),
) -> None:
    """Subscribe to a network server's uplinks and republish each as a reading."""
    from bridges.lorawan.bridge import LorawanBridge, SourceBroker, load_credentials
    from bridges.lorawan.mapping import Mapper, Mapping
    from bridges.publish import Publisher, broker_address
    from territory import documents
    from territory.inventory import load_inventory
    from territory.settings import load_settings

    configure_logging("lorawan", load_settings().log_format)
    settings = load_settings()
    if fmt not in ("chirpstack", "tts"):
        _fail(f"--format must be chirpstack or tts, not {fmt!r}")
    try:
        broker = SourceBroker.from_url(source)
        credentials = load_credentials(source_auth) if source_auth is not None else None
        mapper = Mapper(
            documents.load(Mapping, mapping, "LoRaWAN mapping"),
            load_inventory(inventory or settings.inventory_file),
        )
        address = broker_address(mqtt or settings.mqtt_url, mqtt_auth or settings.mqtt_auth_file)
    except ValueError as exc:  # DocumentError, InventoryError and ValidationError are too
        _fail(str(exc))
    publisher = Publisher(address, "lorawan", f"territory-lorawan-{fmt}-out")
    bridge = LorawanBridge(
        fmt,  # type: ignore[arg-type]
        broker,
        mapper,
        publisher,
        credentials=credentials,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        bridge.start()
    except OSError as exc:
        _fail(f"cannot reach {source}: {exc}")
    typer.echo(f"lorawan: {fmt} uplinks from {source} -> {address.url}")
    stop.wait()
    bridge.stop()
    publisher.close()


def _fail(message: str) -> NoReturn:
    typer.echo(f"territory lorawan: {message}", err=True)
    raise typer.Exit(2)
