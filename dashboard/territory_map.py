"""The territory as the console draws it: zones with schematic coordinates, corridors.

Taken from the territory's inventory when there is one (a scenario file is accepted
too); otherwise the zones are derived from the readings and laid out on a grid.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from territory.inventory import Corridor, Inventory, InventoryError, load_inventory

log = logging.getLogger(__name__)


class TerritoryMapError(ValueError):
    """The inventory file exists but cannot be used."""


@dataclass(frozen=True)
class ZoneSpot:
    id: str
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class CorridorSpot:
    id: str
    name: str
    zones: tuple[str, ...]
    capacity: float  # passengers per slot
    slot_minutes: float


@dataclass
class TerritoryMap:
    """Zones to draw and corridors; `from_inventory` says where they came from."""

    name: str = "territory"
    zones: list[ZoneSpot] = field(default_factory=list)
    corridors: dict[str, CorridorSpot] = field(default_factory=dict)
    transit_period_s: float | None = None  # how often transit counters report
    from_inventory: bool = False
    # The limits the console compares readings' claims with; None without an inventory.
    inventory: Inventory | None = None

    def with_zones_of(self, zone_ids: Iterable[str]) -> TerritoryMap:
        """Add any zone seen in the readings but missing from the map, on a grid below it."""
        known = {z.id for z in self.zones}
        missing = sorted(set(zone_ids) - known)
        if not missing:
            return self
        top = max((z.y for z in self.zones), default=-1.0) + 1.0
        columns = max(1, math.ceil(math.sqrt(len(missing))))
        added = [
            ZoneSpot(id=zone, name=zone, x=float(i % columns), y=top + float(i // columns))
            for i, zone in enumerate(missing)
        ]
        return TerritoryMap(
            name=self.name,
            zones=[*self.zones, *added],
            corridors=self.corridors,
            transit_period_s=self.transit_period_s,
            from_inventory=self.from_inventory,
            inventory=self.inventory,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "from_inventory": self.from_inventory,
            "zones": [{"id": z.id, "name": z.name, "x": z.x, "y": z.y} for z in self.zones],
            "corridors": [
                {
                    "id": c.id,
                    "name": c.name,
                    "zones": list(c.zones),
                    "capacity": c.capacity,
                    "slot_minutes": c.slot_minutes,
                }
                for c in sorted(self.corridors.values(), key=lambda c: c.id)
            ],
        }


def load_territory_map(inventory_file: Path | None) -> TerritoryMap:
    """The map from the inventory (or scenario) file; an empty map (zones come from
    readings) without one."""
    if inventory_file is None:
        return TerritoryMap()
    if not inventory_file.exists():
        log.warning(
            "inventory file %s not found: zones are taken from the readings", inventory_file
        )
        return TerritoryMap()
    try:
        inventory = load_inventory(inventory_file)
    except InventoryError as exc:
        raise TerritoryMapError(str(exc)) from exc
    transit = [d.period_s for d in inventory.of_kind("transit_counter") if d.period_s]
    return TerritoryMap(
        name=inventory.name,
        zones=[ZoneSpot(id=z.id, name=z.name, x=z.x, y=z.y) for z in inventory.zones],
        corridors=_corridors(inventory.corridors),
        transit_period_s=max(transit) if transit else None,
        from_inventory=True,
        inventory=inventory,
    )


def _corridors(corridors: Iterable[Corridor]) -> dict[str, CorridorSpot]:
    return {
        c.id: CorridorSpot(
            id=c.id,
            name=c.name,
            zones=tuple(c.zones),
            capacity=float(c.capacity_per_slot),
            slot_minutes=float(c.slot_minutes),
        )
        for c in corridors
    }
