"""A small but complete territory for the page tests: a scenario file, an hour of history,
and a plan of each domain shaped as the optimiser writes them."""

from __future__ import annotations

import time
from pathlib import Path

from territory.readings import Reading
from territory.store import Plan
from territory.store.sqlite import SqliteStore
from tests.dashboard.helpers import feeder, reading, station

SCENARIO = """
name: pages
zones:
  - {id: centre, name: Centre, x: 0, y: 0}
  - {id: north, name: North, x: 0.5, y: 3}
  - {id: east, name: East, x: 3, y: 1}
feeders:
  - {id: fd-centre, zone: centre, limit_kw: 400}
  - {id: fd-east, zone: east, limit_kw: 300}
corridors:
  - {id: line-1, name: Line 1, zones: [north, centre], capacity_per_slot: 120, daily_trips: 4000}
transit_counters:
  - {zone: north, count: 2, corridor: line-1}
"""


def write_scenario(folder: Path) -> Path:
    path = folder / "pages.yaml"
    path.write_text(SCENARIO)
    return path


def _now_readings(now: float) -> list[Reading]:
    found = [
        station("centre-bik-001", "centre", 100, bikes=0),
        station("centre-bik-002", "centre", 100, bikes=9),
        station("north-bik-001", "north", 100, bikes=20),
        station("north-bik-002", "north", 100, bikes=4),
        station("east-bik-001", "east", 100, bikes=11),
        feeder("fd-east", "east", 100, load=285.0, limit=300.0),
        reading("north-trn-001", "transit_counter", "north", 1, boardings=3, corridor="line-1"),
        reading("north-trn-002", "transit_counter", "north", 1, boardings=4, corridor="line-1"),
        reading("centre-air-001", "air", "centre", 1, pm25=14.0, pm10=22.0, no2=31.0),
        reading("east-air-001", "air", "east", 1, pm25=6.0, pm10=10.0, no2=12.0),
    ]
    for number, (wanted, leaves) in enumerate([(18.0, 3.0), (6.5, 1.0), (30.0, 8.0)], start=1):
        found.append(
            reading(
                f"centre-evc-00{number}",
                "ev_charger",
                "centre",
                1,
                status="charging",
                powerConsumption=7.4,
                maxPower=11.0,
                feeder="fd-centre",
                requestedEnergy=wanted,
                departure=now + leaves * 3600,
            )
        )
    return found


def _history(now: float) -> list[Reading]:
    """An hour of the centre feeder, one reading a minute."""
    return [
        reading(
            "fd-centre",
            "feeder",
            "centre",
            seq,
            ts=now - 3600 + 60 * seq,
            activePower=200.0 + 2 * seq,
            powerLimit=400.0,
        )
        for seq in range(60)
    ]


def _plans(now: float) -> list[Plan]:
    start = (now // 900) * 900
    energy = {
        "kpis": {"peak_kw": {"plan": 380.0, "baseline": 455.0}, "energy_delivered_kwh": 54.5},
        "solve_ms": 48.0,
        "fallback": False,
        "decisions": {
            "start": start,
            "slot_minutes": 15,
            "setpoints_kw": {"centre-evc-001": [7.0, 7.0, 4.0], "centre-evc-002": [6.5, 0.0, 0.0]},
            "feeder_load_kw": {"fd-centre": [330.0, 345.0, 360.0, 380.0, 372.0, 350.0]},
            "feeder_limit_kw": {"fd-centre": [400.0] * 6},
        },
    }
    mobility = {
        "kpis": {"unmet_demand": {"plan": 3.0, "baseline": 17.0}, "driving_km": 8.4},
        "solve_ms": 310.0,
        "fallback": False,
        "routes": [
            {
                "van": "van-1",
                "stops": [
                    {"station": "north-bik-001", "load": 8},
                    {"station": "centre-bik-001", "load": -8},
                ],
            }
        ],
    }
    slots = {
        "kpis": {"overloaded_slots": {"plan": 0, "baseline": 2}, "people_shifted": 35},
        "solve_ms": 22.0,
        "fallback": True,
        "start": start,
        "slot_minutes": 15,
        "capacity": {"line-1": 120},
        "load_before": {"line-1": [80.0, 140.0, 150.0, 90.0]},
        "load_after": {"line-1": [100.0, 120.0, 120.0, 120.0]},
        "assignments": [
            {
                "group": "office-park",
                "size": 30,
                "preferred": 1,
                "slots": {"0": 20, "1": 10},
                "unassigned": 0,
            },
            {
                "group": "school",
                "size": 25,
                "preferred": 2,
                "slots": {"2": 10, "3": 15},
                "unassigned": 0,
            },
            {"group": "hospital", "size": 12, "preferred": 0, "slots": {"0": 12}, "unassigned": 0},
        ],
    }
    return [
        Plan(domain="energy", created=now - 30, status="optimal", body=energy),
        Plan(domain="mobility", created=now - 20, status="feasible", body=mobility),
        Plan(domain="slots", created=now - 10, status="fallback", body=slots),
    ]


def seed_rich(path: Path) -> None:
    now = time.time()
    store = SqliteStore(path)
    try:
        store.write(_history(now) + _now_readings(now))
        for made in _plans(now):
            store.write_plan(made)
    finally:
        store.close()
