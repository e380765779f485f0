"""Usage indicators per zone (or corridor) and hour, computed from the stored history.

Each indicator is a table of cells. A cell that sums or averages devices which may be a
household's (residential meters, home chargers: `privacy.household_kinds`) is published
only when at least k such devices contributed to it; below that its values and its count
are suppressed and the cell says so. Each household device belongs to one zone and each
zone-hour to one cell, so no two published cells differ by a single household.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dashboard.opendata.config import PrivacyRules
from territory.inventory import Corridor, Device, Inventory
from territory.readings import Reading

HOUR_S = 3600
# A reading stands for at most this long when integrating power into energy: a charger
# silent for longer is not assumed to have kept drawing.
_MAX_HOLD_S = 900.0

Cell = dict[str, Any]


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    unit: str = ""


@dataclass(frozen=True)
class Indicator:
    """One published dataset: what it is, which devices feed it, how its cells are made."""

    id: str
    title: str
    description: str
    kinds: tuple[str, ...]
    theme: str  # EU data theme: TRAN, ENER, ENVI
    keywords: tuple[str, ...]
    key: str  # "zone" or "corridor"
    columns: tuple[Column, ...]
    cells: Callable[[Inventory, dict[str, list[Reading]], int, int], list[Cell]]


def hour_of(ts_s: float) -> int:
    return int(ts_s // HOUR_S) * HOUR_S


def _by_hour(readings: Iterable[Reading], start_s: int, end_s: int) -> dict[int, list[Reading]]:
    found: dict[int, list[Reading]] = defaultdict(list)
    for reading in readings:
        if start_s <= reading.ts < end_s:
            found[hour_of(reading.ts)].append(reading)
    return found


def _mean(readings: list[Reading], attribute: str) -> float | None:
    values = [
        float(r.fields[attribute])
        for r in readings
        if isinstance(r.fields.get(attribute), int | float)
    ]
    return sum(values) / len(values) if values else None


def _energy_by_hour(readings: list[Reading], start_s: int, end_s: int) -> dict[int, float]:
    """kWh drawn per hour: each reading's power held until the next, at most 15 min (the
    last one too: a charger that falls silent is not assumed to draw on)."""
    energy: dict[int, float] = defaultdict(float)
    followers: list[Reading | None] = [*readings[1:], None]
    for current, following in zip(readings, followers[: len(readings)], strict=True):
        power = current.fields.get("powerConsumption")
        if not isinstance(power, int | float):
            continue
        begin = max(current.ts, start_s)
        held = current.ts + _MAX_HOLD_S
        finish = min(following.ts if following else held, held, end_s)
        while begin < finish:
            hour = hour_of(begin)
            piece = min(finish, hour + HOUR_S) - begin
            energy[hour] += float(power) * piece / HOUR_S
            begin += piece
    return energy


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# -- the indicators ------------------------------------------------------------


def _bikes(
    inventory: Inventory, history: dict[str, list[Reading]], start: int, end: int
) -> list[Cell]:
    cells: dict[tuple[int, str], Cell] = {}
    for device in inventory.of_kind("bike_station"):
        for hour, readings in _by_hour(history.get(device.id, []), start, end).items():
            mean = _mean(readings, "availableBikeNumber")
            if mean is None:
                continue
            cell = cells.setdefault(
                (hour, device.zone), {"stations": 0, "bikes_available": 0.0, "capacity": 0}
            )
            cell["stations"] += 1
            cell["bikes_available"] += mean
            cell["capacity"] += device.capacity or 0
    for cell in cells.values():
        cell["availability_ratio"] = (
            _round(cell["bikes_available"] / cell["capacity"], 3) if cell["capacity"] else None
        )
        cell["bikes_available"] = _round(cell["bikes_available"])
    return _listed(cells, "zone")


def _charging(
    inventory: Inventory, history: dict[str, list[Reading]], start: int, end: int
) -> list[Cell]:
    cells: dict[tuple[int, str], Cell] = {}
    for device in inventory.of_kind("ev_charger"):
        for hour, kwh in _energy_by_hour(history.get(device.id, []), start, end).items():
            cell = cells.setdefault(
                (hour, device.zone), {"chargers": 0, "energy_kwh": 0.0, "_devices": []}
            )
            cell["chargers"] += 1
            cell["energy_kwh"] += kwh
            cell["_devices"].append(device)
    for cell in cells.values():
        cell["energy_kwh"] = _round(cell["energy_kwh"])
    return _listed(cells, "zone")


def _demand(
    inventory: Inventory, history: dict[str, list[Reading]], start: int, end: int
) -> list[Cell]:
    cells: dict[tuple[int, str], Cell] = {}
    for device in inventory.of_kind("meter"):
        for hour, readings in _by_hour(history.get(device.id, []), start, end).items():
            mean = _mean(readings, "activePower")
            if mean is None:
                continue
            cell = cells.setdefault(
                (hour, device.zone), {"meters": 0, "power_kw": 0.0, "_devices": []}
            )
            cell["meters"] += 1
            cell["power_kw"] += mean
            cell["_devices"].append(device)
    for cell in cells.values():
        cell["power_kw"] = _round(cell["power_kw"])
    return _listed(cells, "zone")


def _feeders(
    inventory: Inventory, history: dict[str, list[Reading]], start: int, end: int
) -> list[Cell]:
    cells: dict[tuple[int, str], Cell] = {}
    for device in inventory.of_kind("feeder"):
        limit = device.limit_kw or 0.0
        for hour, readings in _by_hour(history.get(device.id, []), start, end).items():
            loads = [float(r.fields["activePower"]) for r in readings if "activePower" in r.fields]
            if not loads:
                continue
            cell = cells.setdefault(
                (hour, device.zone),
                {
                    "feeders": 0,
                    "peak_load_kw": 0.0,
                    "mean_load_kw": 0.0,
                    "limit_kw": 0.0,
                    "peak_ratio": 0.0,
                },
            )
            cell["feeders"] += 1
            cell["peak_load_kw"] += max(loads)
            cell["mean_load_kw"] += sum(loads) / len(loads)
            cell["limit_kw"] += limit
            if limit:
                cell["peak_ratio"] = max(cell["peak_ratio"], max(loads) / limit)
    for cell in cells.values():
        for name in ("peak_load_kw", "mean_load_kw", "limit_kw"):
            cell[name] = _round(cell[name])
        cell["peak_ratio"] = _round(cell["peak_ratio"], 3)
    return _listed(cells, "zone")


def _corridors(
    inventory: Inventory, history: dict[str, list[Reading]], start: int, end: int
) -> list[Cell]:
    corridors: dict[str, Corridor] = {c.id: c for c in inventory.corridors}
    cells: dict[tuple[int, str], Cell] = {}
    for device in inventory.of_kind("transit_counter"):
        corridor = corridors.get(device.corridor or "")
        if corridor is None:
            continue
        capacity = corridor.capacity_per_slot * HOUR_S / (corridor.slot_minutes * 60)
        for hour, readings in _by_hour(history.get(device.id, []), start, end).items():
            boardings = sum(int(r.fields.get("boardings", 0)) for r in readings)
            cell = cells.setdefault(
                (hour, corridor.id), {"counters": 0, "boardings": 0, "capacity": round(capacity)}
            )
            cell["counters"] += 1
            cell["boardings"] += boardings
    for cell in cells.values():
        cell["load_ratio"] = (
            _round(cell["boardings"] / cell["capacity"], 3) if cell["capacity"] else None
        )
    return _listed(cells, "corridor")


def _air(
    inventory: Inventory, history: dict[str, list[Reading]], start: int, end: int
) -> list[Cell]:
    cells: dict[tuple[int, str], Cell] = {}
    for device in inventory.of_kind("air"):
        for hour, readings in _by_hour(history.get(device.id, []), start, end).items():
            cell = cells.setdefault(
                (hour, device.zone), {"stations": 0, "_means": defaultdict(list)}
            )
            cell["stations"] += 1
            for pollutant in ("pm25", "pm10", "no2"):
                mean = _mean(readings, pollutant)
                if mean is not None:
                    cell["_means"][pollutant].append(mean)
    for cell in cells.values():
        means = cell.pop("_means")
        for pollutant in ("pm25", "pm10", "no2"):
            values = means.get(pollutant, [])
            cell[f"{pollutant}_mean"] = _round(sum(values) / len(values)) if values else None
    return _listed(cells, "zone")


def _listed(cells: dict[tuple[int, str], Cell], key: str) -> list[Cell]:
    return [{"hour": hour, key: where, **cell} for (hour, where), cell in sorted(cells.items())]


def suppress(cells: list[Cell], rules: PrivacyRules) -> list[Cell]:
    """Cells with fewer than k household devices lose their values and their count."""
    published = []
    for cell in cells:
        devices: list[Device] = cell.pop("_devices", [])
        households = sum(1 for d in devices if rules.is_household(d.id, d.kind))
        if 0 < households < rules.k:
            kept = {"hour": cell["hour"], "zone": cell["zone"]}
            cell = {name: kept.get(name) for name in cell} | {"suppressed": True}
        else:
            cell["suppressed"] = False
        published.append(cell)
    return published


ZONE = Column("zone", "Zone of the territory (inventory id).")
HOUR = Column("hour", "Start of the hour, RFC 3339, UTC.")
SUPPRESSED = Column(
    "suppressed", "True when fewer than k households' devices contributed: values withheld."
)

INDICATORS: dict[str, Indicator] = {
    indicator.id: indicator
    for indicator in (
        Indicator(
            "bike-availability",
            "Shared bikes available against capacity",
            "Mean number of bikes available at the zone's stations over each hour, against "
            "their docks.",
            ("bike_station",),
            "TRAN",
            ("bike sharing", "mobility", "availability"),
            "zone",
            (
                HOUR,
                ZONE,
                Column("stations", "Stations that reported in the hour."),
                Column("bikes_available", "Mean bikes available, summed over the stations."),
                Column("capacity", "Docks of those stations (inventory)."),
                Column("availability_ratio", "bikes_available / capacity."),
                SUPPRESSED,
            ),
            _bikes,
        ),
        Indicator(
            "ev-charging-energy",
            "Energy delivered by EV chargers",
            "Energy drawn by the zone's EV charging points in each hour (home chargers count "
            "only in zones of at least k of them).",
            ("ev_charger",),
            "ENER",
            ("electric vehicles", "charging", "energy"),
            "zone",
            (
                HOUR,
                ZONE,
                Column("chargers", "Charging points that reported in the hour."),
                Column("energy_kwh", "Energy delivered in the hour.", "kWh"),
                SUPPRESSED,
            ),
            _charging,
        ),
        Indicator(
            "electricity-demand",
            "Electricity demand of metered premises",
            "Mean power drawn by the zone's smart meters in each hour, summed (only in zones "
            "of at least k households).",
            ("meter",),
            "ENER",
            ("electricity", "demand", "smart meters"),
            "zone",
            (
                HOUR,
                ZONE,
                Column("meters", "Meters that reported in the hour."),
                Column("power_kw", "Mean power drawn, summed over the meters.", "kW"),
                SUPPRESSED,
            ),
            _demand,
        ),
        Indicator(
            "feeder-load",
            "Feeder load against limit",
            "Peak and mean load of the zone's feeders in each hour, against their limits.",
            ("feeder",),
            "ENER",
            ("electricity grid", "feeder", "load"),
            "zone",
            (
                HOUR,
                ZONE,
                Column("feeders", "Feeders that reported in the hour."),
                Column("peak_load_kw", "Peak load, summed over the feeders.", "kW"),
                Column("mean_load_kw", "Mean load, summed over the feeders.", "kW"),
                Column("limit_kw", "Their limits, summed (inventory).", "kW"),
                Column("peak_ratio", "Highest peak / limit of one feeder."),
                SUPPRESSED,
            ),
            _feeders,
        ),
        Indicator(
            "corridor-load",
            "Transit corridor load against capacity",
            "Passengers boarding on each corridor in each hour, against what it carries in an hour.",
            ("transit_counter",),
            "TRAN",
            ("public transport", "corridor", "load"),
            "corridor",
            (
                HOUR,
                Column("corridor", "Corridor (inventory id)."),
                Column("counters", "Passenger counters that reported in the hour."),
                Column("boardings", "Passengers counted boarding."),
                Column("capacity", "Passengers the corridor carries in an hour (inventory)."),
                Column("load_ratio", "boardings / capacity."),
                SUPPRESSED,
            ),
            _corridors,
        ),
        Indicator(
            "air-quality",
            "Air quality",
            "Hourly mean concentrations measured by the zone's air-quality stations.",
            ("air",),
            "ENVI",
            ("air quality", "pollution", "PM2.5", "NO2"),
            "zone",
            (
                HOUR,
                ZONE,
                Column("stations", "Stations that reported in the hour."),
                Column("pm25_mean", "PM2.5", "µg/m³"),
                Column("pm10_mean", "PM10", "µg/m³"),
                Column("no2_mean", "NO2", "µg/m³"),
                SUPPRESSED,
            ),
            _air,
        ),
    )
}


def compute(
    indicator: Indicator,
    inventory: Inventory,
    history: dict[str, list[Reading]],
    start_s: int,
    end_s: int,
    rules: PrivacyRules,
) -> list[Cell]:
    """The indicator's published cells over [start_s, end_s), suppressed where need be."""
    cells = indicator.cells(inventory, history, start_s, end_s)
    if indicator.key == "zone":
        cells = suppress(cells, rules)
    else:
        for cell in cells:
            cell["suppressed"] = False
    return cells
