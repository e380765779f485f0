"""A secured console over a real SQLite store and an inventory file, with open data on."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dashboard.opendata.config import OpenDataConfig
from territory.inventory import Corridor, Device, Inventory, Zone, dump_inventory
from territory.readings import Reading
from territory.store.sqlite import SqliteStore
from tests.dashboard.helpers import ConsoleServer, reading, secured_config, serve

HOUR = 3600


# Two whole hours in the past, so that indicator requests have fixed bounds.
H0 = (int(time.time()) // HOUR - 3) * HOUR


H1 = H0 + HOUR


def inventory() -> Inventory:
    home_nord = [
        Device(
            id=f"nord-evc-{i:03d}",
            kind="ev_charger",
            zone="nord",
            feeder="f-nord",
            max_power_kw=7.4,
        )
        for i in range(1, 6)
    ]
    public_centre = [
        Device(
            id=f"centre-pub-{i:03d}",
            kind="ev_charger",
            zone="centre",
            feeder="f-centre",
            max_power_kw=22,
        )
        for i in range(1, 4)
    ]
    meters = [
        Device(id=f"{zone}-mtr-{i:03d}", kind="meter", zone=zone, feeder=f"f-{zone}")
        for zone, count in (("centre", 4), ("nord", 5))
        for i in range(1, count + 1)
    ]
    return Inventory(
        name="opendata-test",
        zones=[Zone(id="centre", name="Centre", x=0, y=0), Zone(id="nord", name="Nord", x=0, y=2)],
        devices=[
            Device(
                id="st-1",
                kind="bike_station",
                zone="centre",
                x=0.1,
                y=0.2,
                capacity=20,
                name="Gare",
            ),
            Device(id="st-2", kind="bike_station", zone="nord", x=0.0, y=2.1, capacity=16),
            Device(id="st-3", kind="bike_station", zone="nord", capacity=10),  # no position
            Device(id="f-centre", kind="feeder", zone="centre", limit_kw=100),
            Device(id="f-nord", kind="feeder", zone="nord", limit_kw=80),
            Device(id="air-1", kind="air", zone="centre", x=0, y=0),
            Device(id="trf-1", kind="traffic", zone="nord", x=0, y=2),
            Device(id="trn-1", kind="transit_counter", zone="nord", corridor="ligne-a"),
            # The one home charger of the centre, among public ones.
            Device(
                id="centre-evc-001",
                kind="ev_charger",
                zone="centre",
                feeder="f-centre",
                max_power_kw=7.4,
            ),
            *public_centre,
            *home_nord,
            *meters,
        ],
        corridors=[
            Corridor(id="ligne-a", name="Ligne A", zones=["nord", "centre"], capacity_per_slot=100)
        ],
    )


def opendata_config(**overrides: Any) -> OpenDataConfig:
    settings: dict[str, Any] = {
        "origin": {"latitude": 48.11, "longitude": -1.68},
        "privacy": {"k": 5, "public_devices": ["*-pub-*"]},
    }
    settings.update(overrides)
    return OpenDataConfig.model_validate(settings)


def at(device: str, kind: str, zone: str, ts: float, seq: int, **fields: Any) -> Reading:
    return reading(device, kind, zone, seq, ts=ts, **fields)


def history() -> list[Reading]:
    """Two hours of readings, every 15 minutes, and a latest state just now."""
    found: list[Reading] = []
    for step in range(8):
        ts = H0 + step * 900
        found += [
            at(
                "st-1",
                "bike_station",
                "centre",
                ts,
                step,
                availableBikeNumber=4 + step % 2,
                freeSlotNumber=14,
                totalSlotNumber=20,
                status="working",
            ),
            at(
                "f-centre",
                "feeder",
                "centre",
                ts,
                step,
                activePower=50.0 + 10 * step,
                powerLimit=100.0,
            ),
            at("air-1", "air", "centre", ts, step, pm25=10.0 + step, pm10=20.0, no2=30.0),
            at("trn-1", "transit_counter", "nord", ts, step, boardings=50, corridor="ligne-a"),
            at(
                "centre-evc-001",
                "ev_charger",
                "centre",
                ts,
                step,
                status="charging",
                powerConsumption=7.0,
                maxPower=7.4,
                feeder="f-centre",
            ),
            at(
                "centre-pub-001",
                "ev_charger",
                "centre",
                ts,
                step,
                status="charging",
                powerConsumption=22.0,
                maxPower=22.0,
                feeder="f-centre",
            ),
        ]
        for i in range(1, 6):
            # nord-evc-005 stops reporting in the second hour.
            if i < 5 or ts < H1:
                found.append(
                    at(
                        f"nord-evc-{i:03d}",
                        "ev_charger",
                        "nord",
                        ts,
                        step,
                        status="charging",
                        powerConsumption=4.0,
                        maxPower=7.4,
                        feeder="f-nord",
                    )
                )
        for zone, count in (("centre", 4), ("nord", 5)):
            for i in range(1, count + 1):
                found.append(
                    at(
                        f"{zone}-mtr-{i:03d}",
                        "meter",
                        zone,
                        ts,
                        step,
                        activePower=1.0 + i / 10,
                        activeEnergyImport=100.0 + step,
                    )
                )
    now = time.time() - 5
    found += [
        at(
            "st-1",
            "bike_station",
            "centre",
            now,
            100,
            availableBikeNumber=7,
            freeSlotNumber=11,
            totalSlotNumber=20,
            outOfServiceSlotNumber=2,
            status="working",
        ),
        at(
            "st-2",
            "bike_station",
            "nord",
            now,
            100,
            availableBikeNumber=0,
            freeSlotNumber=16,
            totalSlotNumber=16,
            status="withIncidence",
        ),
        at(
            "trf-1",
            "traffic",
            "nord",
            now,
            100,
            intensity=120,
            occupancy=0.3,
            averageVehicleSpeed=32.0,
        ),
    ]
    return found


def start(tmp_path: Path, config: OpenDataConfig | None = None) -> ConsoleServer:
    store = SqliteStore(tmp_path / "territory.db")
    store.write(history())
    store.close()
    inventory_file = tmp_path / "inventory.yaml"
    inventory_file.write_text(dump_inventory(inventory()))
    return serve(
        tmp_path / "territory.db",
        secured_config(),
        territory_file=inventory_file,
        opendata=config or opendata_config(),
    )
