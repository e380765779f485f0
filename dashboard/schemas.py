"""Response models of the console's REST API (they make /docs say what each route returns)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FieldValue = float | int | str | bool


class ReadingOut(BaseModel):
    device_id: str = Field(description="The device.")
    kind: str = Field(description="Its kind: meter, feeder, bike_station, ...")
    zone: str = Field(description="The zone it is in.")
    ts: float = Field(description="Device time of the reading, epoch seconds.")
    seq: int = Field(description="The device's sequence number.")
    arrival: float = Field(description="When ingest received it, epoch seconds.")
    fields: dict[str, FieldValue] = Field(description="The kind's attributes (FIWARE names).")


class PlanOut(BaseModel):
    domain: str = Field(description="mobility, energy or slots.")
    created: float = Field(description="When the plan was made, epoch seconds.")
    status: str = Field(description="optimal, feasible, fallback or failed.")
    body: dict[str, Any] = Field(description="Decisions, KPIs against doing nothing, solve_ms.")


class ZoneOut(BaseModel):
    id: str = Field(description="Zone id as in the topics.")
    name: str = Field(description="Display name.")
    x: float = Field(description="Schematic x coordinate, km.")
    y: float = Field(description="Schematic y coordinate, km.")


class CorridorOut(BaseModel):
    id: str = Field(description="Corridor id.")
    capacity: float = Field(description="Capacity per slot.")


class TerritoryOut(BaseModel):
    name: str = Field(description="Territory name, from the inventory.")
    from_inventory: bool = Field(description="False when the zones were derived from readings.")
    zones: list[ZoneOut] = Field(description="Zones to draw.")
    corridors: list[CorridorOut] = Field(description="Corridors with their capacity per slot.")


class WhoAmI(BaseModel):
    name: str = Field(description="Name of the token's holder.")
    role: str = Field(description="viewer or operator.")


class ZoneSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="Zone id.")
    name: str = Field(description="Display name.")
    state: str = Field(description="ok, warning or critical: the worst of its open alerts.")
    bikes_available: float | None = Field(default=None, description="Bikes docked in the zone.")
    bikes_capacity: float | None = Field(default=None, description="Docks in the zone.")
    feeder_load_kw: float | None = Field(default=None, description="Load of its feeders, kW.")
    feeder_limit_kw: float | None = Field(default=None, description="Their limits, kW.")
    corridor: str | None = Field(default=None, description="Its most loaded corridor.")
    corridor_load: float | None = Field(default=None, description="That corridor's load per slot.")
    corridor_capacity: float | None = Field(default=None, description="Its capacity per slot.")
    pm25: float | None = Field(default=None, description="Highest PM2.5 in the zone, µg/m³.")
    air: str | None = Field(default=None, description="Air quality band from PM2.5.")


class HistoryOut(BaseModel):
    device_id: str = Field(description="The device.")
    start: float = Field(description="Window start, epoch s.")
    end: float = Field(description="Window end (excluded), epoch s.")
    step: float = Field(description="Bucket length in s; 0 for raw readings.")
    aggregate: str | None = Field(description="How buckets were aggregated; null when raw.")
    truncated: bool = Field(description="True when only the newest readings were kept.")
    points: list[dict[str, Any]] = Field(
        description="Raw: ts, seq and the fields. Aggregated: ts (bucket start), n, numbers."
    )


class ZoneHistoryOut(BaseModel):
    zone: str = Field(description="The zone.")
    kind: str = Field(description="The kind of device added up: feeder, bike_station, ...")
    devices: list[str] = Field(description="The zone's devices of that kind, added up.")
    devices_from: str = Field(
        description="inventory (the console's inventory lists them), or readings (no"
        " inventory entry for the zone: the devices whose newest reading is in it)."
    )
    start: float = Field(description="Window start, epoch s.")
    end: float = Field(description="Window end (excluded), epoch s.")
    step: int = Field(description="Step length in s; steps are aligned on the epoch.")
    aggregate: str = Field(
        description="Per attribute: sum (of the devices' step means), mean, min or max (of"
        " those means), or devices (how many had a value)."
    )
    points: list[dict[str, Any]] = Field(
        description="Per step with a reading: ts (step start), n (readings), devices (devices"
        " that reported), and each numeric attribute aggregated across devices."
    )


class AlertOut(BaseModel):
    id: str = Field(description="Rule and subject: stable while the condition holds.")
    rule: str = Field(description="stale, station_empty, station_full, feeder_load, ...")
    severity: str = Field(description="warning or critical.")
    state: str = Field(description="open or cleared.")
    message: str = Field(description="What is wrong.")
    zone: str | None = Field(description="The zone concerned, if any.")
    device_id: str | None = Field(description="The device concerned, if any.")
    value: float | None = Field(description="The figure that raised it.")
    raised: float = Field(description="When it was raised, epoch s.")
    cleared: float | None = Field(description="When it was cleared, epoch s.")


class RunOut(BaseModel):
    id: int = Field(description="Run number since the console started.")
    domain: str = Field(description="The domain optimised.")
    requested_by: str = Field(description="Who asked for it.")
    state: str = Field(description="running, succeeded, failed or timed_out.")
    started: float = Field(description="Start, epoch s.")
    finished: float | None = Field(description="End, epoch s.")
    exit_code: int | None = Field(description="The command's exit status.")
    output: str = Field(description="The end of its output.")


class CorridorLoadOut(BaseModel):
    corridor: str = Field(description="Corridor id.")
    zone: str | None = Field(description="First zone it serves (or its counters' zone).")
    boardings: float = Field(description="Sum of its counters' last readings.")
    per_slot: float = Field(description="Estimated passengers per slot.")
    capacity: float | None = Field(description="Capacity per slot, from the scenario.")
