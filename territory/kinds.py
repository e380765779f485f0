"""The payload contract: one pydantic model per device kind.

Attribute names follow FIWARE Smart Data Models where one exists, so that a
payload reads the same here as in any NGSI-LD broker.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# datetime's own range: a device time beyond it is a broken clock, not a date.
_LATEST_EPOCH_S = 253_402_300_799


def _out_of_range() -> PydanticCustomError:
    return PydanticCustomError("ts_out_of_range", "epoch seconds out of range")


def _to_epoch_ns(value: Any) -> int:
    """RFC 3339 or epoch seconds → integer epoch nanoseconds, at microsecond resolution.

    An int rather than a datetime because this runs for every message ingested, and
    the store keys readings on nanoseconds anyway.
    """
    if type(value) is float:
        if not math.isfinite(value):
            raise PydanticCustomError("finite_number", "timestamp must be a finite number")
        if abs(value) > _LATEST_EPOCH_S:
            raise _out_of_range()
        return round(value * 1e6) * 1000
    if type(value) is int:
        if abs(value) > _LATEST_EPOCH_S:
            raise _out_of_range()
        return value * 1_000_000_000
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise PydanticCustomError("wrong_type", "timestamp is not RFC 3339") from exc
        if value.tzinfo is None:
            raise PydanticCustomError("wrong_type", "RFC 3339 timestamp needs an offset or Z")
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (aware - _EPOCH) // _MICROSECOND * 1000
    raise PydanticCustomError("wrong_type", "timestamp must be RFC 3339 or epoch seconds")


DeviceTime = Annotated[
    int,
    PlainValidator(_to_epoch_ns),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string", "format": "date-time"}],
            "description": "RFC 3339 or epoch seconds",
        }
    ),
]
"""A device time as sent (RFC 3339 or epoch seconds), held as integer epoch nanoseconds."""

Kilowatts = Annotated[float, Field(ge=-1e6, le=1e6)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]


class Telemetry(BaseModel):
    """Fields every payload carries, whatever its kind."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True, frozen=True)

    ts: DeviceTime = Field(
        description="Device time of the reading: RFC 3339 or epoch seconds (held as epoch ns)."
    )
    seq: NonNegativeInt = Field(
        le=2**63 - 1, description="Per-device sequence number, increasing (a signed 64-bit int)."
    )
    id: str | None = Field(
        default=None, description="Device id; when present it must equal the topic's device id."
    )

    def attributes(self) -> dict[str, float | int | str | bool]:
        """The kind's own attributes, without the envelope, leaving out unset optionals."""
        return {
            name: value
            for name, value in self.__dict__.items()
            if name not in _ENVELOPE and value is not None
        }


_ENVELOPE = frozenset(Telemetry.model_fields)


class Meter(Telemetry):
    """A smart meter (FIWARE Energy/ThreePhaseAcMeasurement)."""

    activePower: Kilowatts = Field(description="Active power drawn, kW (negative: injected).")
    activeEnergyImport: float = Field(ge=0, description="Cumulative energy imported, kWh.")
    feeder: str | None = Field(default=None, description="Feeder the meter hangs on.")


class Pv(Telemetry):
    """A photovoltaic array's inverter."""

    activePower: Kilowatts = Field(ge=0, description="Power generated, kW.")
    feeder: str | None = Field(default=None, description="Feeder the array injects into.")


class Feeder(Telemetry):
    """A feeder head meter at the substation: the net load of everything on it."""

    activePower: Kilowatts = Field(description="Net load of the feeder, kW.")
    powerLimit: float = Field(gt=0, le=1e6, description="Thermal or contractual limit, kW.")


