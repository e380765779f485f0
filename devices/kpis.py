"""The ground truth the twin keeps and the optimiser cannot see, as scores.

Every KPI is "lower is better"; each counts what happened in the simulated world
(not what devices reported), from the end of the warm-up on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(slots=True)
class Kpis:
    """Running totals of what went wrong in the territory."""

    unmet_bike_pickups: int = 0
    unmet_bike_returns: int = 0
    feeder_minutes_over_limit: float = 0.0
    feeder_energy_over_limit_kwh: float = 0.0
    ev_energy_not_delivered_kwh: float = 0.0
    corridor_load_above_capacity: int = 0
    solar_curtailed_kwh: float = 0.0
    van_km: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {name: round(float(value), 3) for name, value in asdict(self).items()}

    def reset(self) -> None:
        for field in fields(self):
            setattr(self, field.name, type(getattr(self, field.name))(0))


# What each KPI measures, for tables and docs.
KPI_DESCRIPTIONS = {
    "unmet_bike_pickups": "riders who found no bike at their station",
    "unmet_bike_returns": "riders who found no free dock at their destination",
    "feeder_minutes_over_limit": "feeder-minutes with net load above the feeder's limit",
    "feeder_energy_over_limit_kwh": "energy drawn above feeder limits, kWh",
    "ev_energy_not_delivered_kwh": "energy vehicles still wanted when they left, kWh",
    "corridor_load_above_capacity": "passengers above corridor capacity, summed over slots",
    "solar_curtailed_kwh": "PV energy thrown away because the feeder could not take it, kWh",
    "van_km": "kilometres driven by rebalancing vans (the cost side)",
}
