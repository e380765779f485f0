"""The vectorised giant-tour search: each move it makes is feasible and priced right."""

from __future__ import annotations

import random

import numpy as np
import pytest

from optimiser.mobility import tour_search as ts
from optimiser.mobility.generate import static_instance
from tests.optimiser.mobility.brute import brute_force_optimum


def _route_ok(route: list[int], changes: list[int], capacity: int) -> bool:
    return any(
        all(
            0 <= start + sum(changes[n] for n in route[: k + 1]) <= capacity
            for k in range(len(route))
        )
        for start in range(capacity + 1)
    )


@pytest.mark.parametrize(
    ("seed", "capacity", "balanced"), [(1, 10, True), (2, 14, False), (3, 25, True)]
)
def test_every_move_keeps_capacity_and_its_predicted_cost(
    seed: int, capacity: int, balanced: bool
) -> None:
    problem = static_instance(30, seed, capacity=capacity, balanced=balanced)
    changes, cost = problem.changes, np.array(problem.travel_cost)
    tours = ts.GiantTour(problem.travel_cost, changes, capacity)
    tour = ts.GiantTour.from_routes([[i] for i in range(1, 31)])
    rng = random.Random(seed)
    moves = 0
    for _ in range(15):
        for _ in range(200):
            state = ts._State(tours, tour)
            options = [state.or_opt(k) for k in (1, 2, 3)] + [state.two_opt(), state.merge()]
            delta, make = min(options, key=lambda m: m[0])
            if delta >= 0 or make is None:
                break
            new = ts._clean(make())
            routes = ts.GiantTour.to_routes(new)
            assert sorted(n for r in routes for n in r) == list(range(1, 31))
            assert all(_route_ok(r, changes, capacity) for r in routes)
            before = int(cost[tour, np.roll(tour, -1)].sum())
            after = int(cost[new, np.roll(new, -1)].sum())
            assert after - before == delta
            tour, moves = new, moves + 1
        tour = tours.kick(tour, rng)
        assert all(_route_ok(r, changes, capacity) for r in ts.GiantTour.to_routes(tour))
    assert moves > 30


@pytest.mark.parametrize("seed", [41, 42])
def test_search_from_singletons_reaches_the_optimum_on_tiny_instances(seed: int) -> None:
    problem = static_instance(7, seed, capacity=12)
    optimum = brute_force_optimum(problem.travel_cost, problem.changes, 12)
    routes, _ = ts.tour_search(
        problem.travel_cost, problem.changes, 12, [[i] for i in range(1, 8)], 1.0, seed
    )
    assert sorted(n for r in routes for n in r) == list(range(1, 8))
    path_cost = sum(
        sum(problem.travel_cost[a][b] for a, b in zip([0, *r], [*r, 0], strict=True))
        for r in routes
    )
    assert path_cost == optimum
