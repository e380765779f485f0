"""Corridor loads per slot, estimated from the transit counters' newest readings.

A counter reports the boardings of its last reporting period; the corridor's load per slot
is the sum over its counters scaled from that period to the slot. Period and slot length
come from the scenario; without one the boardings are shown as they are, with no capacity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dashboard.live import FeedState
from dashboard.territory_map import TerritoryMap


@dataclass(frozen=True)
class CorridorLoad:
    corridor: str
    zone: str | None  # the first zone the corridor serves, or the counters' zone
    boardings: float  # sum of the counters' last readings
    per_slot: float  # estimated passengers per slot
    capacity: float | None  # per slot


def corridor_loads(state: FeedState, territory: TerritoryMap) -> list[CorridorLoad]:
    boardings: dict[str, float] = defaultdict(float)
    zone_of: dict[str, str] = {}
    for reading in state.readings.values():
        if reading["kind"] != "transit_counter":
            continue
        corridor = reading["fields"].get("corridor")
        value = reading["fields"].get("boardings")
        if isinstance(corridor, str) and isinstance(value, int | float):
            boardings[corridor] += float(value)
            zone_of.setdefault(corridor, reading["zone"])
    loads = []
    for corridor_id, total in sorted(boardings.items()):
        spec = territory.corridors.get(corridor_id)
        scale = 1.0
        if spec is not None and territory.transit_period_s:
            scale = spec.slot_minutes * 60.0 / territory.transit_period_s
        loads.append(
            CorridorLoad(
                corridor=corridor_id,
                zone=spec.zones[0] if spec and spec.zones else zone_of.get(corridor_id),
                boardings=total,
                per_slot=round(total * scale, 1),
                capacity=float(spec.capacity) if spec else None,
            )
        )
    return loads
