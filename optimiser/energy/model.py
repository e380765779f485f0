"""The energy problem format: feeders, EV sessions, batteries and prices over time slots."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

Kw = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
PerSlot = Kw | list[Kw]


def per_slot(value: PerSlot | None, slots: int, default: float = 0.0) -> np.ndarray:
    """A scalar-or-list field as one value per slot."""
    if value is None:
        return np.full(slots, default, dtype=float)
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    return np.full(slots, float(value), dtype=float)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FeederSpec(_Strict):
    """A feeder: every session and battery on it shares its limit."""

    id: str = Field(min_length=1, description="Feeder id, referenced by sessions and batteries.")
    limit_kw: PerSlot = Field(
        description="Highest net load allowed, kW: one value, or one per slot."
    )
    base_load_kw: PerSlot = Field(
        default=0.0,
        description="Load that is not flexible (homes, shops), kW: one value, or one per slot.",
    )
    pv_kw: PerSlot = Field(
        default=0.0, description="Local solar generation forecast, kW: one value, or one per slot."
    )
    zone: str | None = Field(default=None, description="Zone the feeder serves, for display.")


class SessionSpec(_Strict):
    """An EV plugged (or expected) on a charger of a feeder."""

    id: str = Field(min_length=1, description="Session id; live, the charger's device id.")
    feeder: str = Field(description="Id of the feeder the charger hangs on.")
    arrival_slot: int = Field(ge=0, description="First slot the vehicle can charge in.")
    departure_slot: int = Field(
        gt=0, description="Slot the vehicle leaves at: it charges up to the slot before."
    )
    energy_kwh: float = Field(ge=0, le=1e4, description="Energy the vehicle asks for, kWh.")
    max_power_kw: float = Field(gt=0, le=1e4, description="Highest power it can draw, kW.")
    zone: str | None = Field(default=None, description="Zone of the charger, for its command.")


class BatterySpec(_Strict):
    """A stationary battery on a feeder."""

    id: str = Field(min_length=1, description="Battery id.")
    feeder: str = Field(description="Id of the feeder the battery hangs on.")
    capacity_kwh: float = Field(gt=0, le=1e6, description="Usable capacity, kWh.")
    soc_kwh: float = Field(ge=0, le=1e6, description="Energy stored at the start, kWh.")
    max_charge_kw: float = Field(ge=0, le=1e6, description="Highest charging power, kW.")
    max_discharge_kw: float = Field(ge=0, le=1e6, description="Highest discharging power, kW.")
    efficiency: float = Field(
        default=0.95, gt=0, le=1, description="One-way efficiency of charging and discharging."
    )
    final_soc_kwh: float | None = Field(
        default=None,
        ge=0,
        description="Energy to hold at least at the end; by default the starting energy.",
    )


class EnergyProblem(_Strict):
    """Everything the energy optimiser plans over."""

    slot_minutes: float = Field(default=15, gt=0, le=1440, description="Length of a slot.")
    horizon_slots: int = Field(gt=0, le=10_000, description="Number of slots planned.")
    start: float | None = Field(
        default=None, description="Epoch seconds at which slot 0 starts (live problems)."
    )
    feeders: list[FeederSpec] = Field(min_length=1, description="The feeders.")
    sessions: list[SessionSpec] = Field(default_factory=list, description="The EV sessions.")
    batteries: list[BatterySpec] = Field(default_factory=list, description="The batteries.")
    tariff: PerSlot | None = Field(
        default=None, description="Price of grid energy per kWh: one value, or one per slot."
    )
    carbon: PerSlot | None = Field(
        default=None, description="Carbon intensity of grid energy, g/kWh: one value or per slot."
    )
    carbon_price: float = Field(
        default=0.0, ge=0, description="Price of one kg of CO2, in tariff units."
    )
    peak_price: float = Field(
        default=0.1, ge=0, description="Price of one kW of each feeder's peak over the horizon."
    )
    objective: Literal["cost", "headroom"] = Field(
        default="cost",
        description=(
            "After delivering the most energy: 'cost' minimises cost and peak, "
            "'headroom' delivers as early as possible, sooner departures first."
        ),
    )

    @property
    def slot_hours(self) -> float:
        return self.slot_minutes / 60.0

    @model_validator(mode="after")
    def _consistent(self) -> EnergyProblem:
        _check_lengths(self)
        feeders = _unique("feeders", [f.id for f in self.feeders])
        _unique("sessions", [s.id for s in self.sessions])
        _unique("batteries", [b.id for b in self.batteries])
        for i, s in enumerate(self.sessions):
            if s.feeder not in feeders:
                raise ValueError(f"sessions[{i}].feeder: {s.feeder!r} is not a feeder id")
            if s.departure_slot <= s.arrival_slot:
                raise ValueError(f"sessions[{i}].departure_slot: must be after arrival_slot")
            if s.departure_slot > self.horizon_slots:
                raise ValueError(
                    f"sessions[{i}].departure_slot: {s.departure_slot} is beyond "
                    f"horizon_slots ({self.horizon_slots})"
                )
        for i, b in enumerate(self.batteries):
            if b.feeder not in feeders:
                raise ValueError(f"batteries[{i}].feeder: {b.feeder!r} is not a feeder id")
            if b.soc_kwh > b.capacity_kwh:
                raise ValueError(f"batteries[{i}].soc_kwh: above capacity_kwh")
            if b.final_soc_kwh is not None and b.final_soc_kwh > b.capacity_kwh:
                raise ValueError(f"batteries[{i}].final_soc_kwh: above capacity_kwh")
        return self

    def price(self) -> np.ndarray:
        """Price of one kWh imported in each slot; 1 when neither tariff nor carbon is given,
        so that importing less (using local solar first) is still preferred."""
        n = self.horizon_slots
        if self.tariff is None and self.carbon is None:
            return np.ones(n)
        carbon = per_slot(self.carbon, n) * self.carbon_price / 1000.0
        return per_slot(self.tariff, n) + carbon


def _check_lengths(problem: EnergyProblem) -> None:
    n = problem.horizon_slots
    fields: list[tuple[str, PerSlot | None]] = [
        ("tariff", problem.tariff),
        ("carbon", problem.carbon),
    ]
    for i, f in enumerate(problem.feeders):
        fields += [
            (f"feeders[{i}].limit_kw", f.limit_kw),
            (f"feeders[{i}].base_load_kw", f.base_load_kw),
            (f"feeders[{i}].pv_kw", f.pv_kw),
        ]
    for name, value in fields:
        if isinstance(value, list) and len(value) != n:
            raise ValueError(f"{name}: has {len(value)} values, horizon_slots is {n}")
    for name, prices in (("tariff", problem.tariff), ("carbon", problem.carbon)):
        if np.any(per_slot(prices, n) < 0):
            raise ValueError(f"{name}: must not be negative")
    for i, f in enumerate(problem.feeders):
        if np.any(per_slot(f.limit_kw, n) <= 0):
            raise ValueError(f"feeders[{i}].limit_kw: must be positive")
        if np.any(per_slot(f.pv_kw, n) < 0):
            raise ValueError(f"feeders[{i}].pv_kw: must not be negative")


def _unique(name: str, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            raise ValueError(f"{name}[{i}].id: {item!r} appears twice")
        seen.add(item)
    return seen
