"""KPIs of an energy plan against uncontrolled charging (every EV at max power until full)."""

from __future__ import annotations

from typing import Any

import numpy as np

from optimiser.energy.arrays import EnergyArrays

OVER_LIMIT_TOLERANCE_KW = 1e-6
SERVED_TOLERANCE_KWH = 1e-3


def feeder_load(
    arrays: EnergyArrays, power: np.ndarray, battery_by_feeder: np.ndarray
) -> np.ndarray:
    """(F, H) net load in kW: base − PV + EV charging + battery charging."""
    return arrays.base - arrays.pv + arrays.feeder_sum(power) + battery_by_feeder


def plan_figures(
    arrays: EnergyArrays, power: np.ndarray, battery_by_feeder: np.ndarray
) -> dict[str, float]:
    """delivered, within limit, served, peak, over-limit slots, import, cost (and carbon)."""
    dt = arrays.slot_hours
    load = feeder_load(arrays, power, battery_by_feeder)
    delivered = power.sum(axis=1) * dt
    ev_on_feeder = arrays.feeder_sum(power)
    within = np.minimum(ev_on_feeder, arrays.headroom).sum() * dt
    over = load > arrays.limit + OVER_LIMIT_TOLERANCE_KW
    imported = np.maximum(load, 0.0)
    served = delivered >= arrays.energy - SERVED_TOLERANCE_KWH
    figures = {
        "delivered_kwh": float(delivered.sum()),
        "delivered_within_limit_kwh": float(within),
        "sessions_served": int(served.sum()),
        "peak_kw": float(load.max()) if load.size else 0.0,
        "slots_over_limit": int(over.sum()),
        "minutes_over_limit": float(over.sum() * dt * 60),
        "grid_import_kwh": float(imported.sum() * dt),
        "cost": float((imported * arrays.price).sum() * dt),
    }
    if arrays.carbon is not None:
        figures["carbon_kg"] = float((imported * arrays.carbon).sum() * dt / 1000)
    return {key: round(value, 4) for key, value in figures.items()}


def compare(plan: dict[str, float], baseline: dict[str, float]) -> dict[str, Any]:
    """Each KPI as {plan, baseline}."""
    return {key: {"plan": plan[key], "baseline": baseline[key]} for key in plan}


def kpis(
    arrays: EnergyArrays,
    power: np.ndarray,
    battery_by_feeder: np.ndarray,
    baseline_power: np.ndarray,
) -> dict[str, Any]:
    """The plan against uncontrolled charging, plus the totals both share."""
    idle = np.zeros_like(battery_by_feeder)
    result = compare(
        plan_figures(arrays, power, battery_by_feeder),
        plan_figures(arrays, baseline_power, idle),
    )
    result["requested_kwh"] = float(arrays.energy.sum())
    result["sessions"] = len(arrays.session_ids)
    return result
