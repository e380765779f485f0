"""The energy LP against independent optima: max-flow for energy, hand-worked cost and peak."""

from __future__ import annotations

import numpy as np
import pytest

from optimiser.energy import EnergyProblem, solve
from optimiser.energy.arrays import EnergyArrays
from optimiser.energy.greedy import greedy_plan
from tests.optimiser.energy.instances import max_deliverable_kwh, random_problem

TOLERANCE_KW = 1e-6


def assert_keeps_limits(problem: EnergyProblem, power: np.ndarray) -> None:
    """Every set-point within its window and max power, every feeder under its limit
    wherever base load alone leaves it room."""
    arrays = EnergyArrays.from_problem(problem)
    assert power.min() >= 0
    assert np.all(power <= arrays.max_power[:, None] + TOLERANCE_KW)
    assert np.all(power[~arrays.window] == 0)
    delivered = power.sum(axis=1) * arrays.slot_hours
    assert np.all(delivered <= arrays.energy + 1e-6)
    load = arrays.base - arrays.pv + arrays.feeder_sum(power)
    has_room = arrays.base - arrays.pv <= arrays.limit
    assert np.all(load[has_room] <= arrays.limit[has_room] + TOLERANCE_KW)


@pytest.mark.parametrize("objective", ["cost", "headroom"])
@pytest.mark.parametrize("solver", ["glop", "highs"])
@pytest.mark.parametrize("seed", range(6))
def test_lp_delivers_the_max_flow_optimum(seed: int, solver: str, objective: str) -> None:
    tightness = [0.2, 0.5, 1.0, 3.0][seed % 4]
    problem = random_problem(seed, tightness=tightness)
    plan = solve(problem, time_limit=30, mode=objective, solver=solver)
    assert plan.status == "optimal"
    optimum = max_deliverable_kwh(problem)
    delivered = plan.power.sum() * problem.slot_hours
    assert delivered == pytest.approx(optimum, rel=1e-6, abs=1e-5)
    assert_keeps_limits(problem, plan.power)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_keeps_limits_and_stays_under_the_optimum(seed: int) -> None:
    problem = random_problem(seed, tightness=[0.2, 0.6, 2.0][seed % 3])
    arrays = EnergyArrays.from_problem(problem)
    power = greedy_plan(arrays)
    assert_keeps_limits(problem, power)
    assert power.sum() * arrays.slot_hours <= max_deliverable_kwh(problem) + 1e-6


def test_deadline_passed_falls_back_to_greedy_and_says_so() -> None:
    problem = random_problem(3, tightness=0.3)
    plan = solve(problem, time_limit=0)
    assert plan.fallback
    body = plan.to_json()
    assert body["status"] == "fallback" and body["fallback"] is True
    assert "greedy" in body["message"]
    assert_keeps_limits(problem, plan.power)


def _single_feeder(**overrides: object) -> EnergyProblem:
    data: dict[str, object] = {
        "slot_minutes": 60,
        "horizon_slots": 6,
        "feeders": [{"id": "F", "limit_kw": 100, "base_load_kw": 10}],
        "sessions": [
            {
                "id": "ev",
                "feeder": "F",
                "arrival_slot": 0,
                "departure_slot": 6,
                "energy_kwh": 20,
                "max_power_kw": 10,
            }
        ],
        "peak_price": 0,
    }
    data.update(overrides)
    return EnergyProblem.model_validate(data)


def test_cost_objective_charges_in_the_cheapest_slots() -> None:
    tariff = [0.30, 0.10, 0.25, 0.05, 0.20, 0.40]
    plan = solve(_single_feeder(tariff=tariff))
    # Fractional knapsack by hand: 20 kWh at 10 kW go into the two cheapest hours.
    expected = np.zeros(6)
    expected[[3, 1]] = 10
    np.testing.assert_allclose(plan.power[0], expected, atol=1e-6)


def test_local_solar_comes_first() -> None:
    pv = [0, 0, 30, 30, 0, 0]  # solar beyond the base load: charging then imports nothing
    plan = solve(
        _single_feeder(feeders=[{"id": "F", "limit_kw": 100, "base_load_kw": 10, "pv_kw": pv}])
    )
    np.testing.assert_allclose(plan.power[0], [0, 0, 10, 10, 0, 0], atol=1e-6)
    assert plan.to_json()["kpis"]["grid_import_kwh"]["plan"] == pytest.approx(40, abs=1e-5)


def test_peak_objective_flattens_to_the_lowest_possible_peak() -> None:
    sessions = [
        {"id": f"ev{i}", "feeder": "F", "arrival_slot": 0, "departure_slot": 6,
         "energy_kwh": 12, "max_power_kw": 11}
        for i in range(4)
    ]  # fmt: skip
    plan = solve(_single_feeder(sessions=sessions, peak_price=1.0))
    # 48 kWh over 6 hours on a flat 10 kW base: the peak cannot be under 10 + 8 kW.
    load = plan.to_json()["decisions"]["feeder_load_kw"]["F"]
    assert max(load) == pytest.approx(18, abs=1e-4)


def test_battery_carries_energy_into_a_full_feeder() -> None:
    # No headroom at all while the EV is plugged (slots 3-5): only the battery can feed it.
    # It fills to its 20 kWh before (3 h at 10 kW, 0.9 of it stored: 27 > 20), then gives
    # 20 * 0.9 = 18 kWh out; the EV wants 30 and could take 66.
    limit = [100, 100, 100, 10, 10, 10]
    problem = _single_feeder(
        feeders=[{"id": "F", "limit_kw": limit, "base_load_kw": 10}],
        sessions=[{"id": "ev", "feeder": "F", "arrival_slot": 3, "departure_slot": 6,
                   "energy_kwh": 30, "max_power_kw": 22}],
        batteries=[{"id": "B", "feeder": "F", "capacity_kwh": 20, "soc_kwh": 0,
                    "max_charge_kw": 10, "max_discharge_kw": 10, "efficiency": 0.9}],
    )  # fmt: skip
    plan = solve(problem)
    assert plan.power.sum() == pytest.approx(18.0, abs=1e-5)
    assert_keeps_limits(problem, np.zeros_like(plan.power))
    body = plan.to_json()
    load = np.array(body["decisions"]["feeder_load_kw"]["F"])
    assert np.all(load <= np.array(limit) + 1e-4)
