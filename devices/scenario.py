"""A territory scenario: what the twin simulates, validated from a YAML file.

`load_scenario(path)` returns a `Scenario` or raises `ScenarioError` naming the file
and the field at fault. Devices are declared in groups (N alike devices in one zone);
`Scenario.devices()` expands the groups into one `DeviceSpec` per device, with stable
ids and schematic positions, for every package that needs the device list.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from territory import documents, inventory
from territory.identifiers import Identifier

ZoneProfile = Literal["residential", "commercial", "mixed", "rural"]
LoadProfile = Literal["residential", "commercial"]
ChargerUse = Literal["home", "work", "public", "fleet"]

# Short kind names used in generated device ids (centre-mtr-001, ...).
ID_PREFIXES = {
    "meter": "mtr",
    "pv": "pv",
    "ev_charger": "evc",
    "bike_station": "bik",
    "traffic": "trf",
    "transit_counter": "trn",
    "air": "air",
}
# Devices of one group are laid out on a spiral of this radius around their zone centre.
ZONE_RADIUS_KM = 0.8


class ScenarioError(documents.DocumentError):
    """A scenario file that cannot be used; the message names the file and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Zone(inventory.Zone):
    """An inventory zone, with what the twin simulates in it."""

    profile: ZoneProfile = Field(
        default="mixed",
        description="What the zone mostly is; shapes its bike and traffic flows.",
    )


class FeederSpec(_Model):
    """A medium-voltage feeder with a head meter at the substation."""

    id: Identifier = Field(description="Feeder id; also the head meter's device id.")
    zone: Identifier = Field(description="Zone the head meter publishes under.")
    limit_kw: float = Field(gt=0, description="Thermal or contractual import limit, kW.")
    export_limit_kw: float | None = Field(
        default=None,
        gt=0,
        description="Most the feeder can send upstream, kW; solar beyond it is curtailed. "
        "Defaults to limit_kw.",
    )

    @property
    def export_limit(self) -> float:
        return self.limit_kw if self.export_limit_kw is None else self.export_limit_kw


class Periods(_Model):
    """Seconds between two readings of one device, per kind (simulated time)."""

    meter: float = Field(default=60.0, gt=0, description="Smart meters.")
    pv: float = Field(default=60.0, gt=0, description="PV inverters.")
    feeder: float = Field(default=10.0, gt=0, description="Feeder head meters.")
    ev_charger: float = Field(default=15.0, gt=0, description="EV charging points.")
    bike_station: float = Field(default=30.0, gt=0, description="Bike stations.")
    traffic: float = Field(default=60.0, gt=0, description="Traffic counters.")
    transit_counter: float = Field(default=60.0, gt=0, description="Transit passenger counters.")
    air: float = Field(default=120.0, gt=0, description="Air-quality stations.")
    van: float = Field(default=30.0, gt=0, description="Rebalancing vans' trackers.")


class _Group(_Model):
    zone: Identifier = Field(description="Zone the devices are in.")
    count: int = Field(ge=1, le=100_000, description="How many alike devices.")
    prefix: Identifier | None = Field(
        default=None,
        description="Device id prefix; ids are PREFIX-001, ... Defaults to ZONE-KIND.",
    )


class MeterGroup(_Group):
    """Smart meters of one load profile on one feeder."""

    feeder: Identifier = Field(description="Feeder the meters hang on.")
    profile: LoadProfile = Field(description="Daily load shape.")
    mean_kw: float = Field(gt=0, le=10_000, description="Mean load of one household/site, kW.")
    households: int = Field(
        default=1,
        ge=1,
        le=100_000,
        description="Sites behind one meter: >1 makes each device an aggregate meter.",
    )


class PvGroup(_Group):
    """Photovoltaic arrays injecting into one feeder."""

    feeder: Identifier = Field(description="Feeder the arrays inject into.")
    peak_kw: float = Field(gt=0, le=100_000, description="Peak output of one array, kW.")


class ChargerGroup(_Group):
    """EV charging points on one feeder, used alike."""

    feeder: Identifier = Field(description="Feeder the chargers hang on.")
    max_kw: float = Field(gt=0, le=1000, description="Highest power of one point, kW.")
    use: ChargerUse = Field(
        description="home: evening arrivals, leave in the morning; work: arrive in the "
        "morning for a working day; public: short stays all day; fleet: depot vehicles "
        "arriving through the night, leaving at dawn."
    )
    sessions_per_day: float = Field(gt=0, le=48, description="Mean arrivals per point and day.")
    mean_energy_kwh: float = Field(gt=0, le=200, description="Mean energy a vehicle wants, kWh.")
    initial_occupancy: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Share of points plugged at start; None lets the warm-up decide.",
    )


