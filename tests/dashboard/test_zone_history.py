"""`GET /api/zones/{zone}/history` against a real uvicorn and a real SQLite store: the
zone's devices from the console's inventory, added up per step, checked against sums
worked out here from the readings written; from rollups for long windows; its errors."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from territory.readings import Reading
from territory.settings import RollupSettings
from territory.store.maintenance import rollup_engine
from tests.dashboard.helpers import VIEWER_TOKEN, ConsoleServer, reading, secured_config, serve
from tests.dashboard.test_routes import wait_for

INVENTORY = """
name: zones
zones:
  - {id: north, name: North, x: 0, y: 1}
  - {id: south, name: South, x: 0, y: 0}
devices:
  - {id: fd-n1, kind: feeder, zone: north, limit_kw: 400}
  - {id: fd-n2, kind: feeder, zone: north, limit_kw: 300}
  - {id: fd-n3, kind: feeder, zone: north, limit_kw: 300}
  - {id: fd-s1, kind: feeder, zone: south, limit_kw: 300}
"""
# fd-n3 never reports; fd-rogue reports under the north but the inventory does not list it.
REPORTING = {"fd-n1": 100.0, "fd-n2": 200.0, "fd-rogue": 5000.0, "fd-s1": 300.0}


@pytest.fixture
def zoned(tmp_path: Path) -> Iterator[ConsoleServer]:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    running = serve(tmp_path / "territory.db", secured_config(), territory_file=inventory)
    yield running
    running.stop()
    running.store.close()


def feeders(start: float, count: int, every_s: float) -> list[Reading]:
    return [
        reading(
            device,
            "feeder",
            "south" if device == "fd-s1" else "north",
            seq,
            ts=start + every_s * seq,
            activePower=base + seq % 5 + (seq % 3) / 4,
            powerLimit=400.0,
        )
        for device, base in REPORTING.items()
        for seq in range(count)
    ]


def sums(readings: list[Reading], devices: set[str], start: float, end: float, step: int) -> dict:
    """Per step start: the sum over `devices` of each one's mean activePower (to the 6
    decimals the API gives), and how many devices."""
    values: dict[tuple[float, str], list[float]] = defaultdict(list)
    for r in readings:
        ts = r.ts_ns / 1e9
        if r.device_id in devices and start <= ts < end:
            power = r.fields["activePower"]
            assert isinstance(power, float)
            values[ts // step * step, r.device_id].append(power)
    found: dict[float, list[float]] = defaultdict(list)
    for (step_start, _), powers in values.items():
        found[step_start].append(sum(powers) / len(powers))
    return {s: (pytest.approx(sum(m), abs=1e-6), len(m)) for s, m in sorted(found.items())}


def test_a_short_window_adds_up_the_inventorys_devices(zoned: ConsoleServer) -> None:
    start = time.time() // 600 * 600 - 1800  # three whole steps of 10 minutes, then now
    readings = feeders(start, 45, 60.0)
    zoned.store.write(readings)
    params = {"kind": "feeder", "start": start, "end": start + 2700, "step": 600}
    with zoned.client(VIEWER_TOKEN) as http:
        body = http.get("/api/zones/north/history", params=params).json()
        most = http.get("/api/zones/north/history", params={**params, "aggregate": "max"}).json()
    assert body["devices"] == ["fd-n1", "fd-n2", "fd-n3"] and body["devices_from"] == "inventory"
    wanted = sums(readings, {"fd-n1", "fd-n2"}, start, start + 2700, 600)
    assert {p["ts"]: (p["activePower"], p["devices"]) for p in body["points"]} == wanted
    assert [p["n"] for p in body["points"]] == [20, 20, 20, 20, 10]
    # The highest device mean: fd-n2's, never the rogue's.
    assert all(200 <= p["activePower"] < 206 for p in most["points"])


def test_a_long_window_comes_from_the_rollups_of_all_the_zones_devices(
    zoned: ConsoleServer,
) -> None:
    hour = int(time.time()) // 3600 * 3600
    start = hour - 2 * 86_400  # two days, a reading every 10 minutes
    readings = feeders(start, 2 * 144, 600.0)
    zoned.store.write(readings)
    rollup_engine(zoned.store, RollupSettings()).refresh(time.time_ns(), max_bins=1000)
    params = {"kind": "feeder", "start": start, "end": hour, "step": 3600}
    with zoned.client(VIEWER_TOKEN) as http:
        hourly = http.get("/api/zones/north/history", params=params).json()
        daily = http.get("/api/zones/north/history", params={**params, "step": 86_400}).json()
        counted = http.get(
            "/api/zones/south/history", params={**params, "aggregate": "devices"}
        ).json()
    assert len(hourly["points"]) == 48
    wanted = sums(readings, {"fd-n1", "fd-n2"}, start, hour, 3600)
    assert {p["ts"]: (p["activePower"], p["devices"]) for p in hourly["points"]} == wanted
    wanted = sums(readings, {"fd-n1", "fd-n2"}, start, hour, 86_400)
    assert {p["ts"]: (p["activePower"], p["devices"]) for p in daily["points"]} == wanted
    assert {p["activePower"] for p in counted["points"]} == {1.0}


def test_the_errors_of_a_zones_history(zoned: ConsoleServer) -> None:
    route = "/api/zones/north/history"
    now = time.time()
    with zoned.client(VIEWER_TOKEN) as http:
        unknown_zone = http.get("/api/zones/atlantis/history", params={"kind": "feeder"})
        unknown_kind = http.get(route, params={"kind": "toaster"})
        no_kind = http.get(route)
        backwards = http.get(route, params={"kind": "feeder", "start": now, "end": now - 1})
        too_many = http.get(route, params={"kind": "feeder", "start": 0, "end": now, "step": 60})
        no_step = http.get(route, params={"kind": "feeder", "step": 0})
        bad_aggregate = http.get(route, params={"kind": "feeder", "aggregate": "avg"})
        nothing_yet = http.get(route, params={"kind": "feeder"})
    assert unknown_zone.status_code == 404
    assert unknown_kind.status_code == 422 and "unknown kind" in unknown_kind.text
    assert no_kind.status_code == 422
    assert backwards.status_code == 422
    assert too_many.status_code == 422 and "at most 20000" in too_many.text
    assert no_step.status_code == 422
    assert bad_aggregate.status_code == 422
    # A zone of the inventory without a reading yet: known, with no points.
    assert nothing_yet.status_code == 200 and nothing_yet.json()["points"] == []


def test_without_an_inventory_the_devices_come_from_the_readings(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        wait_for(http, "/api/zones", lambda zones: {z["id"] for z in zones} >= {"north"})
        body = http.get(
            "/api/zones/north/history", params={"kind": "bike_station", "step": 3600}
        ).json()
    assert body["devices_from"] == "readings"
    assert body["devices"] == ["st-north-1", "st-north-2"]
    # The seeded stations: 7 and 0 bikes, each its one reading of the last hour.
    assert [(p["availableBikeNumber"], p["devices"]) for p in body["points"]] == [(7.0, 2)]
