"""The territory's inventory: zones, and every device with its physical limits.

The one source of truth for who may report (ingest), every hard limit (the optimiser)
and the map (the console). A limit that protects equipment comes from here, never from
a reading: a reading may claim a limit, and the claim is only compared with this one.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from territory.identifiers import Identifier

DeviceKind = Literal[
    "meter",
    "pv",
    "feeder",
    "ev_charger",
    "bike_station",
    "traffic",
    "transit_counter",
    "air",
    "van",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Zone(_Model):
    """A district of the territory, drawn as a point on the schematic map."""

    id: Identifier = Field(description="Zone id, used in topics: territory/{zone}/...")
    name: str = Field(description="Name shown to operators.")
    x: float = Field(description="Schematic east coordinate, km.")
    y: float = Field(description="Schematic north coordinate, km.")


OcppQuirk = Literal["watts_only", "amps_only", "stack_level_zero", "no_tx_default"]
"""What a charger is known to get wrong about charging profiles, so that the bridge does
not ask it: limits only in watts or only in amps, only stack level 0, no TxDefaultProfile."""


class OcppConnector(_Model):
    """How an `ev_charger` device is reached over OCPP, when it is one."""

    charge_point_id: Identifier = Field(description="The charge point's OCPP identity.")
    connector_id: int = Field(
        default=1, ge=1, le=64, description="Connector (1.6) or EVSE (2.0.1) id on that point."
    )
    password_file: str | None = Field(
        default=None,
        description="File holding the charge point's basic-auth password (security profiles "
        "1 and 2); the password itself is never written in the inventory.",
    )
    default_dwell_h: float = Field(
        default=8.0, gt=0, le=72, description="Assumed stay when the charger sends no departure."
    )
    default_energy_kwh: float = Field(
        default=20.0, gt=0, le=500, description="Assumed energy wanted when the charger sends none."
    )
    security_profile: Literal[1, 2] = Field(
        default=2,
        description="OCPP security profile: 1 = HTTP basic auth, 2 = basic auth over TLS "
        "(wss); a profile-2 charge point is refused on a plain ws listener.",
    )
    quirks: list[OcppQuirk] = Field(
        default_factory=list,
        description="What the charge point gets wrong about charging profiles "
        "(watts_only, amps_only, stack_level_zero, no_tx_default); the same on every "
        "connector of one charge point.",
    )


class Device(_Model):
    """One device that reports, with the physical limits that belong to its kind."""

    id: Identifier = Field(description="Device id, used in its topics.")
    kind: DeviceKind = Field(description="Kind: the topic's {kind} and the payload model.")
    zone: Identifier = Field(description="Zone it reports under.")
    x: float | None = Field(default=None, description="Schematic east coordinate, km.")
    y: float | None = Field(default=None, description="Schematic north coordinate, km.")
    name: str | None = Field(default=None, description="Name shown to operators.")
    period_s: float | None = Field(
        default=None, gt=0, description="Seconds between two readings when it reports as expected."
    )
    feeder: Identifier | None = Field(
        default=None, description="Feeder it hangs on (meters, PV, chargers)."
    )
    limit_kw: float | None = Field(
        default=None, gt=0, le=1e6, description="Feeders: thermal or contractual import limit, kW."
    )
    export_limit_kw: float | None = Field(
        default=None,
        gt=0,
        le=1e6,
        description="Feeders: most sent upstream, kW (default limit_kw).",
    )
    max_power_kw: float | None = Field(
        default=None, gt=0, le=1000, description="Chargers: highest power the point may draw, kW."
    )
    phases: Literal[1, 3] = Field(default=3, description="Chargers: phases wired.")
    voltage_v: float = Field(
        default=230.0, gt=0, le=1000, description="Chargers: phase-to-neutral voltage, V."
    )
    ocpp: OcppConnector | None = Field(
        default=None, description="Chargers reached over OCPP: how to address them."
    )
    capacity: int | None = Field(
        default=None, ge=1, le=10_000, description="Stations: docks; vans: vehicles carried."
    )
    corridor: Identifier | None = Field(
        default=None, description="Transit counters and traffic: the corridor watched."
    )

    @model_validator(mode="after")
    def _limits_of_its_kind(self) -> Device:
        required = {"feeder": "limit_kw", "ev_charger": "max_power_kw", "bike_station": "capacity"}
        field = required.get(self.kind)
        if field is not None and getattr(self, field) is None:
            raise ValueError(f"a {self.kind} needs {field}")
        if self.kind == "ev_charger" and self.feeder is None:
            raise ValueError("an ev_charger needs the feeder it hangs on")
        if self.ocpp is not None and self.kind != "ev_charger":
            raise ValueError("only an ev_charger can be an OCPP connector")
        return self

    @property
    def export_limit(self) -> float | None:
        return self.export_limit_kw if self.export_limit_kw is not None else self.limit_kw


class Van(_Model):
    """A rebalancing van moving shared vehicles between stations."""

    id: Identifier = Field(description="Van id, used in its topics.")
    zone: Identifier = Field(description="Depot zone; also the zone of its topics.")
    capacity: int = Field(ge=1, le=200, description="Vehicles it can carry.")
    speed_kmh: float = Field(default=25.0, gt=0, le=120, description="Mean driving speed.")
    stop_minutes: float = Field(default=3.0, ge=0, le=60, description="Time spent at a stop.")


class Corridor(_Model):
    """A commuting corridor whose load is spread over time slots."""

    id: Identifier = Field(description="Corridor id.")
    name: str = Field(description="Name shown to operators.")
    zones: list[Identifier] = Field(min_length=1, description="Zones the corridor serves.")
    capacity_per_slot: int = Field(gt=0, description="Passengers it carries per slot.")
    slot_minutes: int = Field(default=15, gt=0, le=240, description="Length of a slot.")


class Inventory(_Model):
    """A whole territory as the platform knows it."""

    name: Identifier = Field(description="Territory name.")
    utc_offset_h: float = Field(
        default=1.0, ge=-12, le=14, description="Local time offset that daily shapes follow."
    )
    zones: list[Zone] = Field(min_length=1, description="The zones.")
    devices: list[Device] = Field(default_factory=list, description="Every device that reports.")
    vans: list[Van] = Field(default_factory=list, description="Rebalancing vans.")
    corridors: list[Corridor] = Field(default_factory=list, description="Commuting corridors.")

    @model_validator(mode="after")
    def _references_resolve(self) -> Inventory:
        zones = _unique("zones", [z.id for z in self.zones])
        _unique("devices and vans", [d.id for d in self.devices] + [v.id for v in self.vans])
        _unique("corridors", [c.id for c in self.corridors])
        feeders = {d.id for d in self.devices if d.kind == "feeder"}
        corridors = {c.id for c in self.corridors}
        placed: list[Device | Van] = [*self.devices, *self.vans]
        for item in placed:
            if item.zone not in zones:
                raise ValueError(f"{item.id}: unknown zone {item.zone!r}")
        for device in self.devices:
            if device.feeder is not None and device.feeder not in feeders:
                raise ValueError(f"{device.id}: unknown feeder {device.feeder!r}")
            if device.corridor is not None and device.corridor not in corridors:
                raise ValueError(f"{device.id}: unknown corridor {device.corridor!r}")
        _ocpp_connectors_unique(self.devices)
        for corridor in self.corridors:
            for zone in corridor.zones:
                if zone not in zones:
                    raise ValueError(f"corridor {corridor.id}: unknown zone {zone!r}")
        return self

    @cached_property
    def by_id(self) -> dict[str, Device]:
        """Every device by id; vans appear as devices of kind `van`."""
        found = {d.id: d for d in self.devices}
        for van in self.vans:
            found.setdefault(
                van.id, Device(id=van.id, kind="van", zone=van.zone, capacity=van.capacity)
            )
        return found

    def device(self, device_id: str) -> Device | None:
        return self.by_id.get(device_id)

    def of_kind(self, kind: str) -> list[Device]:
        return [d for d in self.by_id.values() if d.kind == kind]

    def zone(self, zone_id: str) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)


def _ocpp_connectors_unique(devices: list[Device]) -> None:
    """One device per (charge point, connector); one password and one set of quirks per
    charge point, since a charge point logs in once for all its connectors."""
    seen: dict[tuple[str, int], str] = {}
    point_settings: dict[str, tuple[str | None, int, tuple[str, ...]]] = {}
    for device in devices:
        if device.ocpp is None:
            continue
        ocpp = device.ocpp
        key = (ocpp.charge_point_id, ocpp.connector_id)
        if key in seen:
            raise ValueError(
                f"{device.id}: charge point {key[0]} connector {key[1]} is already {seen[key]}"
            )
        seen[key] = device.id
        settings = (ocpp.password_file, ocpp.security_profile, tuple(sorted(ocpp.quirks)))
        if point_settings.setdefault(ocpp.charge_point_id, settings) != settings:
            raise ValueError(
                f"{device.id}: password_file, security_profile and quirks must be the same "
                f"on every connector of charge point {ocpp.charge_point_id}"
            )


def _unique(what: str, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what}: {item!r} is declared twice")
        seen.add(item)
    return seen