class StationGroup(_Group):
    """Shared-bike docking stations."""

    slots: int = Field(ge=1, le=500, description="Docks per station.")
    bikes: int = Field(ge=0, le=500, description="Bikes docked per station at start.")
    trips_per_day: float = Field(ge=0, le=2000, description="Mean pickups per station and day.")

    @model_validator(mode="after")
    def _bikes_fit(self) -> StationGroup:
        if self.bikes > self.slots:
            raise ValueError(f"bikes ({self.bikes}) exceeds slots ({self.slots})")
        return self


class TrafficGroup(_Group):
    """Street traffic counters."""

    peak_vph: float = Field(gt=0, le=20_000, description="Vehicles per hour at the peak.")
    free_speed_kmh: float = Field(default=50.0, gt=0, le=200, description="Speed when empty.")
    corridor: Identifier | None = Field(
        default=None, description="Corridor whose commuters drive past; None: none."
    )


class TransitGroup(_Group):
    """Passenger counters on one transit corridor."""

    corridor: Identifier = Field(description="Corridor the counters watch.")


class AirGroup(_Group):
    """Air-quality stations."""

    background_pm25: float = Field(default=8.0, ge=0, le=500, description="PM2.5 with no traffic.")


# A scenario's vans are the inventory's: what the twin simulates of them is their speed and
# stop time, which the inventory keeps too.
Van = inventory.Van


class Corridor(inventory.Corridor):
    """A commuting corridor: the inventory's, with the commuters the twin simulates on it."""

    daily_trips: int = Field(ge=0, description="Commuter trips per day on the corridor.")
    compliance: float = Field(
        default=0.7, ge=0, le=1, description="Share of commuters who follow an assigned slot."
    )


class FaultMix(_Model):
    """Relative weights of each fault kind when faults are switched on (--faults SHARE)."""

    invalid_json: float = Field(default=1.0, ge=0, description="Truncated JSON.")
    wrong_type: float = Field(default=1.0, ge=0, description="A number sent as a string.")
    non_finite: float = Field(default=1.0, ge=0, description="NaN in a number.")
    missing_attribute: float = Field(default=1.0, ge=0, description="A required field left out.")
    absurd_timestamp: float = Field(default=1.0, ge=0, description="A timestamp years off.")
    duplicate: float = Field(default=1.0, ge=0, description="The same payload sent twice.")
    wrong_device: float = Field(
        default=0.0, ge=0, description="A payload sent on another device's topic."
    )
    clock_skew: float = Field(
        default=0.0, ge=0, description="A timestamp hours in the future (a drifting clock)."
    )
    stale: float = Field(default=0.0, ge=0, description="The previous values sent again.")
    reordered: float = Field(default=0.0, ge=0, description="Held back, sent after the next one.")
    silent: float = Field(default=0.0, ge=0, description="Device falls silent for a while.")
    burst: float = Field(
        default=0.0, ge=0, description="Device goes offline, then flushes its backlog."
    )


