"""`territory gbfs poll` and `territory gbfs adopt`: read bike-share systems over GBFS."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import typer

from territory.logs import configure_logging

if TYPE_CHECKING:
    from bridges.gbfs.poller import GbfsPoller
    from territory.inventory import Inventory

gbfs_app = typer.Typer(help="Bike-share systems read over GBFS.", no_args_is_help=True)


@gbfs_app.command("poll")
def poll(
    feed: str | None = typer.Option(None, "--feed", help="URL of the system's gbfs.json."),
    config: Path | None = typer.Option(
        None, "--config", help="YAML file of GBFS sources (instead of --feed)."
    ),
    once: bool = typer.Option(False, "--once", help="Read every file once, publish, exit."),
    mqtt: str | None = typer.Option(None, "--mqtt", help="Broker URL, mqtt://host:port."),
    mqtt_auth: Path | None = typer.Option(
        None, "--mqtt-auth", help="File with this bridge's broker credentials."
    ),
    inventory: Path | None = typer.Option(
        None, "--inventory", help="Inventory whose stations are published (default: settings)."
    ),
    name: str | None = typer.Option(None, "--name", help="System name in device ids."),
    origin: str | None = typer.Option(
        None, "--origin", help="LAT,LON of the inventory map's (0, 0), to place new stations."
    ),
    publish_discovered: bool = typer.Option(
        False, "--publish-discovered", help="Publish stations not in the inventory too."
    ),
    discovered: Path | None = typer.Option(
        None, "--discovered", help="File listing stations not in the inventory."
    ),
) -> None:
    """Poll GBFS feeds at their ttl and publish one bike_station reading per station."""
    from bridges.gbfs.config import GbfsSource, GbfsSources
    from bridges.gbfs.poller import GbfsPoller, run_pollers
    from bridges.publish import Publisher, broker_address
    from territory import documents
    from territory.settings import load_settings

    configure_logging("gbfs", load_settings().log_format)
    settings = load_settings()
    if (feed is None) == (config is None):
        _fail("give either --feed URL or --config FILE")
    try:
        if config is not None:
            sources = documents.load(GbfsSources, config, "GBFS sources").sources
        else:
            options: dict[str, object] = {"feed": feed, "publish_discovered": publish_discovered}
            if name is not None:
                options["name"] = name
            if origin is not None:
                latitude, _, longitude = origin.partition(",")
                options["origin"] = {"latitude": latitude, "longitude": longitude}
            if discovered is not None:
                options["discovered_file"] = discovered
            sources = [GbfsSource.model_validate(options)]
        address = broker_address(mqtt or settings.mqtt_url, mqtt_auth or settings.mqtt_auth_file)
    except ValueError as exc:  # DocumentError and ValidationError are ValueErrors
        _fail(str(exc))
    listed = _inventory(inventory or settings.inventory_file, explicit=inventory is not None)
    publisher = Publisher(address, "gbfs", f"territory-gbfs-{sources[0].system}")
    pollers = [GbfsPoller(source, publisher, listed) for source in sources]
    try:
        if once:
            failed = _poll_once(pollers)
            publisher.flush()
            raise typer.Exit(1 if failed else 0)
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        run_pollers(pollers, stop)
    finally:
        for poller in pollers:
            poller.close()
        publisher.close()


def _poll_once(pollers: list[GbfsPoller]) -> bool:
    failed = False
    for poller in pollers:
        report = poller.poll()
        typer.echo(
            f"{poller.source.system}: GBFS {poller.version or '?'}, {report.published} readings,"
            f" {report.refused} refused, {report.discovered} stations not in the inventory"
        )
        for feed_name, why in report.failed.items():
            typer.echo(f"  {feed_name}: {why}", err=True)
        failed = failed or bool(report.failed)
    return failed


@gbfs_app.command("adopt")
def adopt(
    inventory: Path = typer.Option(..., "--inventory", help="Inventory to add stations to."),
    discovered: Path = typer.Option(
        Path("var/discovered-stations.yaml"), "--discovered", help="Discovered-stations file."
    ),
    output: Path | None = typer.Option(
        None, "--output", help="Write the new inventory here (default: print it)."
    ),
) -> None:
    """Add the discovered stations to an inventory: after this, ingest accepts them."""
    from territory.discovered import load_discovered
    from territory.documents import DocumentError
    from territory.inventory import Inventory, dump_inventory, load_inventory

    try:
        current = load_inventory(inventory)
        found = load_discovered(discovered).devices
        known = set(current.by_id)
        added = [d.device for d in found if d.device.id not in known]
        updated = Inventory.model_validate(
            {**current.model_dump(), "devices": [*current.devices, *added]}
        )
    except (DocumentError, ValueError) as exc:
        _fail(str(exc))
    text = dump_inventory(updated)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
    typer.echo(f"{len(added)} stations added", err=True)


def _inventory(path: Path, *, explicit: bool) -> Inventory | None:
    from territory.inventory import InventoryError, load_inventory

    if not path.exists() and not explicit:
        return None
    try:
        return load_inventory(path)
    except InventoryError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    typer.echo(f"territory gbfs: {message}", err=True)
    raise typer.Exit(2)
