"""Stations the GBFS bridge found outside the inventory, as operators see them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, expect

from territory.discovered import DiscoveredDevice, DiscoveredDevices, save_discovered
from territory.inventory import Device
from tests.dashboard.browser import screenshot_path
from tests.dashboard.helpers import VIEWER_TOKEN
from tests.dashboard.opendata.helpers import opendata_config, start
from tests.dashboard.test_pages import WAIT_MS, signed_in


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


def test_the_mobility_page_shows_them_as_discovered(tmp_path: Path, browser: Browser) -> None:
    path = tmp_path / "discovered.yaml"
    save_discovered(path, DiscoveredDevices(devices=[found("velo-77", "nord")]))
    running = start(tmp_path, opendata_config(discovered_file=path))
    try:
        page = signed_in(browser, running, VIEWER_TOKEN, "mobility")
        row = page.locator('#discovered tr[data-discovered="velo-77"]')
        expect(row).to_contain_text("nord (nearest)", timeout=WAIT_MS)
        expect(row).to_contain_text("discovered")
        page.screenshot(path=str(screenshot_path("mobility-discovered")), full_page=True)
        page.close()
    finally:
        running.stop()
        running.store.close()
