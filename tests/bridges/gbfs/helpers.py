"""A GBFS bridge wired to a real broker, a real ingest worker and a real SQLite store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bridges.gbfs.config import GbfsSource
from bridges.gbfs.poller import GbfsPoller
from bridges.publish import Publisher, broker_address
from territory.geo import GeoOrigin
from territory.inventory import Device, Inventory, Zone
from tests.bridges.gbfs.systems import Station

NOW = int(time.time()) - 60


# The map's (0, 0) is at this point; zone "nord" lies 2 km north of it.
ORIGIN = GeoOrigin(latitude=45.75, longitude=4.85)


def stations() -> list[Station]:
    return [
        Station(
            "s1", "Bellecour", 45.7578, 4.8320, 20, bikes=7, docks=11, disabled=2, reported=NOW - 30
        ),
        Station(
            "s2",
            "Part-Dieu",
            45.7605,
            4.8593,
            30,
            bikes=0,
            docks=28,
            disabled=None,
            renting=False,
            reported=NOW - 20,
        ),
        # Not in the inventory: discovered, and placed in the nearest zone (nord).
        Station("s3", "Croix-Rousse", 45.7740, 4.8320, 12, bikes=3, docks=9, reported=NOW - 10),
    ]


def inventory() -> Inventory:
    return Inventory(
        name="lyon-test",
        zones=[
            Zone(id="centre", name="Centre", x=0.0, y=0.0),
            Zone(id="nord", name="Nord", x=-1.0, y=2.5),
        ],
        devices=[
            Device(id="velo-s1", kind="bike_station", zone="centre", capacity=20),
            Device(id="velo-s2", kind="bike_station", zone="centre", capacity=30),
        ],
    )


class ManualClock:
    """The poller's clock, moved by the test: due times without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Bridge:
    poller: GbfsPoller
    publisher: Publisher
    clock: ManualClock


@contextmanager
def bridge(
    mqtt_url: str, feed: str, folder: Path, inv: Inventory | None = None, **options: object
) -> Iterator[Bridge]:
    source = GbfsSource.model_validate(
        {
            "feed": feed,
            "name": "velo",
            "language": "fr",
            "origin": ORIGIN,
            "min_interval_s": 0,
            "timeout_s": 2,
            "discovered_file": folder / "discovered.yaml",
            **options,
        }
    )
    publisher = Publisher(broker_address(mqtt_url), "gbfs", "test-gbfs-bridge")
    clock = ManualClock()
    poller = GbfsPoller(source, publisher, inv if inv is not None else inventory(), clock=clock)
    try:
        yield Bridge(poller, publisher, clock)
    finally:
        poller.close()
        publisher.close()
