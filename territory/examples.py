"""One valid payload per kind: the reference for docs/payloads.md and the tests."""

from __future__ import annotations

from typing import Any


def example_payloads(ts: float) -> dict[str, dict[str, Any]]:
    """A valid payload of every kind, stamped `ts`."""
    return {
        "meter": {
            "ts": ts,
            "seq": 42,
            "activePower": 1.84,
            "activeEnergyImport": 5123.4,
            "feeder": "f-north",
        },
        "pv": {"ts": ts, "seq": 7, "activePower": 3.2, "feeder": "f-north"},
        "feeder": {"ts": ts, "seq": 9, "activePower": 412.0, "powerLimit": 500.0},
        "ev_charger": {
            "ts": ts,
            "seq": 3,
            "status": "charging",
            "powerConsumption": 11.0,
            "maxPower": 22.0,
            "feeder": "f-north",
            "requestedEnergy": 18.5,
            "departure": ts + 3 * 3600,
        },
        "bike_station": {
            "ts": ts,
            "seq": 120,
            "availableBikeNumber": 6,
            "freeSlotNumber": 12,
            "totalSlotNumber": 20,
        },
        "traffic": {
            "ts": ts,
            "seq": 5,
            "intensity": 312,
            "occupancy": 0.18,
            "averageVehicleSpeed": 38.5,
        },
        "transit_counter": {"ts": ts, "seq": 11, "boardings": 57, "corridor": "c-east"},
        "air": {"ts": ts, "seq": 2, "pm25": 11.2, "pm10": 19.0, "no2": 24.5},
        "van": {
            "ts": ts,
            "seq": 31,
            "status": "driving",
            "station": "bs-12",
            "load": 8,
            "capacity": 20,
        },
    }
