"""Every GBFS version, served over real HTTP, read into the store through real ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from territory.discovered import load_discovered
from territory.store.sqlite import SqliteStore
from tests.bridges.gbfs.helpers import NOW, bridge, inventory, stations
from tests.bridges.gbfs.systems import VERSIONS, FeedServer, serving, system_files
from tests.ingest.helpers import wait_until, worker_thread
from tests.services import Mosquitto


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_lands_in_the_store_field_by_field(
    version: str, mosquitto: Mosquitto, sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    server = FeedServer()
    with serving(server), worker_thread(mosquitto.url, sqlite_store, inventory()):
        server.files = system_files(version, server.base, stations(), NOW)
        with bridge(mosquitto.url, f"{server.base}/gbfs.json", tmp_path) as b:
            report = b.poller.poll()
            assert b.publisher.flush()
        assert report.failed == {}
        assert report.read == ["gbfs", "station_information", "station_status"]
        assert report.published == 2  # s3 is not in the inventory
        assert wait_until(lambda: sqlite_store.stats().readings == 2)

    latest = {r.device_id: r for r in sqlite_store.latest(kind="bike_station")}
    s1, s2 = latest["velo-s1"], latest["velo-s2"]
    assert (s1.zone, s1.ts_ns, s1.seq) == ("centre", (NOW - 30) * 10**9, NOW - 30)
    assert s1.fields == {
        "availableBikeNumber": 7,
        "freeSlotNumber": 11,
        "outOfServiceSlotNumber": 2,
        "totalSlotNumber": 20,
        "status": "working",
    }
    assert (s2.ts_ns, s2.seq) == ((NOW - 20) * 10**9, NOW - 20)
    assert s2.fields == {
        "availableBikeNumber": 0,
        "freeSlotNumber": 28,
        "totalSlotNumber": 30,
        "status": "withIncidence",  # returns only
    }
    assert sqlite_store.stats().rejected == {}

    listed = load_discovered(tmp_path / "discovered.yaml").devices
    assert [(d.external_id, d.device.id, d.zone_rule) for d in listed] == [
        ("s3", "velo-s3", "nearest")
    ]
    found = listed[0]
    assert (found.device.zone, found.device.capacity, found.device.name) == (
        "nord",
        12,
        "Croix-Rousse",
    )
    assert (found.latitude, found.longitude) == (45.7740, 4.8320)
    assert found.device.x == pytest.approx(-1.399, abs=0.01)
    assert found.device.y == pytest.approx(2.668, abs=0.01)
