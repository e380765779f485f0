"""The territory as the console draws it: zones with schematic coordinates, corridors.

Taken from the scenario file when there is one (`devices.scenario.load_scenario`);
otherwise the zones are derived from the readings and laid out on a grid.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class TerritoryMapError(ValueError):
    """The scenario file exists but cannot be used."""


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
    """Zones to draw and corridors; `from_scenario` says where they came from."""

    name: str = "territory"
    zones: list[ZoneSpot] = field(default_factory=list)
    corridors: dict[str, CorridorSpot] = field(default_factory=dict)
    transit_period_s: float | None = None  # how often transit counters report
    from_scenario: bool = False

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
            from_scenario=self.from_scenario,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "from_scenario": self.from_scenario,
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


def load_territory_map(scenario_file: Path | None) -> TerritoryMap:
    """The map from the scenario file; an empty map (zones come from readings) without one."""
    if scenario_file is None:
        return TerritoryMap()
    if not scenario_file.exists():
        log.warning("scenario file %s not found: zones are taken from the readings", scenario_file)
        return TerritoryMap()
    try:
        from devices.scenario import load_scenario
    except ImportError as exc:
        log.warning("no scenario loader (%s): zones are taken from the readings", exc)
        return TerritoryMap()
    try:
        scenario = load_scenario(scenario_file)
    except ValueError as exc:  # ScenarioError names the file and the field
        raise TerritoryMapError(str(exc)) from exc
    return TerritoryMap(
        name=str(getattr(scenario, "name", scenario_file.stem)),
        zones=[
            ZoneSpot(id=str(z.id), name=str(z.name), x=float(z.x), y=float(z.y))
            for z in scenario.zones
        ],
        corridors=_corridors(getattr(scenario, "corridors", [])),
        transit_period_s=_transit_period(scenario),
        from_scenario=True,
    )


def _corridors(corridors: Iterable[Any]) -> dict[str, CorridorSpot]:
    found: dict[str, CorridorSpot] = {}
    for corridor in corridors:
        capacity = getattr(corridor, "capacity_per_slot", getattr(corridor, "capacity", None))
        if not isinstance(capacity, int | float):
            continue
        found[str(corridor.id)] = CorridorSpot(
            id=str(corridor.id),
            name=str(getattr(corridor, "name", corridor.id)),
            zones=tuple(str(z) for z in getattr(corridor, "zones", ())),
            capacity=float(capacity),
            slot_minutes=float(getattr(corridor, "slot_minutes", 15)),
        )
    return found


def _transit_period(scenario: Any) -> float | None:
    period = getattr(getattr(scenario, "periods", None), "transit_counter", None)
    return float(period) if isinstance(period, int | float) else None