class EvCharger(Telemetry):
    """An EV charging point (FIWARE Transportation/EVChargingStation)."""

    status: Literal["available", "charging", "occupied", "outOfService"] = Field(
        description="Availability of the point; 'occupied' is plugged but not drawing."
    )
    powerConsumption: float = Field(ge=0, le=1000, description="Power drawn now, kW.")
    maxPower: float = Field(gt=0, le=1000, description="Highest power the point may draw, kW.")
    feeder: str = Field(description="Feeder the charger hangs on.")
    requestedEnergy: float | None = Field(
        default=None, ge=0, le=1000, description="Energy still wanted by the plugged vehicle, kWh."
    )
    departure: DeviceTime | None = Field(
        default=None, description="When the plugged vehicle leaves: RFC 3339 or epoch seconds."
    )
    assumed: bool | None = Field(
        default=None,
        description="True when requestedEnergy and departure are the charger's defaults from "
        "the inventory, not what the vehicle asked (chargers without ISO 15118).",
    )
    activeEnergyImport: float | None = Field(
        default=None, ge=0, description="The charger's energy register, kWh cumulative."
    )

    @model_validator(mode="after")
    def _session_is_whole(self) -> EvCharger:
        if (self.requestedEnergy is None) != (self.departure is None):
            raise PydanticCustomError(
                "missing_attribute", "requestedEnergy and departure come together"
            )
        return self

    def attributes(self) -> dict[str, float | int | str | bool]:
        found = super().attributes()
        if self.departure is not None:
            found["departure"] = self.departure / 1e9
        return found


class BikeStation(Telemetry):
    """A shared bike, scooter or car station (FIWARE Transportation/BikeHireDockingStation)."""

    availableBikeNumber: Count = Field(description="Vehicles ready to take.")
    freeSlotNumber: Count = Field(description="Empty docks ready to take a return.")
    totalSlotNumber: Count = Field(description="Docks in all, including out-of-order ones.")
    outOfServiceSlotNumber: Count | None = Field(
        default=None, description="Docks out of order (GBFS num_docks_disabled), when known."
    )
    status: Literal["working", "outOfService", "withIncidence"] | None = Field(
        default=None,
        description="working: renting and taking returns; withIncidence: only one of the two; "
        "outOfService: neither, or not installed (from GBFS is_installed/is_renting/is_returning).",
    )

    @model_validator(mode="after")
    def _fits_in_station(self) -> BikeStation:
        if self.availableBikeNumber + self.freeSlotNumber > self.totalSlotNumber:
            raise PydanticCustomError(
                "invalid_value", "availableBikeNumber + freeSlotNumber exceeds totalSlotNumber"
            )
        return self


class Traffic(Telemetry):
    """A street traffic counter (FIWARE Transportation/TrafficFlowObserved)."""

    intensity: Count = Field(description="Vehicles counted in the last interval.")
    occupancy: float = Field(ge=0, le=1, description="Share of time the detector was occupied.")
    averageVehicleSpeed: float = Field(ge=0, le=300, description="Mean speed, km/h.")


class TransitCounter(Telemetry):
    """A passenger counter on a transit corridor."""

    boardings: Count = Field(description="Passengers boarding in the last interval.")
    corridor: str | None = Field(default=None, description="Corridor the counter watches.")


class Air(Telemetry):
    """An air-quality station (FIWARE Environment/AirQualityObserved), µg/m³."""

    pm25: float = Field(ge=0, le=5000, description="PM2.5 concentration.")
    pm10: float = Field(ge=0, le=5000, description="PM10 concentration.")
    no2: float = Field(ge=0, le=5000, description="NO2 concentration.")


class Van(Telemetry):
    """A rebalancing van of the shared-vehicle operator."""

    status: Literal["idle", "driving", "servicing"] = Field(
        description="Idle at a place, driving between stops, or loading/unloading at a station."
    )
    station: str = Field(description="Station (or depot) it is at, or last left while driving.")
    load: Count = Field(description="Vehicles on board.")
    capacity: Annotated[int, Field(gt=0, le=1000)] = Field(description="Vehicles it can carry.")

    @model_validator(mode="after")
    def _fits_in_van(self) -> Van:
        if self.load > self.capacity:
            raise PydanticCustomError("invalid_value", "load exceeds capacity")
        return self


KINDS: dict[str, type[Telemetry]] = {
    "meter": Meter,
    "pv": Pv,
    "feeder": Feeder,
    "ev_charger": EvCharger,
    "bike_station": BikeStation,
    "traffic": Traffic,
    "transit_counter": TransitCounter,
    "air": Air,
    "van": Van,
}