class Scenario(_Model):
    """A whole territory: zones, grid, devices, vans, corridors and timing."""

    name: Identifier = Field(description="Scenario name.")
    description: str = Field(default="", description="What this territory is.")
    latitude: float = Field(default=48.11, ge=-90, le=90, description="For the sun, degrees.")
    longitude: float = Field(default=-1.68, ge=-180, le=180, description="For the sun, degrees.")
    utc_offset_h: float = Field(
        default=1.0, ge=-12, le=14, description="Local time offset that daily shapes follow."
    )
    step_s: float = Field(
        default=10.0, gt=0, le=600, description="Simulated seconds between two world updates."
    )
    warmup_h: float = Field(
        default=24.0, ge=0, le=72, description="Simulated hours run before publishing starts."
    )
    jitter: float = Field(
        default=0.1, ge=0, lt=1, description="Random spread of each period, as a share of it."
    )
    periods: Periods = Field(default_factory=Periods, description="Reporting period per kind.")
    zones: list[Zone] = Field(min_length=1, description="The zones.")
    feeders: list[FeederSpec] = Field(default_factory=list, description="The feeders.")
    meters: list[MeterGroup] = Field(default_factory=list, description="Smart meters.")
    pv: list[PvGroup] = Field(default_factory=list, description="PV arrays.")
    ev_chargers: list[ChargerGroup] = Field(default_factory=list, description="EV chargers.")
    bike_stations: list[StationGroup] = Field(default_factory=list, description="Bike stations.")
    traffic: list[TrafficGroup] = Field(default_factory=list, description="Traffic counters.")
    transit_counters: list[TransitGroup] = Field(
        default_factory=list, description="Transit passenger counters."
    )
    air: list[AirGroup] = Field(default_factory=list, description="Air-quality stations.")
    vans: list[Van] = Field(default_factory=list, description="Rebalancing vans.")
    corridors: list[Corridor] = Field(default_factory=list, description="Commuting corridors.")
    faults: FaultMix = Field(default_factory=FaultMix, description="Mix of injected faults.")

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        zones = _unique("zones", [z.id for z in self.zones])
        feeders = _unique("feeders", [f.id for f in self.feeders])
        corridors = _unique("corridors", [c.id for c in self.corridors])
        _unique("vans", [v.id for v in self.vans])
        for where, zone in self._zone_references():
            if zone not in zones:
                raise ValueError(f"{where}.zone: unknown zone {zone!r}")
        for section, groups in (("meters", self.meters), ("pv", self.pv)):
            _check_refs(section, "feeder", [g.feeder for g in groups], feeders)
        _check_refs("ev_chargers", "feeder", [g.feeder for g in self.ev_chargers], feeders)
        _check_refs(
            "transit_counters", "corridor", [g.corridor for g in self.transit_counters], corridors
        )
        _check_refs(
            "traffic", "corridor", [g.corridor for g in self.traffic if g.corridor], corridors
        )
        for index, corridor in enumerate(self.corridors):
            _check_refs(f"corridors.{index}", "zones", corridor.zones, zones)
        device_ids = [spec.device_id for spec in self.devices()]
        _unique("device ids", device_ids + [f.id for f in self.feeders])
        return self

    def _zone_references(self) -> Iterator[tuple[str, str]]:
        for section in ("feeders", "vans", *GROUP_SECTIONS):
            for index, item in enumerate(getattr(self, section)):
                yield f"{section}.{index}", item.zone

    def zone(self, zone_id: str) -> Zone:
        return next(z for z in self.zones if z.id == zone_id)

    def devices(self) -> list[DeviceSpec]:
        """Every device of every group (feeder head meters excluded), ids in file order."""
        zones = {z.id: z for z in self.zones}
        numbering: dict[str, int] = {}
        found: list[DeviceSpec] = []
        for section, kind in GROUP_SECTIONS.items():
            for group_index, group in enumerate(getattr(self, section)):
                prefix = group.prefix or f"{group.zone}-{ID_PREFIXES[kind]}"
                zone = zones.get(group.zone)
                for _ in range(group.count):
                    number = numbering.get(prefix, 0) + 1
                    numbering[prefix] = number
                    x, y = _spiral(zone.x if zone else 0.0, zone.y if zone else 0.0, number)
                    found.append(
                        DeviceSpec(
                            kind, group.zone, f"{prefix}-{number:03d}", section, group_index, x, y
                        )
                    )
        return found


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One device of the scenario: where it is and which group describes it."""

    kind: str
    zone: str
    device_id: str
    section: str
    group: int
    x: float
    y: float


# Scenario section → device kind (the topic's {kind}).
GROUP_SECTIONS = {
    "meters": "meter",
    "pv": "pv",
    "ev_chargers": "ev_charger",
    "bike_stations": "bike_station",
    "traffic": "traffic",
    "transit_counters": "transit_counter",
    "air": "air",
}


def _spiral(x: float, y: float, number: int) -> tuple[float, float]:
    """A fixed, well-spread position for the number-th device of a zone (a sunflower spiral)."""
    radius = ZONE_RADIUS_KM * math.sqrt((number % 200 + 0.5) / 200)
    angle = number * 2.399963  # the golden angle, radians
    return round(x + radius * math.cos(angle), 4), round(y + radius * math.sin(angle), 4)


def _unique(what: str, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what}: {item!r} is declared twice")
        seen.add(item)
    return seen


def _check_refs(section: str, field: str, values: list[str], known: set[str]) -> None:
    for index, value in enumerate(values):
        if value not in known:
            raise ValueError(f"{section}.{index}.{field}: unknown {field.rstrip('s')} {value!r}")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; ScenarioError names the file and the field."""
    try:
        return documents.load(Scenario, path, "scenario")
    except documents.DocumentError as exc:
        raise ScenarioError(str(exc)) from exc
