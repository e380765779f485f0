"""Helpers for the devices tests: a tiny scenario document and a sink keeping messages."""

from __future__ import annotations

from typing import Any

START = 1_790_000_000.0  # a fixed simulated start for deterministic runs


def tiny_document(**overrides: Any) -> dict[str, Any]:
    """A two-zone territory with one group of every kind and short periods."""
    document: dict[str, Any] = {
        "name": "tiny",
        "step_s": 1.0,
        "warmup_h": 1.0,
        "periods": {
            "meter": 2.0,
            "pv": 2.0,
            "feeder": 1.0,
            "ev_charger": 0.5,
            "bike_station": 2.0,
            "traffic": 2.0,
            "transit_counter": 2.0,
            "air": 3.0,
        },
        "zones": [
            {"id": "a", "name": "A", "x": 0, "y": 0, "profile": "residential"},
            {"id": "b", "name": "B", "x": 2, "y": 1, "profile": "commercial"},
        ],
        "feeders": [{"id": "f-a", "zone": "a", "limit_kw": 50}],
        "meters": [
            {"zone": "a", "feeder": "f-a", "count": 3, "profile": "residential", "mean_kw": 1.5}
        ],
        "pv": [{"zone": "a", "feeder": "f-a", "count": 1, "peak_kw": 6}],
        "ev_chargers": [
            {
                "zone": "a",
                "feeder": "f-a",
                "count": 2,
                "max_kw": 22,
                "use": "public",
                "sessions_per_day": 0.01,
                "mean_energy_kwh": 80,
                "initial_occupancy": 1.0,
            }
        ],
        "bike_stations": [
            {"zone": "a", "count": 2, "slots": 10, "bikes": 5, "trips_per_day": 200},
            {"zone": "b", "count": 2, "slots": 10, "bikes": 5, "trips_per_day": 200},
        ],
        "traffic": [{"zone": "b", "count": 1, "peak_vph": 800, "corridor": "c1"}],
        "transit_counters": [{"zone": "b", "corridor": "c1", "count": 1}],
        "air": [{"zone": "b", "count": 1}],
        "vans": [{"id": "van-1", "zone": "b", "capacity": 10}],
        "corridors": [
            {
                "id": "c1",
                "name": "C1",
                "zones": ["a", "b"],
                "capacity_per_slot": 50,
                "daily_trips": 3000,
            }
        ],
    }
    document.update(overrides)
    return document


class ListSink:
    """Keeps every published message, in order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.messages.append((topic, payload))
