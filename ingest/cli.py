"""`territory ingest`: run one ingest worker."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from territory.logs import configure_logging
from territory.settings import load_settings


def ingest(
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="Broker URL, mqtt://host:port[?protocol=3.1.1] or mqtts://host:port"
    ),
    mqtt_auth: Path | None = typer.Option(
        None, "--mqtt-auth", help="Account file (territory secure init): user, password, CA."
    ),
    store: str | None = typer.Option(
        None, "--store", help="sqlite:///PATH or influx://HOST:PORT/DB"
    ),
    group: str | None = typer.Option(None, "--group", help="Join this shared-subscription group."),
    client_id: str | None = typer.Option(
        None, "--client-id", help="MQTT client id (default territory-ingest-{host}[-{replica}])."
    ),
    replica: str | None = typer.Option(
        None, "--replica", help="Replica name, when one host runs several workers."
    ),
    batch_size: int | None = typer.Option(None, help="Flush at this many messages."),
    batch_age_ms: int | None = typer.Option(None, help="Flush at this age."),
    metrics_port: int | None = typer.Option(None, help="Serve /metrics and /healthz here."),
    inventory: Path | None = typer.Option(
        None,
        "--inventory",
        help="Accept only the devices this inventory (or scenario) lists, on their own topics.",
    ),
    auto_ack: bool = typer.Option(
        False, "--unsafe-auto-ack", help="Acknowledge on receipt (loses data; for loss tests only)."
    ),
) -> None:
    """Subscribe to telemetry at QoS 1 and write it, at least once, into the store."""
    from ingest.http import serve_status
    from ingest.worker import IngestWorker
    from territory.bus import BrokerAddress
    from territory.inventory import InventoryError, load_inventory
    from territory.query import open_store_or_exit

    configure_logging("ingest", load_settings().log_format)
    # httpx logs every InfluxDB request at INFO: one line per batch drowns the worker's own.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings()
    overrides = {
        "group": group,
        "client_id": client_id,
        "replica": replica,
        "batch_size": batch_size,
        "batch_age_ms": batch_age_ms,
        "metrics_port": metrics_port,
    }
    ingest_settings = settings.ingest.model_copy(
        update={key: value for key, value in overrides.items() if value is not None}
    )
    try:
        address = BrokerAddress.from_url(
            mqtt or settings.mqtt_url, mqtt_auth or settings.mqtt_auth_file
        )
    except ValueError as exc:
        typer.echo(f"territory ingest: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        listed = load_inventory(inventory) if inventory is not None else None
    except InventoryError as exc:
        typer.echo(f"territory ingest: {exc}", err=True)
        raise typer.Exit(2) from exc
    worker = IngestWorker(
        address, open_store_or_exit(store), ingest_settings, auto_ack=auto_ack, inventory=listed
    )
    if ingest_settings.metrics_port is not None:
        serve_status(
            "127.0.0.1", ingest_settings.metrics_port, worker.metrics.registry, worker.status
        )

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    typer.echo(
        f"ingest: {worker.subscription} on {worker.address.url} -> {store or settings.store_url}"
    )
    worker.run(stop)
    worker.store.close()
