"""A zone's history as the console serves it: which devices make up a zone, and its steps
as points.

The devices of a zone come from the console's inventory (`TerritoryMap.inventory`): the
devices of the kind listed in that zone, whether they report or not. Only when the
console has no inventory, or its inventory does not have the zone (a zone known from the
readings alone), are they taken from the store: the devices of the kind whose newest
reading was made in the zone (`Store.latest(kind=, zone=)`).

The figures themselves are added up in the store's core (`territory.store.zone_history`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from dashboard.territory_map import TerritoryMap
from territory.store.zone_history import ZoneStep

ZoneAggregate = Literal["sum", "mean", "min", "max", "devices"]
ZONE_AGGREGATES: tuple[str, ...] = ("sum", "mean", "min", "max", "devices")
DeviceSource = Literal["inventory", "readings"]

DEFAULT_STEP_S = 900
"""A zone's default step: the rollups' finest bin, so that one step is read the same way
from raw readings and from rollups (a zone's raw readings are too many to send raw)."""


def inventory_devices(territory: TerritoryMap, zone: str, kind: str) -> list[str] | None:
    """The inventory's devices of `kind` in `zone`, or None when the console's inventory
    does not have the zone (or there is no inventory): then the readings must say."""
    inventory = territory.inventory
    if inventory is None or inventory.zone(zone) is None:
        return None
    return sorted(d.id for d in inventory.of_kind(kind) if d.zone == zone)


def zone_points(steps: Sequence[ZoneStep], how: ZoneAggregate) -> list[dict[str, Any]]:
    """One point per step: `ts` (its start), `n` (readings), `devices` (devices that
    reported), and per attribute its figure across devices: the sum of their means, the
    mean, lowest or highest of their means, or how many devices had a value."""
    points = []
    for step in steps:
        point: dict[str, Any] = {"ts": step.start_ns / 1e9, "n": step.readings}
        point["devices"] = step.devices
        for name, figure in step.numbers.items():
            values = {
                "sum": round(figure.total, 6),
                "mean": round(figure.mean, 6),
                "min": figure.min,
                "max": figure.max,
            }
            point[name] = values.get(how, float(figure.devices))
        points.append(point)
    return points
