"""The giant-tour search with don't-look bits: every move it makes is feasible and priced
right, and it reaches the brute-force optimum on tiny instances."""

from __future__ import annotations

import random

import pytest

from optimiser.mobility import fast_search as fs
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


def _cost(cost: list[list[int]], routes: list[list[int]]) -> int:
    return sum(sum(cost[a][b] for a, b in zip([0, *r], [*r, 0], strict=True)) for r in routes)


@pytest.mark.parametrize(
    ("seed", "capacity", "balanced"), [(1, 10, True), (2, 14, False), (3, 25, True)]
)
def test_every_move_and_kick_keeps_stations_and_capacity(
    seed: int, capacity: int, balanced: bool
) -> None:
    problem = static_instance(30, seed, capacity=capacity, balanced=balanced)
    changes, cost = problem.changes, problem.travel_cost
    tours = fs.FastTour(cost, changes, capacity)
    tour = tours.from_routes([[i] for i in range(1, 31)])
    rng = random.Random(seed)
    moves = 0
    for _ in range(40):
        for v in range(1, 31):
            index = fs._Index(tours, tour)
            found = tours._improve(tour, index, v) or tours._merge(tour)
            if found is None:
                continue
            new = fs._clean(found[0])
            routes = tours.to_routes(new)
            assert sorted(n for r in routes for n in r) == list(range(1, 31))
            assert all(_route_ok(r, changes, capacity) for r in routes)
            # Each move is applied only when it lowers the cost.
            assert _cost(cost, routes) < _cost(cost, tours.to_routes(tour))
            tour, moves = new, moves + 1
        tour, _ = tours.kick(tour, rng)
        routes = tours.to_routes(tour)
        assert sorted(n for r in routes for n in r) == list(range(1, 31))
        assert all(_route_ok(r, changes, capacity) for r in routes)
    assert moves > 30


@pytest.mark.parametrize("seed", [41, 42, 44])
def test_search_from_singletons_reaches_the_optimum_on_tiny_instances(seed: int) -> None:
    problem = static_instance(7, seed, capacity=12, balanced=seed % 2 == 1)
    optimum = brute_force_optimum(problem.travel_cost, problem.changes, 12)
    routes, _ = fs.fast_search(
        problem.travel_cost, problem.changes, 12, [[i] for i in range(1, 8)], 0.5, seed, slack=0.05
    )
    assert sorted(n for r in routes for n in r) == list(range(1, 8))
    assert all(_route_ok(r, problem.changes, 12) for r in routes)
    assert _cost(problem.travel_cost, routes) == optimum


def test_a_descent_ends_in_a_local_optimum_of_or_opt_checked_by_enumeration() -> None:
    problem = static_instance(12, 5, capacity=15)
    changes, cost = problem.changes, problem.travel_cost
    tours = fs.FastTour(cost, changes, 15)
    tour = tours.descend(tours.from_routes([[i] for i in range(1, 13)]))
    base = _cost(cost, tours.to_routes(tour))
    # No single station moved anywhere (within the giant tour) gives a cheaper feasible
    # tour next to one of its nearest stations: enumerate every such insertion.
    for v in range(1, 13):
        rest = [x for x in tour if x != v]
        for at in range(1, len(rest)):
            if rest[at - 1] not in tours.near[v] and rest[at] not in tours.near[v]:
                continue
            candidate = fs._clean([*rest[:at], v, *rest[at:]])
            routes = tours.to_routes(candidate)
            if all(_route_ok(r, changes, 15) for r in routes):
                assert _cost(cost, routes) >= base


@pytest.mark.parametrize("split_share", [0.0, 1.0])
def test_kicks_keep_every_station_and_the_capacity(split_share: float) -> None:
    # Capacity 30 with changes of ±10: one route can hold every station, and most kicks
    # of a single route stay single routes unless they are made to split.
    problem = static_instance(40, 9, capacity=30)
    tours = fs.FastTour(problem.travel_cost, problem.changes, 30)
    tour = tours.descend(tours.from_routes([[i] for i in range(1, 41)]))
    rng = random.Random(9)
    split = 0
    for _ in range(50):
        kicked, joints = tours.kick(tour, rng, split_share)
        routes = tours.to_routes(kicked)
        assert sorted(n for r in routes for n in r) == list(range(1, 41))
        assert all(_route_ok(r, problem.changes, 30) for r in routes)
        assert set(joints) <= set(tour)
        split += kicked.count(0) > tour.count(0)
    assert split == 50 if split_share == 1.0 else split < 25
