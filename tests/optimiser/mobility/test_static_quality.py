"""The night run reaches the optimum on instances small enough to enumerate."""

from __future__ import annotations

import json

import pytest

from optimiser.mobility.generate import static_instance
from optimiser.mobility.io import static_answer
from optimiser.mobility.routes import total_cost
from optimiser.mobility.static.bound import lp_bound
from optimiser.mobility.static.routing import RoutingModel
from optimiser.mobility.static.search import iterated_search
from tests.optimiser.mobility.brute import brute_force_optimum
from tests.optimiser.mobility.checks import check_static_answer

# (stations, seed, capacity, max change, balanced, fleet): tight and loose capacities,
# balanced and unbalanced totals, unlimited and limited fleets.
CASES = [
    (3, 1, 10, 8, True, None),
    (4, 2, 8, 8, False, None),
    (5, 3, 12, 10, True, None),
    (5, 4, 10, 9, False, 2),
    (6, 5, 15, 10, True, None),
    (6, 6, 9, 9, False, None),
    (6, 7, 20, 10, False, 1),
    (7, 8, 15, 10, True, None),
    (7, 9, 10, 10, False, None),
    (7, 10, 25, 10, True, 2),
    (6, 12, 10, 10, False, 2),  # infeasible: the fleet is too small
    (6, 54, 10, 9, False, 1),  # the fleet binds: one van costs more than two
]


@pytest.mark.parametrize(("stations", "seed", "capacity", "max_change", "balanced", "fleet"), CASES)
def test_solver_reaches_the_brute_force_optimum(
    stations: int, seed: int, capacity: int, max_change: int, balanced: bool, fleet: int | None
) -> None:
    problem = static_instance(
        stations,
        seed,
        capacity=capacity,
        max_change=max_change,
        balanced=balanced,
        fleet_size=fleet,
    )
    optimum = brute_force_optimum(problem.travel_cost, problem.changes, capacity, fleet)
    answer = static_answer(problem, time_limit=5.0)
    if optimum is None:
        assert answer["status"] == "failed"
        assert answer["routes"] == [] and answer["objective"] is None
        json.dumps(answer, allow_nan=False)
        return
    assert answer["status"] == "optimal"
    assert check_static_answer(problem, answer) == optimum


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_routing_search_alone_reaches_the_optimum(seed: int) -> None:
    problem = static_instance(7, seed, capacity=12, balanced=seed % 2 == 0)
    optimum = brute_force_optimum(problem.travel_cost, problem.changes, 12)
    model = RoutingModel(problem.travel_cost, problem.changes, 12, 7)
    routes, _ = iterated_search(model, 2.0, seed)
    assert routes is not None
    assert total_cost(problem.travel_cost, routes) == optimum


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_lp_bound_never_exceeds_the_optimum(seed: int) -> None:
    problem = static_instance(7, seed, capacity=10)
    optimum = brute_force_optimum(problem.travel_cost, problem.changes, 10)
    assert optimum is not None
    bound = lp_bound(problem.travel_cost, problem.changes, 10, None, 5.0)
    assert 0 < bound <= optimum + 1e-6


def test_larger_instance_gets_feasible_routes_and_a_valid_bound() -> None:
    problem = static_instance(40, 31, capacity=20)
    answer = static_answer(problem, time_limit=3.0)
    assert answer["status"] in ("optimal", "feasible")
    check_static_answer(problem, answer)
    assert 0 < answer["best_bound"] <= answer["objective"]
    assert answer["kpis"]["stations_rebalanced"] == 40
