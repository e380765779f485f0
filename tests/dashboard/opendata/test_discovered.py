"""Stations the GBFS bridge found outside the inventory, as operators see them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from territory.discovered import DiscoveredDevice, DiscoveredDevices, save_discovered
from territory.inventory import Device
from tests.dashboard.conftest import VIEWER_TOKEN
from tests.dashboard.opendata.conftest import opendata_config, start


def found(device_id: str, zone: str) -> DiscoveredDevice:
    seen = datetime(2026, 3, 14, 10, tzinfo=UTC)
    return DiscoveredDevice(
        device=Device(id=device_id, kind="bike_station", zone=zone, capacity=12, name="Croix"),
        source="https://velo.example/gbfs.json",
        external_id=device_id.removeprefix("velo-"),
        latitude=48.12,
        longitude=-1.67,
        zone_rule="nearest",
        first_seen=seen,
        last_seen=seen,
    )


def test_discovered_stations_are_listed_for_viewers(tmp_path: Path) -> None:
    path = tmp_path / "discovered.yaml"
    # st-1 was adopted into the inventory since: no longer shown as discovered.
    save_discovered(
        path, DiscoveredDevices(devices=[found("velo-77", "nord"), found("st-1", "centre")])
    )
    running = start(tmp_path, opendata_config(discovered_file=path))
    try:
        with running.client() as anonymous:
            refused = anonymous.get("/api/discovered")
        with running.client(VIEWER_TOKEN) as client:
            listed = client.get("/api/discovered").json()
    finally:
        running.stop()
        running.store.close()
    assert refused.status_code == 401
    assert [(d["device"]["id"], d["status"], d["device"]["zone"]) for d in listed] == [
        ("velo-77", "discovered", "nord")
    ]
    assert listed[0]["source"] == "https://velo.example/gbfs.json"
    assert (listed[0]["latitude"], listed[0]["device"]["capacity"]) == (48.12, 12)
